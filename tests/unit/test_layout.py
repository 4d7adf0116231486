# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unit tests sit where ``ansible-test units`` looks for them (tests/unit/plugins/<type>/ as the
plugins they test; a test over several types in tests/unit/plugins/) and import the collection by
its name, never by editing sys.path."""
from __future__ import annotations

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parent
PLUGINS = UNIT.parents[1] / "plugins"
SYS_PATH_EDIT = re.compile(r"sys\.path\.(insert|append|extend)|sys\.path\s*[+]?=")


def test_no_unit_test_edits_sys_path():
    edits = [f"{p.relative_to(UNIT)}:{n}" for p in UNIT.rglob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if SYS_PATH_EDIT.search(line)]
    assert not edits, f"import through ansible_collections.coopcloud.cc_ci instead (pytest.ini pythonpath): {edits}"


def test_plugin_tests_mirror_the_plugin_tree():
    tests = UNIT / "plugins"
    kinds = {p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert {"modules", "module_utils"} <= kinds
    assert kinds <= {p.name for p in PLUGINS.iterdir() if p.is_dir()}, "a test folder with no plugin type"
