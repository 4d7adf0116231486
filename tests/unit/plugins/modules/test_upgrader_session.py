# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""upgrader_session against a REAL tmux (private TMUX_TMPDIR): tmux-only sessions, and the lab's
launch-upgrader.sh driving a fake agent."""
from __future__ import annotations

import json
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.tmux import Tmux
from ansible_collections.coopcloud.cc_ci.plugins.modules import upgrader_session

LAUNCHER = Path(__file__).resolve().parents[4] / "lab" / "bin" / "launch-upgrader.sh"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


def run_module(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        upgrader_session.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def tmpdir_tmux():
    path = tempfile.mkdtemp(prefix="ccci-tmux-")
    yield path
    Tmux(tmpdir=path).run(["kill-server"])
    shutil.rmtree(path, ignore_errors=True)


def exe(path: Path, body: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def common(tmpdir_tmux, tmp_path) -> dict:
    return dict(tmux_tmpdir=tmpdir_tmux, state_dir=str(tmp_path / "probe"), sample_seconds=0.4,
                agent_names=["fakeagent"])


def test_command_sessions_check_start_idempotent_stop(common, tmp_path, capsys):
    agent = exe(tmp_path / "fakeagent", '#!/bin/sh\ni=0; while true; do i=$((i+1)); echo "step $i"; sleep 0.1; done\n')
    args = dict(common, command=[agent], chdir=str(tmp_path))

    assert run_module(dict(common), capsys)["status"] == "ABSENT"
    check = run_module(dict(args, state="started", _ansible_check_mode=True), capsys)
    assert check["changed"] is True and check["status"] == "ABSENT"

    started = run_module(dict(args, state="started"), capsys)
    assert started["changed"] is True and started["replaced"] is True and started["status"] == "RUNNING"
    assert started["previous"]["status"] == "ABSENT" and started["evidence"]["agent_pids"]
    assert started["session_id"].startswith("$") and started["pane_pid"]

    again = run_module(dict(args, state="started"), capsys)  # busy: left alone
    assert again["changed"] is False and again["replaced"] is False
    assert (again["session_id"], again["pane_pid"]) == (started["session_id"], started["pane_pid"])

    fresh = run_module(dict(args, state="fresh"), capsys)
    assert fresh["changed"] is True and fresh["pane_pid"] != started["pane_pid"]

    stop_check = run_module(dict(common, state="stopped", _ansible_check_mode=True), capsys)
    assert stop_check["changed"] is True and stop_check["status"] == "RUNNING"
    stopped = run_module(dict(common, state="stopped"), capsys)
    assert stopped["changed"] is True and stopped["status"] == "ABSENT"
    assert run_module(dict(common, state="stopped"), capsys)["changed"] is False


def test_finished_timeout_and_wedged(common, tmp_path, capsys):
    busy = exe(tmp_path / "b" / "fakeagent", "#!/bin/sh\nwhile true; do date +%s%N; sleep 0.1; done\n")
    run_module(dict(common, state="started", command=[busy]), capsys)
    res = run_module(dict(common, state="finished", timeout=1, interval=0.5), capsys)
    assert res["failed"] is True and res["msg"] == "session cc-ci-upgrader still RUNNING after 1s"
    run_module(dict(common, state="stopped"), capsys)

    stuck = exe(tmp_path / "s" / "fakeagent", "#!/bin/sh\necho thinking; sleep 300\n")
    run_module(dict(common, state="started", command=[stuck], name="other"), capsys)
    res = run_module(dict(common, state="finished", name="other", wedge_seconds=0.3, interval=0.2), capsys)
    assert res["failed"] is True and res["status"] == "WEDGED" and "is WEDGED" in res["msg"]
    assert "thinking" in res["pane_text"]


def test_errors(common, tmp_path, capsys):
    res = run_module(dict(common, state="started"), capsys)
    assert res["failed"] is True and "needs launcher (set ccci_launcher) or command" in res["msg"]
    res = run_module(dict(common, state="started", launcher=str(tmp_path / "nope.sh")), capsys)
    assert res["failed"] is True and res["msg"].endswith("set ccci_launcher (option launcher)")
    res = run_module(dict(common, state="finished", timeout=1, interval=0.2), capsys)
    assert res["failed"] is True and res["status"] == "ABSENT"


FAKE_CLAUDE = """#!/bin/sh
# stand-in agent for the launcher: runs a while, writes the /upgrade-all summary, prints RESULT
echo "fakeagent: $*"
sleep "${FAKE_AGENT_SECONDS:-1}"
# held until the test has seen it running (a loaded machine may take longer than the sleep to look)
if [ -n "${FAKE_AGENT_GATE:-}" ]; then while [ ! -e "$FAKE_AGENT_GATE" ]; do sleep 0.1; done; fi
mkdir -p .cc-ci-logs/upgrades
f=".cc-ci-logs/upgrades/upgrade-all-$(date +%s%N).md"
printf '# upgrade-all\\n\\n## PRs to review\\n- none (%s)\\n' "$2" > "$f"
echo "RESULT: SUCCESS"
"""


@pytest.mark.skipif(not LAUNCHER.exists(), reason="lab/bin/launch-upgrader.sh not there yet")
def test_lab_launcher_fresh_finished_start_replaces_idle_stop(common, tmp_path, capsys, monkeypatch):
    root = tmp_path / "root"
    (root / ".cc-ci-logs" / "upgrades").mkdir(parents=True)
    old = root / ".cc-ci-logs" / "upgrades" / "upgrade-all-old.md"
    old.write_text("an older run")
    import os
    os.utime(old, (1_000_000, 1_000_000))
    agent = exe(tmp_path / "bin" / "fakeagent", FAKE_CLAUDE)
    monkeypatch.delenv("CCCI_LAB_STATE", raising=False)
    env = {"CCCI_ROOT": str(root), "CCCI_AGENT_CMD": agent, "CCCI_LAB_FAULTS": "", "UPGRADER_ARGS": "--dry-run",
           "FAKE_AGENT_SECONDS": "1", "FAKE_AGENT_GATE": str(tmp_path / "go"), "GITEA_TOKEN": "tok-abcdef"}
    args = dict(common, launcher=str(LAUNCHER), env=env, root=str(root))

    fresh = run_module(dict(args, state="fresh"), capsys)
    assert "failed" not in fresh, fresh
    assert fresh["changed"] is True and fresh["status"] == "RUNNING"
    (tmp_path / "go").touch()
    assert "cc-ci-upgrader started" in fresh["launcher_output"]
    assert "tok-abcdef" not in json.dumps(fresh)

    done = run_module(dict(args, state="finished", timeout=30, interval=0.3), capsys)
    assert "failed" not in done, done
    assert done["status"] == "IDLE" and done["changed"] is False
    assert (done["session_id"], done["pane_pid"]) == (fresh["session_id"], fresh["pane_pid"])
    assert done["summary_path"] != str(old) and "PRs to review" in done["summary_text"]
    assert "/upgrade-all --dry-run" in done["summary_text"]
    assert "cc-ci-upgrader: idle" in done["pane_text"]

    again = run_module(dict(args, state="started"), capsys)  # idle -> killed and a fresh run
    assert again["replaced"] is True and again["changed"] is True
    assert again["previous"]["status"] == "IDLE" and again["pane_pid"] != done["pane_pid"]

    stopped = run_module(dict(args, state="stopped"), capsys)
    assert stopped["status"] == "ABSENT" and stopped["changed"] is True


@pytest.fixture
def slow_launcher(common, tmp_path, monkeypatch):
    """Module args for the lab launcher over a fake agent that runs 30 s; add env with ``with_env``."""
    root = tmp_path / "root"
    root.mkdir()
    agent = exe(tmp_path / "bin" / "fakeagent", FAKE_CLAUDE)
    monkeypatch.delenv("CCCI_LAB_STATE", raising=False)

    def with_env(**env: str) -> dict:
        base = {"CCCI_ROOT": str(root), "CCCI_AGENT_CMD": agent, "CCCI_LAB_FAULTS": "", "FAKE_AGENT_SECONDS": "30"}
        return dict(common, launcher=str(LAUNCHER), env={**base, **env}, root=str(root))

    return with_env


def test_lab_launcher_seeded_wedge_is_replaced_and_stop_leaves_no_agent(slow_launcher, capsys):
    args = dict(slow_launcher(UPGRADER_ARGS="--dry-run", WEDGE_SECONDS="1"), wedge_seconds=1, interval=0.3,
                launcher_status=True)

    wedged = run_module(dict(args, state="wedged"), capsys)
    assert "failed" not in wedged, wedged
    assert wedged["status"] == "WEDGED" and wedged["frozen"] and wedged["seed_attempts_used"] == 1
    (frozen_agent,) = wedged["current"]["agents"]
    assert "/upgrade-all --dry-run" in " ".join(frozen_agent["argv"])
    # the launcher, asked cold, sees the same wedge by the same rule
    assert wedged["launcher_status"] == "cc-ci-upgrader WEDGED" and wedged["launcher_status_stable"] is True

    started = run_module(dict(args, state="started"), capsys)
    assert started["previous"]["agents"][0]["key"] == frozen_agent["key"]
    assert started["replaced"] is True and started["survivors"] == []  # the stopped agent is gone, not kept
    assert started["current"]["pane_start"] != started["previous"]["pane_start"]
    (new_agent,) = started["current"]["agents"]
    assert new_agent["key"] != frozen_agent["key"]

    stopped = run_module(dict(args, state="stopped"), capsys)
    assert "failed" not in stopped, stopped
    assert stopped["status"] == "ABSENT" and stopped["survivors"] == []
    assert stopped["previous"]["agents"][0]["key"] == new_agent["key"]
    assert stopped["launcher_status"] == "stopped"


@pytest.mark.skipif(not LAUNCHER.exists(), reason="lab/bin/launch-upgrader.sh not there yet")
def test_lab_launcher_stop_that_leaves_the_agent_is_caught(slow_launcher, capsys):
    args = slow_launcher(CCCI_LAB_FAULTS="launcher-stop-leaves-agent")
    started = run_module(dict(args, state="started"), capsys)
    (alive,) = started["current"]["agents"]
    stopped = run_module(dict(args, state="stopped"), capsys)
    try:
        assert stopped["failed"] is True and stopped["status"] == "ABSENT"
        assert stopped["survivors"] == [alive["key"]] and "left the agent process(es)" in stopped["msg"]
    finally:
        import os
        import signal
        os.kill(alive["pid"], signal.SIGKILL)
