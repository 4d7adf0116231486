# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Spans and progress lines of a run, appended to the run's progress file (JSON lines).

A module that waits on a component opens a :class:`Span` naming what it waits for; the span
writes a ``begin`` record, a ``progress`` record at most every ``interval`` seconds and whenever
its state changes, and an ``end`` record. The callback plugin ``coopcloud.cc_ci.progress`` tails
the same file while a task runs and prints the progress lines; it also writes one ``task`` record
per task. ``review_report`` draws the timeline from them and ``make bench`` splits the wall time
into waits on components and the collection's own work.

The file is named by the environment variable ``CCCI_PROGRESS_FILE`` (the callback sets it for
the module processes it starts on the controller). Without it nothing is written: progress is an
observation, never a condition of a module's result, so every write error is swallowed too.
"""
from __future__ import annotations

import atexit
import itertools
import json
import os
import threading
import time
from typing import Any, Callable

ENV = "CCCI_PROGRESS_FILE"
# What a run waits on (components) — everything else is the collection's own work.
WAIT_KINDS = ("build", "bridge", "agent", "helper", "launcher", "deploy", "cron")
# A wait says nothing in its first QUIET seconds (short waits stay off the screen), then a line at
# each change of state and at least every INTERVAL seconds: the first by 7-8 s, so a person sees
# it within 10 s (the callback looks every second; its heartbeat for silent tasks comes later).
DEFAULT_INTERVAL = 7.0
QUIET = 4.0
TICK = 1.0  # how often a span's ticker thread looks

_api = {"calls": 0, "seconds": 0.0, "in_wait": 0.0, "registered": False}
_open_waits = 0
_lock = threading.Lock()
_span_ids = itertools.count(1)  # unique in a process that runs several modules (a worker's loop)


def progress_path() -> str | None:
    return os.environ.get(ENV) or None


def append(record: dict[str, Any], path: str | None = None) -> None:
    """One JSON line, in one write (appends from several processes do not interleave)."""
    path = path or progress_path()
    if not path:
        return
    line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        pass


def read(path: str | None) -> list[dict[str, Any]]:
    """Every record of a progress file; broken lines (a killed writer) are skipped."""
    if not path or not os.path.isfile(path):
        return []
    records = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                records.append(item)
    return records


def flush_api() -> None:
    """Write this process's ``api`` record and start counting afresh (at exit, or after a module run
    in an Ansible worker, which ends without running atexit handlers)."""
    with _lock:
        if _api["calls"]:
            append({"ev": "api", "t": time.time(), "pid": os.getpid(), "calls": _api["calls"],
                    "seconds": round(_api["seconds"], 3), "in_wait": round(_api["in_wait"], 3)})
        _api.update(calls=0, seconds=0.0, in_wait=0.0)


def api_call(seconds: float) -> None:
    """Count one HTTP request (called by the API client); one ``api`` record per process at exit."""
    with _lock:
        _api["calls"] += 1
        _api["seconds"] += seconds
        if _open_waits:
            _api["in_wait"] += seconds
        if not _api["registered"] and progress_path():
            _api["registered"] = True
            atexit.register(flush_api)


class Span:
    """A wait on a component: ``with Span("build", "build #12", note="bridge poll 30 s") as s:``.

    ``state(text)`` says where the wait stands ("running"); the progress line reads
    ``waiting for build #12 (running, 40 s; bridge poll 30 s)``. With ``ticker`` a daemon thread
    calls :meth:`tick` every second, so a wait inside code that cannot call back still reports.
    """

    def __init__(self, kind: str, what: str, *, note: str | None = None, interval: float = DEFAULT_INTERVAL,
                 ticker: bool = True, path: str | None = None, clock: Callable[[], float] | None = None,
                 **attrs: Any) -> None:
        self.kind, self.what, self.note = kind, what, note
        self.interval = interval
        self.path = path or progress_path()
        self.clock = clock or time.time
        self.attrs = attrs
        self.id = f"{os.getpid()}-{next(_span_ids)}"
        self.start = 0.0
        self._entered = False
        self._state: str | None = None
        self._last = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticker = ticker and bool(self.path)
        self.lines = 0

    def line(self) -> str:
        elapsed = max(0.0, self.clock() - self.start)
        inner = ", ".join(x for x in (self._state, f"{elapsed:.0f} s") if x)
        return f"waiting for {self.what} ({inner}{'; ' + self.note if self.note else ''})"

    def _emit(self) -> None:
        self._last = self.clock()
        self.lines += 1
        append({"ev": "progress", "span": self.id, "t": self._last, "kind": self.kind, "text": self.line()},
               self.path)

    def state(self, text: str | None) -> None:
        """Where the wait stands; a change is said at once, otherwise it counts as a tick."""
        with _lock:
            changed = text != self._state
            self._state = text
            if changed and self._entered and self.clock() - self.start >= QUIET:
                self._emit()
        if not changed:
            self.tick()

    def tick(self) -> None:
        with _lock:
            if self.clock() - self._last >= self.interval:
                self._emit()

    def set(self, **attrs: Any) -> None:
        """Facts learnt while waiting (a build number, its status) for the end record."""
        self.attrs.update(attrs)

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            self.tick()

    def __enter__(self) -> Span:
        global _open_waits
        self.start = self._last = self.clock()
        self._entered = True
        with _lock:
            _open_waits += 1
        append({"ev": "begin", "span": self.id, "t": self.start, "kind": self.kind, "what": self.what}, self.path)
        if self._ticker:
            self._thread = threading.Thread(target=self._run, name=f"span-{self.kind}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        global _open_waits
        self._stop.set()
        if self._thread:
            self._thread.join(2.0)
        with _lock:
            _open_waits -= 1
        outcome = "ok" if exc_type is None or (exc_type is SystemExit and not (exc and exc.code)) else "error"
        append({"ev": "end", "span": self.id, "kind": self.kind, "what": self.what, "start": self.start,
                "end": self.clock(), "outcome": outcome, **self.attrs}, self.path)


def closed_spans(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The finished spans (``end`` records) and, for a span that never ended (a killed module),
    its ``begin`` record closed at its last progress line."""
    ended = {r.get("span") for r in records if r.get("ev") == "end"}
    spans = [r for r in records if r.get("ev") == "end"]
    last: dict[str, float] = {}
    for r in records:
        if r.get("ev") in ("begin", "progress"):
            last[r.get("span")] = max(last.get(r.get("span"), 0.0), float(r.get("t") or 0))
    for r in records:
        if r.get("ev") == "begin" and r.get("span") not in ended:
            spans.append({"ev": "end", "span": r["span"], "kind": r.get("kind"), "what": r.get("what"),
                          "start": r.get("t"), "end": last.get(r["span"], r.get("t")), "outcome": "unfinished"})
    return spans


def merged_seconds(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of intervals (overlapping waits count once)."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total
