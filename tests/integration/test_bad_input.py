# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input ends the run with one clear line naming the fix, and loses nothing."""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import BIN, ROOT

pytestmark = pytest.mark.slow


def _fatal_lines(stdout: str) -> list[str]:
    """The messages of failed tasks, unwrapped (the YAML callback folds long lines); a message of several
    lines (the preflight's, a block ``msg: |-``) gives each of its lines."""
    blocks = re.findall(r"msg: \|-\n((?:        .*\n)+)", stdout)
    return ([" ".join(m.split()) for m in re.findall(r"msg: '(.*?)'\n(?! )", stdout, flags=re.S)]
            + [line.strip() for block in blocks for line in block.splitlines()])


def test_wrong_gitea_url(playbook) -> None:
    run = playbook(only=["V1"], extra={"ccci_gitea_url": "http://127.0.0.1:9"})
    assert run.rc != 0
    assert any("GET http://127.0.0.1:9/api/v1/user: cannot connect" in line and "check the URL" in line
               for line in _fatal_lines(run.stdout)), run.stdout[-2000:]


def test_rejected_token(playbook) -> None:
    run = playbook(only=["V1"], extra={"ccci_gitea_token": "not-a-token"})
    assert run.rc != 0
    assert any("HTTP 401" in line and "check ccci_gitea_token" in line for line in _fatal_lines(run.stdout))
    assert "not-a-token" not in run.stdout


def test_unknown_pr(playbook, lab_dir) -> None:
    playbook(only=["V1"])  # the lab is up
    lab = json.loads((lab_dir / "lab.json").read_text())
    args = {"gitea_url": lab["gitea_url"], "gitea_token": lab["tokens"]["bot"],
            "repo": "recipe-maintainers/custom-html-tiny", "number": 99999}
    proc = subprocess.run([str(BIN / "ansible"), "localhost", "-m", "coopcloud.cc_ci.gitea_pr_info",
                           "-a", json.dumps(args)], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"))
    assert proc.returncode != 0
    assert "HTTP 404" in proc.stdout and "no PR #99999 in recipe-maintainers/custom-html-tiny" in proc.stdout
    assert lab["tokens"]["bot"] not in proc.stdout


# Each row: variables given → words the one failure line must contain. Role argument specs (and
# the target role's box assert) stop these before the lab starts or anything is created.
BAD_VARIABLES = [
    ({"ccci_target": "bogus"}, "value of ccci_target must be one of: lab, box, got: bogus"),
    ({"ccci_build_timeout": "abc"}, "'ccci_build_timeout' is of type str and we were unable to convert to int"),
    ({"ccci_bridge_poll_interval": "fast"}, "'ccci_bridge_poll_interval' is of type str and we were unable to convert to float"),
    ({"ccci_sandbox_recipes": {"custom-html-tiny": 1}}, "'ccci_sandbox_recipes' is of type"),
    ({"ccci_lab_keep": "maybe"}, "'ccci_lab_keep' is of type str and we were unable to convert to bool"),
    ({"ccci_target": "box"}, "ccci_target=box: set ccci_gitea_url, ccci_gitea_token, ccci_drone_url, ccci_drone_token"),
    ({"ccci_target": "box", "ccci_gitea_url": "git.example.org", "ccci_gitea_token": "t", "ccci_drone_url": "https://d",
      "ccci_drone_token": "t"}, "ccci_gitea_url and ccci_drone_url must start with http:// or https://"),
]


@pytest.mark.parametrize(("variables", "words"), BAD_VARIABLES, ids=[next(iter(v)) + "=" + str(v[next(iter(v))])[:12]
                                                                     for v, _words in BAD_VARIABLES])
def test_bad_variable_stops_before_anything_is_created(playbook, tmp_path, variables: dict, words: str) -> None:
    report_dir = tmp_path / "out"
    run = playbook(only=["V1"], extra={**variables, "ccci_report_dir": str(report_dir)})
    assert run.rc != 0
    assert words in " ".join(run.stdout.split()), run.stdout[-2000:]
    assert not report_dir.exists(), "a run stopped by bad input created its report folder"
