"""lab/bin/launch-upgrader.sh with real tmux (a private TMUX_TMPDIR) and a scripted agent."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[2] / "lab" / "bin" / "launch-upgrader.sh"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")

FAKE_AGENT = """#!/bin/bash
echo "fake agent: $*"
case "$FAKE_MODE" in
  busy) while [ ! -e "$FAKE_RELEASE" ]; do echo "tick $(date +%s%N)"; sleep 0.2; done ;;
  hang) exec sleep 600 ;;
esac
echo "## PRs to review"
echo "- none"
echo "RESULT: DONE"
"""


class Box:
    def __init__(self, tmp: Path) -> None:
        self.tmux = Path(tempfile.mkdtemp(prefix="ccci-tm-"))
        self.root = tmp / "srv" / "cc-ci"
        self.root.mkdir(parents=True)
        self.bin = tmp / "bin"
        self.bin.mkdir()
        agent = self.bin / "fake-claude"
        agent.write_text(FAKE_AGENT)
        agent.chmod(0o755)
        self.release = tmp / "release"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "CCCI_"))}
        self.env.update(TMUX_TMPDIR=str(self.tmux), CCCI_ROOT=str(self.root), CCCI_AGENT_CMD=str(agent),
                        CCCI_LAB_FAULTS="", FAKE_RELEASE=str(self.release), FAKE_MODE="quick")

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(LAUNCHER), *args], check=False, env={**self.env, **env}, capture_output=True, text=True,
                              timeout=60)

    def status(self, **env: str) -> str:
        out = self.run("status", **env)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == 1, out.stdout
        return lines[0]

    def wait_status(self, want: str, timeout: float = 15, **env: str) -> str:
        end = time.time() + timeout
        got = ""
        while time.time() < end:
            got = self.status(**env)
            if got == want:
                return got
            time.sleep(0.2)
        raise AssertionError(f"status stayed {got!r}, wanted {want!r}")

    def pane(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", "=cc-ci-upgrader:"], check=False, env=self.env,
                              capture_output=True, text=True).stdout

    def pane_pid(self) -> str:
        return subprocess.run(["tmux", "display-message", "-p", "-t", "=cc-ci-upgrader:", "#{pane_pid}"],
                              check=False, env=self.env, capture_output=True, text=True).stdout.strip()

    def log(self) -> list[str]:
        path = self.root / ".cc-ci-logs" / "upgrades" / "launcher.log"
        return [line.split(" ", 1)[1] for line in path.read_text().splitlines()] if path.exists() else []

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], check=False, env=self.env, capture_output=True)
        shutil.rmtree(self.tmux, ignore_errors=True)


@pytest.fixture
def box(tmp_path: Path):
    b = Box(tmp_path)
    yield b
    b.close()


def test_status_stopped_and_usage(box: Box) -> None:
    assert box.status() == "stopped"
    bad = box.run("bogus")
    assert bad.returncode == 2 and "usage" in bad.stderr
    assert box.run("stop").stdout.strip() == "stopped"


def test_refuses_with_tests(box: Box) -> None:
    out = box.run("start", UPGRADER_ARGS="--dry-run --with-tests")
    assert out.returncode == 2
    assert "--with-tests" in out.stderr
    assert box.status() == "stopped"


def test_missing_agent_fails_clearly(box: Box) -> None:
    out = box.run("start", CCCI_AGENT_CMD="no-such-claude-here")
    assert out.returncode == 1
    assert "no-such-claude-here" in out.stderr and "not found" in out.stderr
    assert box.status() == "stopped"


def test_runs_to_completion_then_stays_idle_with_the_summary(box: Box) -> None:
    out = box.run("start", UPGRADER_ARGS="--dry-run")
    assert out.returncode == 0, out.stderr
    box.wait_status("cc-ci-upgrader IDLE")
    pane = box.pane()
    assert 'fake agent: -p /upgrade-all --dry-run' in pane
    assert "## PRs to review" in pane and "cc-ci-upgrader: idle" in pane
    time.sleep(0.5)
    assert box.status() == "cc-ci-upgrader IDLE"  # does not self-terminate
    assert box.log() == ["start: launched"]
    transcripts = list((box.root / ".cc-ci-logs" / "upgrades").glob("upgrader-*.log"))
    assert transcripts and "RESULT: DONE" in transcripts[0].read_text()


def test_busy_is_left_alone_idle_is_replaced(box: Box) -> None:
    assert box.run("start", FAKE_MODE="busy").returncode == 0
    assert box.status() == "cc-ci-upgrader RUNNING"
    pid = box.pane_pid()
    out = box.run("start")
    assert out.stdout.strip() == "cc-ci-upgrader busy: left alone"
    assert box.pane_pid() == pid and box.status() == "cc-ci-upgrader RUNNING"
    box.release.touch()
    box.wait_status("cc-ci-upgrader IDLE")
    out = box.run("start")
    assert "replaced the idle session" in out.stdout
    assert box.pane_pid() != pid
    box.wait_status("cc-ci-upgrader IDLE")
    assert box.log() == ["start: launched", "start: busy", "start: replaced-idle"]


def test_wedged_is_detected_and_replaced(box: Box) -> None:
    assert box.run("start", FAKE_MODE="hang").returncode == 0
    assert box.status(WEDGE_SECONDS="2") == "cc-ci-upgrader RUNNING"
    box.wait_status("cc-ci-upgrader WEDGED", timeout=10, WEDGE_SECONDS="2")
    assert box.status() == "cc-ci-upgrader RUNNING"  # within the default 900 s it is only quiet
    out = box.run("start", WEDGE_SECONDS="2")
    assert "replaced the wedged session" in out.stdout
    assert box.log()[-1] == "start: replaced-wedged"


def test_stop_kills_the_agent(box: Box) -> None:
    assert box.run("start", FAKE_MODE="hang").returncode == 0
    agent = subprocess.run(["tmux", "show-options", "-qv", "-t", "=cc-ci-upgrader:", "@ccci_agent_pid"],
                           check=False, env=box.env, capture_output=True, text=True).stdout.strip()
    assert agent.isdigit()
    assert box.run("stop").stdout.strip() == "cc-ci-upgrader stopped"
    assert box.status() == "stopped"
    end = time.time() + 5
    while Path(f"/proc/{agent}").exists() and time.time() < end:
        time.sleep(0.1)
    assert not Path(f"/proc/{agent}").exists()


def test_fresh_always_restarts(box: Box) -> None:
    assert box.run("start", FAKE_MODE="busy").returncode == 0
    pid = box.pane_pid()
    assert "fresh" in box.run("fresh").stdout
    assert box.pane_pid() != pid
    box.wait_status("cc-ci-upgrader IDLE")


def test_fault_kills_busy(box: Box) -> None:
    assert box.run("start", FAKE_MODE="busy").returncode == 0
    pid = box.pane_pid()
    box.run("start", CCCI_LAB_FAULTS="launcher-kills-busy")
    assert box.pane_pid() != pid


def test_fault_keeps_wedged(box: Box) -> None:
    assert box.run("start", FAKE_MODE="hang").returncode == 0
    pid = box.pane_pid()
    box.wait_status("cc-ci-upgrader WEDGED", timeout=10, WEDGE_SECONDS="1")
    out = box.run("start", WEDGE_SECONDS="1", CCCI_LAB_FAULTS="launcher-keeps-wedged")
    assert "left alone" in out.stdout and box.pane_pid() == pid


def test_environment_reaches_the_pane_through_a_running_server(box: Box) -> None:
    # an already running tmux server must not hand the pane its own (stale) environment
    subprocess.run(["tmux", "new-session", "-d", "-s", "other", "sleep 60"], env={**box.env, "MARK": "old"}, check=True)
    agent = box.bin / "env-claude"
    agent.write_text('#!/bin/bash\necho "MARK=$MARK"\n')
    agent.chmod(0o755)
    assert box.run("start", CCCI_AGENT_CMD=str(agent), MARK="new").returncode == 0
    box.wait_status("cc-ci-upgrader IDLE")
    assert "MARK=new" in box.pane()
