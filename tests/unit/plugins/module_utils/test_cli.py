# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""CliRunner and the parsers for the box's script output."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import (
    CliError,
    CliNotFound,
    CliRunner,
    CliTimeout,
    last_line,
    parse_result,
    parse_verdict,
)


class Echo(CliRunner):
    binary_name = "sh"
    path_option = "echo_path"


class Missing(CliRunner):
    binary_name = "no-such-binary-ccci"
    path_option = "missing_path"


def test_finds_on_path_and_runs_with_env(tmp_path):
    sh = Echo(env={"CCCI_X": "42"}, base_args=["-c"], cwd=str(tmp_path))
    assert Path(sh.binary).name == "sh"
    rc, out, err = sh.run(['echo "$CCCI_X $(pwd)"; echo oops >&2; exit 3'])
    assert (rc, out, err) == (3, f"42 {tmp_path}\n", "oops\n")
    rc, out, dummy = sh.run(['echo "$CCCI_X"'], env={"CCCI_X": "7"})
    assert out == "7\n"


def test_run_checked_one_line_error():
    sh = Echo(base_args=["-c"])
    assert sh.run_checked(["echo ok"]) == "ok\n"
    with pytest.raises(CliError) as info:
        sh.run_checked(["echo first >&2; echo 'last words' >&2; exit 2"], what="the thing")
    assert str(info.value) == "the thing failed (rc 2): last words"
    assert info.value.rc == 2


def test_missing_binary_names_the_fix(tmp_path):
    with pytest.raises(CliNotFound, match=r"^no-such-binary-ccci not found on PATH: set missing_path$"):
        Missing()
    with pytest.raises(CliNotFound, match=r"not found or not executable at .*/x: set missing_path$"):
        Missing(path=str(tmp_path / "x"))
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    with pytest.raises(CliNotFound):
        Missing(path=str(plain))  # not executable
    plain.chmod(plain.stat().st_mode | stat.S_IXUSR)
    assert Missing(path=str(plain)).binary == str(plain)


def test_timeout_kills_the_group(tmp_path):
    sh = Echo(base_args=["-c"], timeout=0.5)
    with pytest.raises(CliTimeout, match="timed out after 0.5s"):
        sh.run(["sleep 20 & sleep 20"])


def test_run_to_file(tmp_path):
    sh = Echo(base_args=["-c"])
    log = tmp_path / "d" / "log"
    assert sh.run_to_file(["echo out; echo err >&2; exit 4"], str(log)) == 4
    assert log.read_text() == "out\nerr\n"


def test_parsers():
    assert last_line("a\n b \n\n") == "b"
    assert parse_verdict("VERDICT=PENDING\nVERDICT=GREEN\nBUILD=http://d/1\n") == ("GREEN", "http://d/1")
    assert parse_verdict("VERDICT=BLUE\nBUILD=?\n") == ("UNKNOWN", None)
    assert parse_verdict("") == ("UNKNOWN", None)
    assert parse_result("no result here") == (None, None, "")
    assert parse_result("RESULT: SUCCESS\nRESULT: SUCCESS+TESTPR (pair: #4)")[1:] == ("SUCCESS+TESTPR", "(pair: #4)")
    assert parse_result("`RESULT: SUCCESS-PENDING-TESTS`")[1] == "SUCCESS-PENDING-TESTS"
    assert parse_result("RESULT: FAILED — upgrade not green after 3 !testme runs")[1:] == (
        "FAILED",
        "— upgrade not green after 3 !testme runs",
    )
    assert parse_result("RESULT: SUCCESS-LATER")[1] == "SUCCESS-LATER"


def test_run_watched_stops_when_asked_and_keeps_the_output():
    sh = Echo(base_args=["-c"], timeout=30)
    asked = []

    def stop() -> str | None:
        asked.append(1)
        return "nothing left to wait for" if len(asked) >= 2 else None

    rc, out, err, reason = sh.run_watched(["echo polling; sleep 20 & wait"], stop, every=0.1)
    assert reason == "nothing left to wait for" and len(asked) == 2
    assert out == "polling\n" and rc != 0


def test_run_watched_lets_a_tool_end_itself_and_times_out():
    sh = Echo(base_args=["-c"])
    assert sh.run_watched(["echo VERDICT=GREEN"], lambda: None, every=0.1) == (0, "VERDICT=GREEN\n", "", None)
    with pytest.raises(CliTimeout, match="timed out after 0.3s"):
        sh.run_watched(["sleep 20"], lambda: None, every=0.1, timeout=0.3)
