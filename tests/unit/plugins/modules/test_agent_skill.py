# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""agent_skill: runs a fake agent, keeps the transcript, parses the RESULT line."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import agent_skill


def run_module(main, args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)


FAKE_AGENT = """#!/bin/sh
# a stand-in agent: behaviour chosen by the skill's first argument
[ "$1" = "-p" ] || { echo "usage: claude -p PROMPT" >&2; exit 64; }
echo "cwd=$(pwd) prompt=$2 token=$GITEA_TOKEN"
case "$2" in
  *green*) echo "working"; echo "RESULT: SUCCESS"; exit 0;;
  *stale*) echo "RESULT: SUCCESS"; echo "more work"; echo "**RESULT: SUCCESS-PENDING-TESTS**";;
  *testpr*) echo "RESULT: SUCCESS+TESTPR";;
  *red*) echo "RESULT: FAILED — upgrade not green after 3 !testme runs"; exit 1;;
  *odd*) echo "RESULT: PARTIAL something";;
  *silent*) echo "nothing to report" >&2;;
  *slow*) echo "started"; sleep 30;;
esac
"""


@pytest.fixture
def agent(tmp_path: Path) -> str:
    path = tmp_path / "bin" / "claude"
    path.parent.mkdir()
    path.write_text(FAKE_AGENT)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(
    ("arg", "result", "detail", "rc"),
    [
        ("green", "SUCCESS", "", 0),
        ("stale", "SUCCESS-PENDING-TESTS", "", 0),
        ("testpr", "SUCCESS+TESTPR", "", 0),
        ("red", "FAILED", "— upgrade not green after 3 !testme runs", 1),
        ("odd", "PARTIAL something", "", 0),
    ],
)
def test_result_normalised(agent, tmp_path, capsys, arg, result, detail, rc):
    transcript = tmp_path / "logs" / "t.log"
    res = run_module(
        agent_skill.main,
        dict(agent_cmd=agent, skill="/recipe-upgrade", args=[arg, "--with-tests"], chdir=str(tmp_path),
             transcript=str(transcript), env={"GITEA_TOKEN": "tok-123456"}),
        capsys,
    )
    assert res.get("failed") is not True, res
    assert res["result"] == result and res["result_detail"] == detail and res["rc"] == rc
    assert res["result_line"].strip("*").startswith("RESULT:")
    assert res["changed"] is True and res["transcript"] == str(transcript)
    text = transcript.read_text()
    assert f"cwd={tmp_path} prompt=/recipe-upgrade {arg} --with-tests token=tok-123456" in text
    assert "tok-123456" not in json.dumps(res)  # masked in what the module returns


def test_agent_on_path_by_name(agent, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(Path(agent).parent) + ":/usr/bin:/bin")
    res = run_module(agent_skill.main, dict(skill="/recipe-upgrade", args=["green"]), capsys)
    assert res["result"] == "SUCCESS"
    assert Path(res["transcript"]).is_file() and "RESULT: SUCCESS" in res["stdout_tail"]
    Path(res["transcript"]).unlink()


def test_missing_agent(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    res = run_module(agent_skill.main, dict(skill="/recipe-upgrade"), capsys)
    assert res["failed"] is True
    assert res["msg"] == "agent command 'claude' not found on PATH: set ccci_agent_cmd"


def test_no_result_line_fails(agent, tmp_path, capsys):
    res = run_module(agent_skill.main, dict(agent_cmd=agent, skill="/x", args=["silent"],
                                            transcript=str(tmp_path / "t.log")), capsys)
    assert res["failed"] is True
    assert res["msg"].startswith("agent printed no RESULT line for /x silent (rc 0)")
    assert "nothing to report" in res["stdout_tail"]  # stderr goes to the transcript too


def test_timeout_keeps_transcript(agent, tmp_path, capsys):
    res = run_module(agent_skill.main, dict(agent_cmd=agent, skill="/x", args=["slow"], timeout=1,
                                            transcript=str(tmp_path / "t.log")), capsys)
    assert res["failed"] is True and "timed out after 1s" in res["msg"]
    assert "started" in (tmp_path / "t.log").read_text()


def test_agent_cmd_with_arguments(tmp_path, capsys):
    res = run_module(agent_skill.main, dict(agent_cmd="sh -c 'echo RESULT: SUCCESS $0 $1'", skill="/y"), capsys)
    assert res["cmd"][:2] == ["/bin/sh", "-c"] or res["cmd"][0].endswith("/sh")
    assert res["result"] == "SUCCESS"
    Path(res["transcript"]).unlink()


def test_check_mode_runs_nothing(agent, tmp_path, capsys):
    res = run_module(agent_skill.main, dict(agent_cmd=agent, skill="/x", args=["green"],
                                            transcript=str(tmp_path / "t.log"), _ansible_check_mode=True), capsys)
    assert res["changed"] is True and "result" not in res
    assert not (tmp_path / "t.log").exists()
