# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""systemd_unit: a unit's [Service] environment, parsed as systemd parses it."""
from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import systemd_unit as su


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("value, words", [
    ('A=1 B=2', ["A=1", "B=2"]),
    ('"PATH=/a b:/c" HOME=/h', ["PATH=/a b:/c", "HOME=/h"]),
    ("'X=it''s' Y=2", ["X=its", "Y=2"]),
    ('FOO="bar baz" QUX=q\\suux', ["FOO=bar baz", "QUX=q uux"]),
    ('"A=tab\\there" "B=quote\\"in"', ["A=tab\there", 'B=quote"in']),
    ("'S=single \\x41'", ["S=single A"]),
    ("  A=1\t\tB=  ", ["A=1", "B="]),
    ('E=', ["E="]),
])
def test_extract_words_like_systemd(value, words):
    assert su.extract_words(value) == words


@pytest.mark.parametrize("value", ['"A=1', "'B=2", "C=3\\", "D=\\q"])
def test_extract_words_rejects_what_systemd_rejects(value):
    with pytest.raises(ValueError):
        su.extract_words(value)


UNIT = """\
[Unit]
Description=cc-ci loops
Environment=NOT_SERVICE=1

[Service]
Type=simple
User={user}
WorkingDirectory=-/srv/cc-ci
# a comment ; and more
; another comment
Environment="PATH=/opt/claude/bin:/usr/bin" "HOME=/home/cc ci"
Environment=TMUX_TMPDIR=/run/tmux A=first \\
  B=continued
Environment=A=second 'QUOTED=it is' ESC=a\\x20b PCT=100%%
EnvironmentFile=-{missing}
EnvironmentFile={envfile}
ExecStart=/srv/cc-ci/run.sh
"""

ENVFILE = """\
# comment
; also comment
GITEA_URL=http://127.0.0.1:3000
GITEA_TOKEN = "s3cret token"
SINGLE='lit$eral \\n'
DQ="a\\"b\\\\c\\$d\\x"
TRAIL=value with trailing   \t
CONT=one\\
two
B=from-file
"""


@pytest.fixture
def unit(tmp_path: Path) -> str:
    user = pwd.getpwuid(os.getuid()).pw_name
    envfile = write(tmp_path / "loops.env", ENVFILE)
    return write(tmp_path / "cc-ci-loops.service",
                 UNIT.format(user=user, missing=tmp_path / "nope.env", envfile=envfile))


def test_unit_file_parsed_as_systemd(unit, tmp_path):
    env = su.parse_unit_file(unit)
    assert env.user == pwd.getpwuid(os.getuid()).pw_name
    assert env.working_directory == "/srv/cc-ci"
    e = env.environment
    assert e["PATH"] == "/opt/claude/bin:/usr/bin"
    assert e["HOME"] == "/home/cc ci"
    assert e["TMUX_TMPDIR"] == "/run/tmux"
    assert e["A"] == "second"  # later Environment= wins
    assert e["B"] == "from-file"  # EnvironmentFile= overrides Environment=
    assert e["QUOTED"] == "it is"
    assert e["ESC"] == "a b"
    assert e["PCT"] == "100%"
    assert "NOT_SERVICE" not in e
    assert e["GITEA_URL"] == "http://127.0.0.1:3000"
    assert e["GITEA_TOKEN"] == "s3cret token"
    assert e["SINGLE"] == "lit$eral \\n"
    assert e["DQ"] == 'a"b\\c$d\\x'
    assert e["TRAIL"] == "value with trailing"
    assert e["CONT"] == "onetwo"
    assert env.files_read == [str(tmp_path / "loops.env")]
    assert any("nope.env is missing" in n for n in env.notes)
    assert env.home() == "/home/cc ci"


def test_empty_assignment_resets(tmp_path):
    path = write(tmp_path / "u.service", "[Service]\nEnvironment=A=1 B=2\nEnvironment=\nEnvironment=C=3\n"
                                         f"EnvironmentFile={tmp_path}/missing\nEnvironmentFile=\n")
    env = su.parse_unit_file(path)
    assert env.environment == {"C": "3"}
    assert env.environment_files == []


def test_dropins_override(tmp_path):
    path = write(tmp_path / "u.service", "[Service]\nUser=root\nEnvironment=A=1 B=1\n")
    write(tmp_path / "u.service.d" / "10-x.conf", "[Service]\nEnvironment=B=2\n")
    env = su.parse_unit_file(path)
    assert env.environment == {"A": "1", "B": "2"}


def test_specifiers(tmp_path):
    path = write(tmp_path / "loops@blue.service", "[Service]\nUser=root\nEnvironment=N=%n I=%i H=%h P=%%p\n")
    env = su.parse_unit_file(path)
    assert env.environment == {"N": "loops@blue.service", "I": "blue", "H": pwd.getpwnam("root").pw_dir, "P": "%p"}


@pytest.mark.parametrize("text, fragment", [
    ("[Service]\nEnvironment=\"A=1\n", "line 2: Environment= unterminated"),
    ("[Service]\nEnvironment=1A=x\n", "not a valid NAME=VALUE"),
    ("[Service]\nEnvironmentFile=relative.env\n", "not absolute"),
    ("[Service]\njust words\n", "is not KEY=VALUE"),
    ("[Unit]\nDescription=x\n", "no [Service] section"),
])
def test_malformed_units_fail_clearly(tmp_path, text, fragment):
    path = write(tmp_path / "bad.service", text)
    with pytest.raises(su.UnitError) as err:
        su.parse_unit_file(path)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
    assert "ccci_loops_unit" in str(err.value) or "fix" in str(err.value)


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(su.UnitError, match="does not exist.*ccci_loops_unit"):
        su.parse_unit_file(str(tmp_path / "none.service"))
    with pytest.raises(su.UnitError, match="not found in"):
        su.find_unit_file("no-such-unit-ccci.service", dirs=(str(tmp_path),))
    path = write(tmp_path / "u.service", f"[Service]\nEnvironmentFile={tmp_path}/absent.env\n")
    with pytest.raises(su.UnitError, match="does not exist .*EnvironmentFile=-"):
        su.parse_unit_file(path)


def test_env_file_bad_name_and_quote(tmp_path):
    with pytest.raises(su.UnitError, match="not a valid variable name"):
        su.parse_env_file("export FOO=bar\n", "f")
    with pytest.raises(su.UnitError, match="unterminated quote"):
        su.parse_env_file('A="open\n', "f")


def test_systemctl_show_output(tmp_path):
    envfile = write(tmp_path / "e.env", "X=from-file\n")
    text = ("LoadState=loaded\n"
            'Environment=PATH=/usr/bin "HOME=/home/a b" "Q=say \\"hi\\"" X=unit\n'
            "User=cc-ci\nWorkingDirectory=/srv/cc-ci\n"
            f"EnvironmentFiles={envfile} (ignore_errors=no)\n"
            f"EnvironmentFiles={tmp_path}/gone.env (ignore_errors=yes)\n")
    env = su.parse_systemctl_show("cc-ci-loops.service", text)
    su._apply_environment_files(env)  # pylint: disable=protected-access
    assert env.source == "systemctl"
    assert env.user == "cc-ci" and env.working_directory == "/srv/cc-ci"
    assert env.environment == {"PATH": "/usr/bin", "HOME": "/home/a b", "Q": 'say "hi"', "X": "from-file"}
    with pytest.raises(su.UnitError, match="LoadState=not-found"):
        su.parse_systemctl_show("x.service", "LoadState=not-found\n")


def test_load_chooses_the_file_without_systemd(unit, monkeypatch):
    monkeypatch.setattr(su, "systemd_running", lambda *a: False)
    assert su.load(unit).source.startswith("file:")
    with pytest.raises(su.UnitError, match="no unit given"):
        su.load("")


def test_user_and_home_specifiers_are_the_managers_not_user_setting(tmp_path):
    """systemd.unit(5): %u/%h are the user running the service manager (root for system units), not User=."""
    nobody = pwd.getpwnam("nobody")
    path = write(tmp_path / "loops.service", "[Service]\nUser=nobody\nEnvironment=U=%u H=%h S=%s\n"
                 "EnvironmentFile=-%h/.cc-ci.env\n")
    env = su.parse_unit_file(str(path))
    assert env.user == "nobody"
    assert env.environment["U"] == "root" and env.environment["H"] == pwd.getpwnam("root").pw_dir != nobody.pw_dir
    assert env.environment["S"] == "/bin/sh"
    assert env.environment_files == [(pwd.getpwnam("root").pw_dir + "/.cc-ci.env", True)]


def test_unknown_specifier_names_the_line(tmp_path):
    path = write(tmp_path / "loops.service", "[Service]\nEnvironment=X=%q\n")
    with pytest.raises(su.UnitError, match=r"line 2: Environment= specifier %q is not supported"):
        su.parse_unit_file(str(path))
