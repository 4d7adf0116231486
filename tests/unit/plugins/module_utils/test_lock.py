# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""One run at a time: a live holder is named, a dead one is taken over."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import lock


def test_second_run_is_refused_naming_the_holder(tmp_path) -> None:
    path = str(tmp_path / "run.lock")
    assert lock.acquire(path, os.getpid(), "first")[0] is True
    assert lock.acquire(path, os.getpid(), "first")[0] is False  # re-entrant for the same run
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(lock.LockHeld, match=f"pid {os.getpid()}.*first"):
            lock.acquire(path, sleeper.pid, "second")
    finally:
        sleeper.kill()


def test_lock_of_a_killed_run_is_taken_over(tmp_path) -> None:
    path = str(tmp_path / "run.lock")
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.acquire(path, dead.pid, "killed")
    changed, holder = lock.acquire(path, os.getpid(), "next")
    assert changed and holder["pid"] == os.getpid()
    assert lock.release(path, os.getpid()) and not os.path.exists(path)
    assert lock.release(path, os.getpid()) is False


def test_taking_over_names_the_dead_holder(tmp_path, capsys) -> None:
    import json

    from ansible.module_utils.testing import patch_module_args

    from ansible_collections.coopcloud.cc_ci.plugins.modules import run_lock

    path = str(tmp_path / "run.lock")
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.acquire(path, dead.pid, "killed-run")
    with patch_module_args({"path": path, "owner_pid": os.getpid()}), pytest.raises(SystemExit):
        run_lock.main()
    result = json.loads(capsys.readouterr().out)
    assert result["holder"]["took_over"]["pid"] == dead.pid
    said = lock.took_over_message(path, result["holder"]["took_over"])
    assert f"from a run that is gone: pid {dead.pid} on " in said and "(killed-run) since 20" in said
    # the warning itself reaches the run's output: tests/integration/test_crash.py reads it there


def test_a_box_lock_names_the_controller_and_is_taken_over_only_when_gone(tmp_path) -> None:
    """On a box the lock file is the box's and the pid a controller's: a pid that does not run on the box
    proves nothing; the holder's own controller says it is gone, or its lease runs out."""
    path = str(tmp_path / "run.lock")
    dead = subprocess.Popen(["true"])
    dead.wait()
    first = lock.acquire(path, dead.pid, "laptop-a run", host="laptop-a", lease=3600)[1]
    # another controller: refused although the pid is dead here, the lease named
    with pytest.raises(lock.LockHeld, match=f"pid {dead.pid} on laptop-a .*its lease ends at"):
        lock.acquire(path, 4242, "laptop-b run", host="laptop-b", lease=3600)
    # a stale judgement (not the holder the file holds) takes nothing over
    with pytest.raises(lock.LockHeld):
        lock.acquire(path, 4242, "laptop-b run", host="laptop-b", gone=dict(first, pid=1))
    # laptop-a found its own run dead: the next run (from it) takes the lock over
    changed, holder = lock.acquire(path, 4343, "laptop-a again", host="laptop-a", gone=first)
    assert changed and holder["took_over"]["pid"] == dead.pid and holder["host"] == "laptop-a"
    # a run that crashed on a controller that never came back: its lease ends, any controller takes over
    os.unlink(path)
    lock.acquire(path, 1, "gone for good", host="laptop-c", lease=0.01)
    time.sleep(0.05)
    assert lock.acquire(path, 4444, "laptop-b run", host="laptop-b")[1]["took_over"]["host"] == "laptop-c"
    # release only by its holder: the same pid on another controller is another run
    assert not lock.release(path, 4444, "laptop-z") and lock.release(path, 4444, "laptop-b")
