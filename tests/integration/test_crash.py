# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""kill -9 at three points of a run (during a build wait, during an agent run, during the closing
sweep), each followed by a rerun that leaves nothing of the run open: no PR, no branch, no sandbox
app, no session. One lab for the three (its own: builds of 4 s, so a build wait is long enough to be
killed in), small check selections, and V9-only reruns, to keep it cheap.

The rerun also shows what a crash costs the user: the stale lock is taken over with a line naming
the dead holder, and V9's evidence lists what the start-of-run sweep closed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BIN, ROOT, kill_lab_agents

pytestmark = pytest.mark.slow


def _get(url: str, token: str, scheme: str = "token"):
    req = urllib.request.Request(url, headers={"Authorization": f"{scheme} {token}"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def left_open(lab: dict, branches_before: dict[str, set[str]]) -> dict[str, list[str]]:
    """What is open in the lab that was not there before the runs: PRs, branches, apps, sessions."""
    api, token = f"{lab['gitea_url']}/api/v1", lab["tokens"]["bot"]
    repos = lab["poll_repos"] + [lab["ci_repo"]]
    found: dict[str, list[str]] = {"prs": [], "branches": [], "apps": [], "sessions": []}
    for repo in repos:
        found["prs"] += [p["html_url"] for p in _get(f"{api}/repos/{repo}/pulls?state=open&limit=50", token)]
        names = {b["name"] for b in _get(f"{api}/repos/{repo}/branches?limit=50", token)}
        found["branches"] += [f"{repo}:{b}" for b in sorted(names - branches_before.get(repo, set()))]
    env = dict(os.environ, ABRA_DIR=lab["abra_dir"], CCCI_LAB_STATE=lab["state_dir"])
    stacks = subprocess.run([f"{lab['bin_dir']}/docker", "stack", "ls", "--format", "{{.Name}}"], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    found["apps"] = [s for s in stacks if any(s.startswith(r.replace(".", "_")) for r in lab["sandbox_recipes"])]
    tmux = subprocess.run(["tmux", "ls", "-F", "#{session_name}"], capture_output=True, text=True, check=False,
                          env=dict(os.environ, TMUX_TMPDIR=lab["tmux_tmpdir"]))
    found["sessions"] = tmux.stdout.split() if tmux.returncode == 0 else []
    return {k: v for k, v in found.items() if v}


def branches_now(lab: dict) -> dict[str, set[str]]:
    api, token = f"{lab['gitea_url']}/api/v1", lab["tokens"]["bot"]
    return {repo: {b["name"] for b in _get(f"{api}/repos/{repo}/branches?limit=50", token)}
            for repo in lab["poll_repos"] + [lab["ci_repo"]]}


class Run:
    """ansible-playbook in a process group of its own, its output read line by line as it comes."""

    def __init__(self, state: Path, report_dir: Path, only: list[str]) -> None:
        evars = {"ccci_lab_state": str(state), "ccci_lab_keep": True, "ccci_report_dir": str(report_dir),
                 "ccci_lab_build_seconds": 4, "ccci_lab_poll_interval": 0.5, "ccci_only": only}
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", PATH=f"{BIN}:{os.environ['PATH']}", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([str(BIN / "ansible-playbook"), "playbooks/verify-phase5.yml",
                                      "-e", json.dumps(evars)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until(self, what: str, ready, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended (rc {self.proc.returncode}) before {what}:\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                self.kill(None)
                pytest.fail(f"no {what} within {timeout:.0f} s:\n{self.output[-3000:]}")
            time.sleep(0.1)

    def kill(self, lab_state: Path | None) -> None:
        """kill -9 the whole run (ansible-playbook, its workers, module processes) and the lab's agents."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        if lab_state is not None:
            kill_lab_agents(lab_state)

    def finish(self, timeout: float = 600) -> int:
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return rc


def test_kill_9_at_three_points_then_a_rerun_leaves_nothing_open(tmp_path) -> None:
    state = tmp_path / "lab"
    try:
        first = Run(state, tmp_path / "warmup", ["V1"])  # starts the lab (kept) and proves it healthy
        assert first.finish() == 0, first.output[-3000:]
        lab = json.loads((state / "lab.json").read_text())
        before = branches_now(lab)
        drone = f"{lab['drone_url']}/api/repos/{lab['ci_repo']}/builds"

        def building() -> bool:
            return any(b["status"] in ("pending", "running") for b in _get(drone, lab["tokens"]["drone"], "Bearer"))

        def agent_at_work(report_dir: Path) -> bool:
            ledger = report_dir / ".state" / "ledger.jsonl"
            return ledger.exists() and '"agent_run"' in ledger.read_text() and bool(left_open(lab, before).get("prs"))

        points = {
            "build wait": (["V1", "V9"], building),
            "agent run": (["V3", "V9"], agent_at_work),
            "closing sweep": (["V1", "V9"], None),
        }
        for point, (only, ready) in points.items():
            report_dir = tmp_path / point.replace(" ", "-")
            run = Run(state, report_dir, only)
            if point == "closing sweep":
                run.wait_until("the closing sweep", lambda: "V9 | Close every PR" in run.output)
                time.sleep(0.3)  # inside the sweep: some closes sent, others not
            else:
                run.wait_until(f"a {point}", (lambda r=report_dir: ready(r)) if point == "agent run" else ready)
            run.kill(state)
            time.sleep(1)
            assert (report_dir / ".state" / "run.lock").exists(), f"{point}: the killed run held no lock"

            rerun = Run(state, report_dir, ["V9"])
            assert rerun.finish() == 0, f"{point}: the rerun failed:\n{rerun.output[-3000:]}"
            assert left_open(lab, before) == {}, f"{point}: the rerun left things open"
            assert "took over the run lock" in rerun.output and "from a run that is gone: pid" in rerun.output
            v9 = next(c for c in json.loads((report_dir / "report.json").read_text())["checks"] if c["id"] == "V9")
            assert v9["verdict"] == "PASS", (point, v9)
            assert "closed_at_start" in v9["evidence"], v9["evidence"]
            if point != "closing sweep":  # the killed run's PRs were open: the start-of-run sweep closed them
                assert v9["evidence"]["closed_at_start"], (point, v9["evidence"])
    finally:
        subprocess.run([str(BIN / "python"), "-m", "lab", "down", "--state", str(state)], cwd=ROOT,
                       capture_output=True, check=False)


def test_a_report_file_that_cannot_be_written_still_releases_the_lock(playbook, tmp_path) -> None:
    report_dir = tmp_path / "out"
    (report_dir / "REVIEW-5.md").mkdir(parents=True)  # e.g. a folder a person made by mistake
    run = playbook(only=["V9"], extra={"ccci_report_dir": str(report_dir)})
    assert run.rc != 0
    assert f"the report is incomplete: cannot write {report_dir}/REVIEW-5.md: Is a directory" in run.stdout
    assert not (report_dir / ".state" / "run.lock").exists(), "the run lock is still held"
    assert json.loads((report_dir / "report.json").read_text())["checks"][0]["id"] == "V9"
    assert 'testsuite name="cc-ci phase 5"' in (report_dir / "junit.xml").read_text()
    assert "Traceback" not in run.stdout
