"""Integration tests: real ansible-playbook runs against the real lab on 127.0.0.1."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Run:
    rc: int
    stdout: str
    report_dir: Path
    seconds: float

    @property
    def report(self) -> dict:
        return json.loads((self.report_dir / "report.json").read_text())

    def check(self, check_id: str) -> dict:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    @property
    def review(self) -> str:
        return (self.report_dir / "REVIEW-5.md").read_text()


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory) -> Path:
    state = tmp_path_factory.mktemp("lab")
    yield state
    subprocess.run([sys.executable, "-m", "lab", "down", "--state", str(state)], cwd=ROOT,
                   capture_output=True, check=False)


@pytest.fixture(scope="session")
def playbook(lab_dir, tmp_path_factory):
    """Run a playbook of the collection against the session's lab; the lab stays up between runs."""

    def run(name: str = "verify-phase5.yml", *, faults: list[str] | None = None, only: list[str] | None = None,
            extra: dict | None = None, check: bool = False, isolated: bool = False) -> Run:
        """``isolated``: a lab of its own, stopped afterwards (for a fault that leaves the lab changed)."""
        report_dir = Path((extra or {}).get("ccci_report_dir") or tmp_path_factory.mktemp("out"))
        state = tmp_path_factory.mktemp("lab-isolated") if isolated else lab_dir
        evars = {"ccci_lab_state": str(state), "ccci_lab_keep": not isolated, "ccci_lab_faults": faults or [],
                 "ccci_report_dir": str(report_dir), "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5}
        if only is not None:
            evars["ccci_only"] = only
        evars.update(extra or {})
        cmd = [str(BIN / "ansible-playbook"), f"playbooks/{name}", "-e", json.dumps(evars)]
        if check:
            cmd.append("--check")
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PATH=f"{BIN}:{os.environ.get('PATH', '')}")
        started = time.monotonic()
        proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        return Run(proc.returncode, proc.stdout + proc.stderr, report_dir, time.monotonic() - started)

    return run


# The fault matrix: every fault test adds a row (one file per xdist worker, so rows survive -n);
# the table is printed at the end of the session and written to out/faults.md (make faults).
ROWS_DIR = ROOT / "out" / ".fault-rows"


def pytest_sessionstart(session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        shutil.rmtree(ROWS_DIR, ignore_errors=True)
    ROWS_DIR.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def fault_row(request):
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")

    def add(fault: str, check_id: str, run: Run) -> dict:
        try:
            result = run.check(check_id)
        except (OSError, StopIteration, ValueError):
            result = {"verdict": "no report", "diagnosis": run.stdout[-300:]}
        row = [fault, check_id, "FAIL", result["verdict"], (result.get("diagnosis") or "")[:160]]
        with open(ROWS_DIR / f"{worker}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        return result

    return add


def pytest_terminal_summary(terminalreporter) -> None:
    rows = sorted(json.loads(line) for path in ROWS_DIR.glob("*.jsonl") for line in path.read_text().splitlines())
    if not rows:
        return
    lines = ["| fault | check | expected | got | diagnosis |", "|---|---|---|---|---|"]
    lines += [f"| {f} | {c} | {e} | {g} | {d.replace('|', '/')} |" for f, c, e, g, d in rows]
    terminalreporter.write_sep("-", "fault matrix")
    for line in lines:
        terminalreporter.write_line(line)
    (ROOT / "out" / "faults.md").write_text("\n".join(lines) + "\n")
