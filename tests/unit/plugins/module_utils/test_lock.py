# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""One run at a time: a live holder is named, a dead one is taken over."""
from __future__ import annotations

import os
import subprocess

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
