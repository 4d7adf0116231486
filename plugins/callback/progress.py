# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: progress
type: aggregate
short_description: Say what a long wait is waiting for, and record the run's task spans
version_added: 0.2.0
description:
  - "A module cannot talk to a callback while it runs, so the waiting modules of this collection
    append progress lines to the run's progress file (JSON lines, see C(module_utils/spans.py)) and
    this callback tails that file from a thread while a task runs, printing each line as
    C(V4 ▸ waiting for build #12) followed by its state and seconds, for example C(running, 40 s)."
  - A task that writes no progress line (a host module on a remote box, whose file stays on the box)
    still gets a heartbeat line, C(V8a ▸ still on <task>) with its seconds, after every O(interval)
    seconds of silence, so every wait longer than 10 seconds is visible within 10 seconds.
  - It names the progress file and hands it to the module processes it starts on the controller
    through the environment variable E(CCCI_PROGRESS_FILE); it writes one C(task) record per task
    there (name, check, start, end), from which M(coopcloud.cc_ci.review_report) draws the timeline
    and C(make bench) splits the run into waits and own work.
  - The default stdout callback keeps printing as usual; this one only adds the C(▸) lines.
author: coopcloud.cc_ci developers (@coopcloud)
requirements:
  - enable it in C(callbacks_enabled) (the collection's C(ansible.cfg) does)
options:
  lines:
    description: Print the progress lines; C(false) keeps recording spans but prints nothing.
    type: bool
    default: true
    env:
      - name: CCCI_PROGRESS
    ini:
      - section: callback_coopcloud_cc_ci_progress
        key: lines
  interval:
    description:
      - Seconds of silence after which a heartbeat line is printed for a running task. The waiting
        modules write their own lines every 7 s, so the heartbeat shows only for tasks that write none.
    type: float
    default: 9.0
    env:
      - name: CCCI_PROGRESS_INTERVAL
    ini:
      - section: callback_coopcloud_cc_ci_progress
        key: interval
  file:
    description:
      - The progress file. Default a new temporary file per run, removed when the run ends (the
        report keeps the spans).
    type: path
    env:
      - name: CCCI_PROGRESS_FILE
"""

import json
import os
import re
import tempfile
import threading
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import ENV, append

_ROLE_CHECK = re.compile(r"\bv(\d+a?)_[a-z0-9_]+")
_NAME_CHECK = re.compile(r"(?:^|\| |— |\b)(V\d+a?|CRON)\b")
TICK = 1.0


def check_of(role: str | None, name: str) -> str | None:
    """The check a task belongs to: its role (v4_regression_loop → V4, completion_cron → CRON) or
    the check id its name carries ("V4 | …", "… | V4-persistent", "CRON — …")."""
    match = _ROLE_CHECK.search(role or "")
    if match:
        return f"V{match.group(1)}"
    if role and role.endswith("completion_cron"):
        return "CRON"
    match = _NAME_CHECK.search(name)
    return match.group(1) if match else None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "coopcloud.cc_ci.progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._path: str | None = None
        self._own_file = False
        self._offset = 0
        self._task: dict[str, Any] | None = None
        self._check: str | None = None
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lines = True
        self._interval = 9.0

    # -- set-up and tear-down --------------------------------------------------------------------
    def set_options(self, task_keys: Any = None, var_options: Any = None, direct: Any = None) -> None:
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._lines = bool(self.get_option("lines"))
        self._interval = max(1.0, float(self.get_option("interval")))

    def v2_playbook_on_start(self, playbook: Any) -> None:
        path = self.get_option("file") or os.environ.get(ENV)
        if not path:
            fd, path = tempfile.mkstemp(prefix="ccci-progress-", suffix=".jsonl")
            os.close(fd)
            self._own_file = True
        self._path = path
        # Local module processes fork from this one after this point and inherit it.
        os.environ[ENV] = path
        self._offset = os.path.getsize(path) if os.path.exists(path) else 0
        self._thread = threading.Thread(target=self._tail_loop, name="ccci-progress", daemon=True)
        self._thread.start()

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._end_task(time.time(), "ended")
        self._stop.set()
        if self._thread:
            self._thread.join(2 * TICK)
        self._drain()
        if self._own_file and self._path:
            try:
                os.unlink(self._path)
            except OSError:
                pass

    # -- tasks -----------------------------------------------------------------------------------
    def _start_task(self, task: Any) -> None:
        now = time.time()
        self._end_task(now, "ok")
        role = task._role.get_name() if getattr(task, "_role", None) else None
        name = task.get_name().strip()
        check = check_of(role, name)
        if check:
            self._check = check
        elif not (role or "").endswith("check_support"):
            self._check = None  # outside the checks: target, report, cleanup of the run
        with self._lock:
            self._task = {"name": name, "role": role, "check": self._check, "start": now, "said": now,
                          "action": task.action}

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._start_task(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._start_task(task)

    def _end_task(self, now: float, status: str) -> None:
        with self._lock:
            task, self._task = self._task, None
        if task is None:
            return
        self._drain(task)
        append({"ev": "task", "name": task["name"], "role": task["role"], "check": task["check"],
                "action": task["action"], "start": task["start"], "end": now, "status": status}, self._path)

    def _result(self, status: str) -> None:
        self._end_task(time.time(), status)

    def v2_runner_on_ok(self, result: Any) -> None:
        self._result("ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._result("failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._result("skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._result("unreachable")

    # -- the progress lines ----------------------------------------------------------------------
    def _say(self, text: str, task: dict[str, Any] | None) -> None:
        if task is not None:
            task["said"] = time.time()
        if self._lines:
            label = (task or {}).get("check") or "run"
            self._display.display(f"{label} ▸ {text}")

    def _drain(self, task: dict[str, Any] | None = None) -> None:
        """Print the progress lines written since the last look (the thread and the task's end
        both look; one at a time)."""
        if not self._path:
            return
        with self._drain_lock:
            try:
                with open(self._path, "rb") as handle:
                    handle.seek(self._offset)
                    chunk = handle.read()
            except OSError:
                return
            end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
            self._offset += end
            for raw in chunk[:end].splitlines():
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                if record.get("ev") == "progress" and record.get("text"):
                    self._say(str(record["text"]), task or self._task)
                elif record.get("ev") == "begin" and (task or self._task) is not None:
                    # the task's module began a wait: its own lines follow, no heartbeat before them
                    (task or self._task)["said"] = time.time()

    def _tail_loop(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                task = self._task
            self._drain(task)
            if task is not None:
                now = time.time()
                if now - task["said"] >= self._interval and now - task["start"] >= self._interval:
                    self._say(f"still on {task['name'].split(' : ', 1)[-1]} ({now - task['start']:.0f} s)", task)
