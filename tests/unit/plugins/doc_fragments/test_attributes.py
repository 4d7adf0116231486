# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every read-only *_info module says so through the attributes.info_module fragment, not a copy."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"


def documentation(module: Path) -> dict:
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module.name}: no DOCUMENTATION")


INFO = sorted(MODULES.glob("*_info.py"))


def test_the_info_modules_are_found():
    assert len(INFO) >= 5


@pytest.mark.parametrize("module", INFO, ids=lambda p: p.stem)
def test_an_info_module_takes_its_check_and_diff_mode_from_the_fragment(module):
    doc = documentation(module)
    assert "coopcloud.cc_ci.attributes.info_module" in doc["extends_documentation_fragment"]
    restated = {"check_mode", "diff_mode"} & set(doc.get("attributes") or {})
    assert not restated, f"{module.name} writes out {sorted(restated)} again instead of the fragment's"
