# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make run` (scripts/run.sh) as two people would run it at once on one lab: the second is refused
and leaves the first run's lab alone; the first passes and closes its PRs; LAB_KEEP=1 keeps the
lab; an unknown LAB_FAULTS name lists the known ones and runs nothing."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, ROOT, open_prs_by_bot

pytestmark = pytest.mark.slow
FAST = '-e {"ccci_only":["V1","V9"],"ccci_lab_build_seconds":1,"ccci_lab_poll_interval":0.5}'


def make_run(state: Path, out: Path, **env: str) -> subprocess.Popen[str]:
    full = dict(os.environ, LAB_STATE=str(state), REPORT_DIR=str(out), EXTRA=FAST, ANSIBLE_NOCOLOR="1",
                PATH=f"{BIN}:{os.environ['PATH']}", **env)
    full.pop("CCCI_LAB_FAULTS", None)
    return subprocess.Popen(["scripts/run.sh"], cwd=ROOT, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def lab_pid(state: Path) -> int:
    proc = subprocess.run([str(BIN / "python"), "-m", "lab", "status", "--state", str(state)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)["pid"] if proc.returncode == 0 else 0


def test_two_make_runs_at_once(tmp_path: Path) -> None:
    state, out = tmp_path / "lab", tmp_path / "out"
    first = make_run(state, out, LAB_KEEP="1")
    try:
        deadline = time.monotonic() + 180
        while not (lab_pid(state) and (out / ".state" / "run.lock").exists()):  # the first run is under way
            assert first.poll() is None, first.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the first run never took its run lock"
            time.sleep(0.5)
        pid = lab_pid(state)
        second = make_run(state, out)
        said, _err = second.communicate(timeout=120)
        assert second.returncode != 0 and "refused" in said and f"pid {first.pid}" in said, said
        assert "REVIEW-5.md" not in said, said  # it points at no report: it made none
        assert lab_pid(state) == pid, "the refused run touched the first run's lab"

        log, _err = first.communicate(timeout=600)
        assert first.returncode == 0, log[-4000:]
        report = json.loads((out / "report.json").read_text())
        assert {c["id"]: c["verdict"] for c in report["checks"] if c["verdict"] != "SKIP"} == {"V1": "PASS", "V9": "PASS"}
        assert lab_pid(state) == pid, "LAB_KEEP=1 did not keep the lab"
        assert open_prs_by_bot(json.loads((state / "lab.json").read_text())) == []

        review = (out / "REVIEW-5.md").read_bytes()
        bogus = make_run(state, out, LAB_FAULTS="bridge-no-sttaus")
        said, _err = bogus.communicate(timeout=60)
        assert bogus.returncode == 2 and "unknown lab fault(s): bridge-no-sttaus; known:" in said, said
        assert "bridge-no-status" in said and "refused before the playbook ran" in said, said
        assert f"report: {out}" not in said and (out / "REVIEW-5.md").read_bytes() == review
        assert lab_pid(state) == pid
    finally:
        for proc in (first,):
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
        subprocess.run([str(BIN / "python"), "-m", "lab", "down", "--state", str(state)], cwd=ROOT, check=False)


def test_a_run_stops_the_lab_it_started_and_only_that(tmp_path: Path) -> None:
    state, out = tmp_path / "lab", tmp_path / "out"
    try:
        run = make_run(state, out)
        log, _err = run.communicate(timeout=600)
        assert run.returncode == 0, log[-4000:]
        assert lab_pid(state) == 0, "the run left its lab up"
    finally:
        subprocess.run([str(BIN / "python"), "-m", "lab", "down", "--state", str(state)], cwd=ROOT, check=False)
