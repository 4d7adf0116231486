# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests: real ansible-playbook runs against the real lab on 127.0.0.1."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
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


def open_prs_by_bot(lab: dict) -> list[str]:
    """The html_url of every open PR in the lab's sandbox repos and cc-ci (``lab``: lab.json)."""
    urls = []
    for repo in lab["poll_repos"] + [lab["ci_repo"]]:
        req = urllib.request.Request(f"{lab['gitea_url']}/api/v1/repos/{repo}/pulls?state=open&limit=50",
                                     headers={"Authorization": f"token {lab['tokens']['bot']}"})
        with urllib.request.urlopen(req, timeout=10) as response:
            urls += [p["html_url"] for p in json.load(response)]
    return urls


def kill_lab_agents(lab_dir) -> None:
    """The agent runs in a session of its own: SIGKILL it too, as a crash of the box would."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
            environ = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        if b"claude" in cmdline and f"CCCI_LAB_STATE={lab_dir}".encode() in environ:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


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
            extra: dict | None = None, check: bool = False, isolated: bool = False, timeout: float = 900) -> Run:
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
        proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if not faults and not check and set(extra or {}) <= {"ccci_report_dir"}:
            _healthy_rows(report_dir)
        return Run(proc.returncode, proc.stdout + proc.stderr, report_dir, time.monotonic() - started)

    return run


# The collection as users get it: `ansible-galaxy collection build`, installed into a temporary
# collections path, the lab package pip-installed from the checkout into a folder of its own; the env
# and the cwd know nothing of the checkout. One full run of the main job from that copy, at -vvv, with
# the lab Gitea recording every exchange at a page cap of 20, serves the installed-use test, the secrets
# grep and the Gitea contract (test_installed.py): each asserts its own thing. The run happens once per pytest session, whatever the xdist workers.
# Local iterations may run a part of the plan (CCCI_INSTALLED_ONLY=V1,V9); make test runs all of it.
INSTALLED_ONLY = [c for c in os.environ.get("CCCI_INSTALLED_ONLY", "").split(",") if c]


@dataclass
class Installed:
    work: Path
    env: dict[str, str]

    @property
    def collection(self) -> Path:
        return self.work / "collections/ansible_collections/coopcloud/cc_ci"

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), cwd=self.work, env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out)],
                   cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)
    (built,) = out.glob("coopcloud-cc_ci-*.tar.gz")
    return built


@pytest.fixture(scope="session")
def installed(artifact, tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    # pip builds in the source folder: a copy keeps build leftovers out of the checkout.
    shutil.copytree(ROOT / "lab", work / "lab-src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([str(BIN / "pip"), "install", "-q", "--no-deps", "--target", str(work / "site"),
                    str(work / "lab-src")], check=True, capture_output=True, text=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CCCI_"))}
    env |= {"ANSIBLE_COLLECTIONS_PATH": str(work / "collections"), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CALLBACKS_ENABLED": "coopcloud.cc_ci.progress",
            "PYTHONPATH": str(work / "site"), "XDG_CACHE_HOME": str(work / "cache"),
            "PATH": f"{BIN}:{env['PATH']}"}
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(work / "collections"),
                    str(artifact)], cwd=work, env=env, check=True, capture_output=True, text=True, timeout=120)
    # What a user writes to run against the lab: the play's group, this machine, locally.
    (work / "inventory.yml").write_text(
        "ccci_box:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    return Installed(work, env)


def tree(folder: Path) -> dict[str, list[int]]:
    """Every file and folder under ``folder`` with its size and mtime (what a run may not change)."""
    return {str(p.relative_to(folder)): [p.stat().st_size, p.stat().st_mtime_ns] for p in folder.rglob("*")}


@dataclass
class InstalledRun:
    """What the installed copy's run left: its output, where its lab and report went, what it recorded."""
    work: str
    returncode: int
    output: str
    seconds: float
    lab_state: str
    lab_bin_dir: str
    report_dir: str
    record: str
    tokens: list[str]
    ps_samples: int
    ps_hits: list[str]
    collection_before: dict
    collection_after: dict

    @property
    def report(self) -> dict:
        return json.loads((Path(self.report_dir) / "report.json").read_text())


def run_installed(installed: Installed) -> InstalledRun:
    """``ansible-playbook -vvv coopcloud.cc_ci.verify_phase5`` from the installed copy, on the default lab
    state and report folders (the user's cache), `ps` sampled all through for command lines holding a token;
    the lab is stopped afterwards (its state folder stays for the tests to read)."""
    from secrets_watch import PsSampler, lab_tokens  # noqa: PLC0415 (a helper module of this folder)

    cache = installed.work / "cache/coopcloud.cc_ci"
    state, record = cache / ".lab", installed.work / "gitea.jsonl"
    evars = {"ccci_lab_keep": True, "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5,
             "ccci_lab_max_response_items": 20}
    if INSTALLED_ONLY:
        evars["ccci_only"] = INSTALLED_ONLY
    before = tree(installed.collection)
    sampler = PsSampler(state)
    sampler.start()
    started = time.monotonic()
    try:
        proc = subprocess.run([str(BIN / "ansible-playbook"), "-vvv", "-i", "inventory.yml",
                               "coopcloud.cc_ci.verify_phase5", "-e", json.dumps(evars)],
                              cwd=installed.work, env=installed.env | {"CCCI_LAB_RECORD": str(record)},
                              capture_output=True, text=True, check=False, timeout=2400)
        seconds = time.monotonic() - started
        tokens = lab_tokens(state)
        try:
            bin_dir = json.loads((state / "lab.json").read_text())["bin_dir"]
        except (OSError, ValueError, KeyError):
            bin_dir = ""
    finally:
        sampler.stop.set()
        sampler.join(timeout=5)
        installed.run(str(BIN / "python"), "-m", "lab", "down", "--state", str(state))
    return InstalledRun(str(installed.work), proc.returncode, proc.stdout + proc.stderr, seconds, str(state),
                        bin_dir, str(cache / "out"), str(record), tokens, sampler.samples, sampler.hits, before,
                        tree(installed.collection))


@pytest.fixture(scope="session")
def installed_run(installed, tmp_path_factory) -> InstalledRun:
    """The one run, shared by every xdist worker of the session (the first to get here runs it, under a
    lock in the session's common temp folder; the others read what it saved)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with open(shared / "installed-run.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = shared / "installed-run.json"
        if not saved.exists():
            saved.write_text(json.dumps(asdict(run_installed(installed))))
        return InstalledRun(**json.loads(saved.read_text()))


# The kill matrix of the mutant catalogue (tests/integration/test_mutants.py): every mutant adds a
# row, one file per xdist worker so rows survive -n; the controller merges them at the end into
# out/mutants.md and out/mutants.json.
OUT = ROOT / "out"
ROWS_DIR = OUT / ".mutant-rows"


# Each check's own seconds in every healthy run the tests make anyway (no fault, default settings: the
# mutants' settings), for scripts/mutant_ratio.py: no check under a mutant may take 3x its healthy time.
HEALTHY_DIR = OUT / ".healthy-rows"
HEALTHY_KEEP = 6 * 3600


def pytest_sessionstart(session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        shutil.rmtree(ROWS_DIR, ignore_errors=True)
        # kept across the sessions of one `make test` (integration, cron, mutants), not from older ones
        for path in HEALTHY_DIR.glob("*.jsonl"):
            if time.time() - path.stat().st_mtime > HEALTHY_KEEP:
                path.unlink(missing_ok=True)
    ROWS_DIR.mkdir(parents=True, exist_ok=True)
    HEALTHY_DIR.mkdir(parents=True, exist_ok=True)


def _healthy_rows(report_dir: Path) -> None:
    rows = []
    for path in sorted((report_dir / "checks").glob("*.json")):
        result = json.loads(path.read_text())
        if result.get("verdict") == "PASS":
            rows.append({"id": result.get("id"), "seconds": result.get("seconds")})
    if rows:
        with open(HEALTHY_DIR / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)


def healthy_times() -> dict[str, list[float]]:
    """Every PASS of each check in this session's healthy runs, in seconds."""
    times: dict[str, list[float]] = {}
    for path in HEALTHY_DIR.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            times.setdefault(row["id"], []).append(row["seconds"])
    return {cid: sorted(secs) for cid, secs in sorted(times.items())}


@pytest.fixture
def healthy_row():
    """Records the PASSes of a healthy run a test made by hand (not through ``playbook``) at the mutants' settings."""
    return _healthy_rows


@pytest.fixture
def mutant_row(request):
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")

    def add(row: dict) -> None:
        with open(ROWS_DIR / f"{worker}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    return add


def kill_matrix() -> tuple[list[dict], str]:
    rows = sorted((json.loads(line) for path in ROWS_DIR.glob("*.jsonl") for line in path.read_text().splitlines()),
                  key=lambda r: (r["component"], r["name"]))
    killed = sum(r["killed"] for r in rows)
    lines = [f"# Mutant kill matrix: {killed} of {len(rows)} killed", "",
             "| mutant | component | targets | killed | seconds | diagnosis |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['component']} | {', '.join(r['targets'])} | {'yes' if r['killed'] else '**NO**'} "
              f"| {r['seconds']:.0f} | {r['diagnosis'][:200].replace('|', '/').replace(chr(10), ' ')} |" for r in rows]
    return rows, "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    healthy = healthy_times()
    if healthy:
        OUT.mkdir(exist_ok=True)
        (OUT / "healthy-checks.json").write_text(json.dumps({"checks": healthy}, indent=2) + "\n")
    rows, table = kill_matrix()
    if not rows:
        return
    terminalreporter.write_sep("-", "mutant kill matrix")
    terminalreporter.write_line(table)
    OUT.mkdir(exist_ok=True)
    (OUT / "mutants.md").write_text(table)
    (OUT / "mutants.json").write_text(json.dumps({"mutants": rows}, indent=2) + "\n")
