# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A root-only EnvironmentFile: the weekly job runs as the box user and sources the unit's EnvironmentFile at each
fire, so a file that user cannot read is refused before anything is written, in one line naming the fix; the
fix it names works. Real files, real modes, the reads made as the box user with runuser (root only)."""
from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import systemd_unit
from ansible_collections.coopcloud.cc_ci.plugins.modules import completion_cron, loops_unit_info

USER = "nobody"
TOKEN = "tok-very-secret-123"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None,
                                reason="needs root and runuser: a root-only file read as a second user")


@pytest.fixture
def box() -> Iterator[Path]:
    """A folder every user may walk (pytest's own tmp_path is root's alone), holding the unit and its file."""
    where = Path(tempfile.mkdtemp(prefix="ccci-envfile-"))
    where.chmod(0o755)
    env = where / "loops.env"
    env.write_text(f"GITEA_TOKEN={TOKEN}\nMIRROR_ORG=recipe-maintainers\n")
    os.chown(env, 0, 0)
    env.chmod(0o600)  # root-only, as an operator may have made it
    (where / "cc-ci-loops.service").write_text(f"""[Service]
User={USER}
Environment="PATH=/usr/bin:/bin" "HOME={where}"
EnvironmentFile={env}
ExecStart=/bin/true
""")
    (where / "crontab").write_text("")
    shutil.copy(Path(systemd_unit.__file__), where / "systemd_unit.py")  # stdlib only: the box user imports it
    yield where
    shutil.rmtree(where)


def as_user(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", USER, "--", *argv], capture_output=True, text=True, timeout=30, check=False)


def judged_as_user(box: Path) -> str:
    """systemd_unit.readable_by run by the box user itself (the kernel's answer, os.access)."""
    code = f"import systemd_unit; print(systemd_unit.readable_by({str(box / 'loops.env')!r}, {USER!r}))"
    return as_user("env", f"PYTHONPATH={box}", "/usr/bin/python3", "-c", code).stdout.strip()  # the box's python3


def run(module, args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def cron_args(box: Path) -> dict:
    return {"loops_unit": str(box / "cc-ci-loops.service"), "unit_source": "file", "root": str(box / "srv"),
            "launcher": str(box / "srv" / "launch-upgrader.sh"), "tabfile": str(box / "crontab"),
            "state_file": str(box / "state.json"), "timezone": "UTC", "offset": 3600}


def test_a_root_only_environment_file_is_refused_naming_the_fix(box: Path, capsys) -> None:
    env = box / "loops.env"
    group = grp.getgrgid(pwd.getpwnam(USER).pw_gid).gr_name
    # the kernel's answer, the box user's own judgement and root's judgement from the mode bits agree
    assert as_user("cat", str(env)).returncode != 0
    assert judged_as_user(box) == "False" and systemd_unit.readable_by(str(env), USER) is False
    unit = run(loops_unit_info, {"unit": str(box / "cc-ci-loops.service"), "unit_source": "file", "tools": []}, capsys)
    assert [(f["path"], f["user_readable"]) for f in unit["environment_files"]] == [(str(env), False)]

    out = run(completion_cron, cron_args(box), capsys)  # as root: it could read the file, the job could not
    assert out.get("failed") is True
    assert out["msg"] == (f"EnvironmentFile {env} is not readable by {USER}, who runs the weekly job and sources it "
                          f"at each fire: chgrp {group} {env} && chmod 640 {env} (its tokens then stay in that one "
                          "file, never in the crontab)")
    assert TOKEN not in json.dumps(out) and (box / "crontab").read_text() == ""  # nothing written

    # the fix it names: the job's user reads it, the entry sources it and holds no token
    os.chown(env, 0, pwd.getpwnam(USER).pw_gid)
    env.chmod(0o640)
    assert as_user("sh", "-c", f"set -a; . {env}; set +a; test \"$GITEA_TOKEN\" = {TOKEN}").returncode == 0
    assert judged_as_user(box) == "True" and systemd_unit.readable_by(str(env), USER) is True
    out = run(completion_cron, cron_args(box), capsys)
    assert out["changed"] is True and [f["path"] for f in out["sourced"]] == [str(env)]
    assert TOKEN not in (box / "crontab").read_text() and f". {env};" in (box / "crontab").read_text()
