# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""lab/bin/launch-upgrader.sh with real tmux (a private TMUX_TMPDIR) and a scripted agent."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[2] / "lab" / "bin" / "launch-upgrader.sh"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")

FAKE_AGENT = """#!/bin/bash
echo "fake agent: $*"
echo "token ${GITEA_TOKEN:+is set}"
case "$FAKE_MODE" in
  busy) while [ ! -e "$FAKE_RELEASE" ]; do echo "tick $(date +%s%N)"; sleep 0.2; done ;;
  hang) exec sleep 600 ;;
  build) "$(dirname "$0")/testme-on-pr.sh"; echo "build done" ;;
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
        helper = self.bin / "testme-on-pr.sh"  # waits on a "build": silent, no CPU
        helper.write_text("#!/bin/bash\nsleep 600\n")
        helper.chmod(0o755)
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

    def agent_pid(self) -> int:
        out = subprocess.run(["tmux", "show-options", "-qv", "-t", "=cc-ci-upgrader:", "@ccci_agent_pid"],
                             check=False, env=self.env, capture_output=True, text=True).stdout.strip()
        assert out.isdigit(), out
        return int(out)

    def panes(self) -> list[str]:
        return subprocess.run(["tmux", "list-panes", "-s", "-t", "=cc-ci-upgrader", "-F", "#{pane_id}"], check=False,
                              env=self.env, capture_output=True, text=True).stdout.split()

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
    assert box.status(WEDGE_SECONDS="30") == "cc-ci-upgrader RUNNING"  # just started: quiet, not wedged
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
    # only wedged sessions: an idle one is still replaced (V8a must tell the two apart)
    box.run("fresh", CCCI_LAB_FAULTS="launcher-keeps-wedged")
    box.wait_status("cc-ci-upgrader IDLE")
    idle = box.pane_pid()
    assert "replaced the idle session" in box.run("start", CCCI_LAB_FAULTS="launcher-keeps-wedged").stdout
    assert box.pane_pid() != idle


def test_environment_reaches_the_pane_through_a_running_server(box: Box) -> None:
    # an already running tmux server must not hand the pane its own (stale) environment
    subprocess.run(["tmux", "new-session", "-d", "-s", "other", "sleep 60"], env={**box.env, "MARK": "old"}, check=True)
    agent = box.bin / "env-claude"
    agent.write_text('#!/bin/bash\necho "MARK=$MARK"\n')
    agent.chmod(0o755)
    assert box.run("start", CCCI_AGENT_CMD=str(agent), MARK="new").returncode == 0
    box.wait_status("cc-ci-upgrader IDLE")
    assert "MARK=new" in box.pane()


def _gone(pid: int, timeout: float = 8) -> bool:
    end = time.time() + timeout
    while Path(f"/proc/{pid}").exists() and time.time() < end:
        time.sleep(0.1)
    return not Path(f"/proc/{pid}").exists()


def test_the_token_reaches_the_agent_but_never_an_argv(box: Box) -> None:
    secret = "tok-" + os.urandom(8).hex()
    assert box.run("start", FAKE_MODE="busy", GITEA_TOKEN=secret).returncode == 0
    box.wait_status("cc-ci-upgrader RUNNING")
    assert "token is set" in box.pane()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert secret.encode() not in cmdline.read_bytes(), cmdline
        except OSError:
            continue
    # the 0600 file that carried it is gone once the agent runs
    assert not list(Path(tempfile.gettempdir()).glob("ccci-upgrader-env.*")) or all(
        secret.encode() not in f.read_bytes() for f in Path(tempfile.gettempdir()).glob("ccci-upgrader-env.*"))


def test_an_agent_waiting_on_a_build_is_busy_not_wedged(box: Box) -> None:
    assert box.run("start", FAKE_MODE="build").returncode == 0
    time.sleep(7)  # silent and without CPU for over twice WEDGE_SECONDS, but its helper is in flight
    assert box.status(WEDGE_SECONDS="3") == "cc-ci-upgrader RUNNING"
    out = box.run("start", WEDGE_SECONDS="3")
    assert out.stdout.strip() == "cc-ci-upgrader busy: left alone"
    # a helper older than the build timeout no longer counts as in flight (the supervisor samples each second)
    box.run("fresh", FAKE_MODE="build", BUILD_TIMEOUT="1")
    box.wait_status("cc-ci-upgrader WEDGED", timeout=15, WEDGE_SECONDS="2")


def test_a_stopped_agent_is_wedged_and_replaced_for_good(box: Box) -> None:
    assert box.run("start", FAKE_MODE="busy", UPGRADER_ARGS="--dry-run").returncode == 0
    agent = box.agent_pid()
    os.kill(agent, signal.SIGSTOP)  # alive, silent, no CPU, nothing in flight
    box.wait_status("cc-ci-upgrader WEDGED", timeout=10, WEDGE_SECONDS="1")
    out = box.run("start", WEDGE_SECONDS="1")
    assert "replaced the wedged session" in out.stdout
    assert _gone(agent), "the stopped agent outlived its replacement"


def test_lie_status_says_running(box: Box) -> None:
    box.run("start")
    box.wait_status("cc-ci-upgrader IDLE")
    assert box.status(CCCI_LAB_FAULTS="launcher-status-says-running") == "cc-ci-upgrader RUNNING"


def test_lie_session_exits_after_its_run(box: Box) -> None:
    assert box.run("start", CCCI_LAB_FAULTS="launcher-session-exits").returncode == 0
    box.wait_status("stopped")


def test_lie_start_beside_the_idle_session(box: Box) -> None:
    box.run("start")
    box.wait_status("cc-ci-upgrader IDLE")
    (idle,) = box.panes()
    box.run("start", FAKE_MODE="busy", CCCI_LAB_FAULTS="launcher-start-beside-idle")
    panes = box.panes()
    assert idle in panes and len(panes) == 2


def test_lie_fresh_keeps_a_busy_run(box: Box) -> None:
    box.run("start", FAKE_MODE="busy")
    pid = box.pane_pid()
    out = box.run("fresh", CCCI_LAB_FAULTS="launcher-fresh-keeps-busy")
    assert "left alone" in out.stdout and box.pane_pid() == pid


def test_lie_stop_leaves_the_agent(box: Box) -> None:
    box.run("start", FAKE_MODE="busy", CCCI_LAB_FAULTS="launcher-stop-leaves-agent")
    agent = box.agent_pid()
    box.run("stop", CCCI_LAB_FAULTS="launcher-stop-leaves-agent")
    assert box.status() == "stopped"
    try:
        assert not _gone(agent, timeout=2), "the lie did not leave the agent running"
    finally:
        box.release.touch()
        os.kill(agent, signal.SIGKILL)


def test_lie_passes_with_tests(box: Box) -> None:
    box.run("start", CCCI_LAB_FAULTS="launcher-passes-with-tests")
    box.wait_status("cc-ci-upgrader IDLE")
    assert "fake agent: -p /upgrade-all --with-tests" in box.pane()
