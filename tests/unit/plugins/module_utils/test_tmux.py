# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tmux wrapper and SessionProbe against a REAL tmux server in a private TMUX_TMPDIR."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.tmux import (
    ABSENT,
    IDLE,
    RUNNING,
    WEDGED,
    SessionProbe,
    Tmux,
    freeze_tree,
    process_tree,
    read_proc,
)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


@pytest.fixture
def tmux():
    tmpdir = tempfile.mkdtemp(prefix="ccci-tmux-")  # short: tmux sockets have a path length limit
    t = Tmux(tmpdir=tmpdir)
    yield t
    t.run(["kill-server"])
    shutil.rmtree(tmpdir, ignore_errors=True)


@pytest.fixture
def agent(tmp_path: Path) -> str:
    """An executable named `fakeagent`; its behaviour is the shell snippet in $1."""
    path = tmp_path / "fakeagent"
    path.write_text('#!/bin/sh\neval "$1"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def probe(tmux, name, tmp_path, **kw) -> SessionProbe:
    kw.setdefault("sample_seconds", 0.6)
    kw.setdefault("wedge_seconds", 60)
    kw.setdefault("agent_names", ["fakeagent"])
    return SessionProbe(tmux, name, state_dir=str(tmp_path / "state"), **kw)


def wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_session_lifecycle_env_cwd_capture(tmux, tmp_path):
    assert not tmux.has_session("s1") and tmux.panes("s1") == []  # no server yet: not an error
    tmux.new_session("s1", "echo foo=$FOO; pwd; sleep 30", env={"FOO": "bar"}, cwd=str(tmp_path))
    assert tmux.has_session("s1") and not tmux.has_session("s")  # exact names, no prefix match
    assert wait_for(lambda: "foo=bar" in tmux.capture("=s1:"))
    assert str(tmp_path) in tmux.capture("=s1:")
    (pane,) = tmux.panes("s1")
    assert pane.pane_pid > 0 and not pane.dead and pane.session_id.startswith("$")
    assert os.environ.get("TMUX_TMPDIR") != tmux.tmpdir and Path(tmux.tmpdir).is_dir()
    tree = process_tree(pane.pane_pid)
    assert tree[0].pid == pane.pane_pid and any(p.comm == "sleep" for p in tree)
    assert tmux.kill_session("s1") is True
    assert tmux.kill_session("s1") is False and not tmux.has_session("s1")


def test_absent(tmux, tmp_path):
    p = probe(tmux, "nothing", tmp_path).probe()
    assert p.status == ABSENT and p.identity is None
    tmux.new_session("other", "sleep 30")
    assert probe(tmux, "nothing", tmp_path).probe().status == ABSENT


def test_idle_shell_and_idle_after_agent_exit(tmux, tmp_path, agent):
    tmux.new_session("plain", "sh")  # an interactive shell, nothing else
    p = probe(tmux, "plain", tmp_path, agent_names=None).probe()
    assert p.status == IDLE and p.evidence["agent_pids"] == []
    # the lab's shape: the agent ran, the pane stays with `sleep infinity` and the summary visible
    tmux.new_session("done", [agent, "echo summary: 2 PRs; exit 0"])
    tmux.run(["set-option", "-t", "=done:", "remain-on-exit", "on"])
    tmux.new_session("after", f"{agent} 'echo summary: 1 PR'; exec sleep 300")
    assert wait_for(lambda: "summary: 1 PR" in tmux.capture("=after:"))
    p = probe(tmux, "after", tmp_path).probe()
    assert p.status == IDLE and p.pane_pid and "summary: 1 PR" in p.evidence["pane_tail"]
    assert p.evidence["pane_current_command"] == "sleep"


def test_running_on_output(tmux, tmp_path, agent):
    tmux.new_session("busy", [agent, "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done"])
    p = probe(tmux, "busy", tmp_path).probe()
    assert p.status == RUNNING and p.evidence["pane_changed"] is True
    assert p.evidence["agent_pids"] and "fakeagent" in p.evidence["agent_commands"][0]


def test_running_on_cpu_without_output(tmux, tmp_path, agent):
    tmux.new_session("cpu", [agent, "echo thinking; while :; do :; done"])
    assert wait_for(lambda: "thinking" in tmux.capture("=cpu:"))
    p = probe(tmux, "cpu", tmp_path, wedge_seconds=0.1).probe()
    assert p.status == RUNNING and p.evidence["pane_changed"] is False
    assert p.evidence["cpu_ticks_delta"] > 0


def test_wedged_and_remembered_between_probes(tmux, tmp_path, agent):
    tmux.new_session("stuck", [agent, "echo working; sleep 300"])
    assert wait_for(lambda: "working" in tmux.capture("=stuck:"))
    # tiny threshold: quiet for the whole sample is enough
    p = probe(tmux, "stuck", tmp_path / "a", wedge_seconds=0.5, sample_seconds=0.6).probe()
    assert p.status == WEDGED and p.evidence["cpu_ticks_delta"] == 0 and p.evidence["pane_changed"] is False
    # a threshold longer than one sample: the first probe says RUNNING, a later one remembers the
    # quiet time from the state file and says WEDGED
    slow = probe(tmux, "stuck", tmp_path / "b", wedge_seconds=1.5, sample_seconds=0.3)
    first = slow.probe()
    assert first.status == RUNNING and first.evidence["seconds_since_change"] < 1.5
    time.sleep(1.3)
    second = slow.probe()
    assert second.status == WEDGED and second.evidence["seconds_since_change"] >= 1.5
    assert second.identity == first.identity
    # the idle prompt of an agent that stays up counts as IDLE, not WEDGED
    assert probe(tmux, "stuck", tmp_path / "c", wedge_seconds=0.1, idle_pattern=r"^working$").probe().status == IDLE


def test_a_helper_in_flight_is_never_wedged_until_the_build_timeout(tmux, tmp_path, agent):
    # the agent waits on a build through the helper: silent, no CPU, for longer than wedge_seconds
    helper = tmp_path / "testme-on-pr.sh"
    helper.write_text("#!/bin/sh\nsleep 300; exit 0\n")
    helper.chmod(0o755)
    tmux.new_session("waits", [agent, f"echo waiting on a build; {helper}"])
    assert wait_for(lambda: "waiting on a build" in tmux.capture("=waits:"))
    waiting = probe(tmux, "waits", tmp_path / "a", wedge_seconds=0.3, sample_seconds=0.5).probe()
    assert waiting.status == RUNNING
    assert [f["command"].split()[-1] for f in waiting.evidence["in_flight"]] == [str(helper)]
    # past the build timeout the helper no longer excuses the quiet
    stale = probe(tmux, "waits", tmp_path / "b", wedge_seconds=0.3, sample_seconds=0.5, build_timeout=0.1).probe()
    assert stale.status == WEDGED and stale.evidence["in_flight"] == []
    # and a process not named as in flight never excuses it
    other = probe(tmux, "waits", tmp_path / "c", wedge_seconds=0.3, sample_seconds=0.5, in_flight_names=["abra"])
    assert other.probe().status == WEDGED


def test_a_stopped_agent_reads_wedged_with_its_identity(tmux, tmp_path, agent):
    # the agent under the pane's process (as the launcher's supervisor runs it): tmux itself continues a
    # pane's own process when it stops
    tmux.new_session("frozen", f"{agent} 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done'; true")
    sp = probe(tmux, "frozen", tmp_path, wedge_seconds=0.4, sample_seconds=0.3)
    assert wait_for(sp.agents_now)
    (agent_proc,) = sp.agents_now()
    stopped = freeze_tree(agent_proc.pid)
    assert agent_proc.pid in [p.pid for p in stopped]
    try:
        assert sp.probe().status in (RUNNING, WEDGED)  # the last tick may still land in the first sample
        time.sleep(0.5)
        p = sp.probe()
        assert p.status == WEDGED, {k: p.evidence[k] for k in ("pane_changed", "cpu_ticks_delta", "seconds_since_change", "agent_pids", "pane_tail")}
        assert p.agent_keys == [agent_proc.key]
        assert p.pane_id and p.pane_start and p.evidence["panes"][0]["pane_start"] == p.pane_start
        assert sp.alive([agent_proc.key]) == [agent_proc.key]
        assert sp.alive([f"{agent_proc.pid}@{agent_proc.start + 1}"]) == []  # same pid, another process
    finally:
        os.kill(agent_proc.pid, 9)


def test_replaced_session_has_new_identity(tmux, tmp_path, agent):
    tmux.new_session("s", [agent, "sleep 300"])
    one = probe(tmux, "s", tmp_path, sample_seconds=0).probe()
    tmux.kill_session("s")
    tmux.new_session("s", [agent, "sleep 300"])
    two = probe(tmux, "s", tmp_path, sample_seconds=0).probe()
    assert one.identity and two.identity and one.identity != two.identity


def test_read_proc_odd_comm(tmp_path):
    (tmp_path / "42").mkdir()
    fields = ["S", "7"] + ["0"] * 9 + ["10", "5", "2", "1"] + ["0"] * 30
    (tmp_path / "42" / "stat").write_text("42 (we ird) (name) " + " ".join(fields))
    (tmp_path / "42" / "cmdline").write_bytes(b"python3\0/opt/bin/claude\0-p\0/upgrade-all\0")
    proc = read_proc(42, str(tmp_path))
    assert (proc.comm, proc.ppid, proc.ticks, proc.state) == ("we ird) (name", 7, 18, "S")
    assert "claude" in proc.names() and proc.alive
    assert read_proc(43, str(tmp_path)) is None
    me = read_proc(os.getpid())
    assert me and me.ppid == os.getppid()
    assert process_tree(999999999) == []
