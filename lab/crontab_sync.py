# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The box's provisioning, as far as it touches the crontab: healthy, it leaves the weekly entry alone.

Its lies (the cron mutants ``cron-sync-*``) are those of a config-management run that also owns the
box account's crontab and rewrites it a few seconds after someone else changed it: it re-renders the
entry's hour in another zone (the job fires an hour late), keeps only job lines (the entry loses the
service's PATH and HOME), or re-adds the entry of its own stale copy (two weekly entries). Only this
lab's entry (its job line names the lab's root) is touched, once per entry as installed.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
import time

from lab.config import LabConfig

log = logging.getLogger("lab.crontab_sync")
FAULTS = ("cron-sync-shifts-hour", "cron-sync-drops-variables", "cron-sync-restores-old-entry")
SETTLE = 3.0  # seconds an installed entry stays as written before the sync rewrites it
BEGIN, END = "# BEGIN ccci-upgrade-all", "# END ccci-upgrade-all"


def _read() -> str | None:
    proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def _block(lines: list[str], root: str) -> tuple[int, int, int] | None:
    """(begin, job, end) indexes of this lab's managed block."""
    begin = None
    for i, line in enumerate(lines):
        if line.startswith(BEGIN):
            begin = i
        elif line.strip() == END and begin is not None:
            jobs = [j for j in range(begin + 1, i) if root in lines[j] and not lines[j].startswith("#")]
            if jobs:
                return begin, jobs[0], i
            begin = None
    return None


def _shift_hour(job: str) -> str:
    minute, hour, dom, month, dow, rest = job.split(None, 5)
    later = int(hour) + 1
    if later == 24 and dow.isdigit():
        dow = str((int(dow) + 1) % 7)
    return " ".join([minute, str(later % 24), dom, month, dow, rest])


def rewrite(text: str, root: str, fault: str) -> str | None:
    """The crontab after the sync's lie, or None when this lab's entry is not there."""
    lines = text.rstrip("\n").split("\n")
    found = _block(lines, root)
    if found is None:
        return None
    begin, job, end = found
    if fault == "cron-sync-shifts-hour":
        lines[job] = _shift_hour(lines[job])
    elif fault == "cron-sync-drops-variables":
        lines = lines[:begin + 1] + lines[job:]
    elif fault == "cron-sync-restores-old-entry":  # last week's anchor, twelve hours off: it never fires in a run
        old = re.sub(r"anchor=\S+", "anchor=2026-01-05T03:00:00+00:00", lines[job])
        minute, hour, dom, month, dow, rest = old.split(None, 5)
        lines.insert(end + 1, " ".join([minute, str((int(hour) + 12) % 24), dom, month, dow, rest]))
    return "\n".join(lines) + "\n"


class CrontabSync:
    """A thread that watches the crontab and, under one of FAULTS, rewrites this lab's entry once."""

    def __init__(self, cfg: LabConfig) -> None:
        self.cfg = cfg
        self.fault = next((f for f in FAULTS if cfg.has(f)), None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        if self.fault and shutil.which("crontab"):
            self._thread = threading.Thread(target=self._loop, name="crontab-sync", daemon=True)
            self._thread.start()
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        root = self.cfg.root.rstrip("/") + "/"
        seen, since, done = None, 0.0, set()  # done: the job lines rewritten, and the ones the sync wrote
        while not self._stop.wait(0.5):
            text = _read()
            lines = (text or "").rstrip("\n").split("\n")
            found = _block(lines, root)
            if found is None or lines[found[1]] in done:
                continue
            if text != seen:  # the entry as just installed: let it settle first, as a timer-driven sync would
                seen, since = text, time.monotonic()
                continue
            if time.monotonic() - since < SETTLE:
                continue
            after = rewrite(text or "", root, self.fault or "")
            if after is not None and after != text:
                subprocess.run(["crontab", "-"], input=after, text=True, capture_output=True, check=False)
                done.add(lines[found[1]])
                new = after.rstrip("\n").split("\n")
                done.update(new[i] for i in [(_block(new, root) or (0, 0, 0))[1]])
                log.info("crontab sync (%s) rewrote the weekly entry", self.fault)
