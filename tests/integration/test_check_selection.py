# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""ccci_only is read against the registry before anything is created: an unknown id or an empty
selection stops the run at its first task, with the known ids; a string is one id, never a pattern."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import ids
from conftest import BIN, ROOT

KNOWN = ", ".join(ids())

pytestmark = pytest.mark.slow


def _run(tmp_path, only) -> tuple[int, str]:
    evars = {"ccci_only": only, "ccci_lab_state": str(tmp_path / "lab"), "ccci_report_dir": str(tmp_path / "out")}
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/verify-phase5.yml", "-e", json.dumps(evars)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize(("only", "said"), [
    (["V1", "V10"], f"unknown check id 'V10'; known: {KNOWN}"),
    ("V10", "unknown check id 'V10'; known: V1,"),  # the string is one id, not the characters V, 1, 0
    ("V1,V2", "unknown check id 'V1,V2'; known: V1,"),
    ([], "no check selected; name one or more of V1, V2"),
])
def test_a_bad_selection_stops_before_anything_is_created(tmp_path, only, said) -> None:
    rc, log = _run(tmp_path, only)
    assert rc != 0 and said in log, log[-1500:]
    assert "TASK [Select the checks from the registry" in log and "Start the lab" not in log
    assert not (tmp_path / "lab").exists() and not (tmp_path / "out").exists()
