# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Gitea and Drone doc fragments document exactly the options their argument specs take, and
every module that takes the Drone options documents them through the Drone fragment."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ansible_collections.coopcloud.cc_ci.plugins.doc_fragments import drone as drone_doc
from ansible_collections.coopcloud.cc_ci.plugins.doc_fragments import gitea_api as gitea_doc
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import drone_argument_spec
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"


def options(fragment: str) -> dict:
    return yaml.safe_load(fragment)["options"]


def documentation(module: Path) -> dict:
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module.name}: no DOCUMENTATION")


@pytest.mark.parametrize(("fragment", "spec"), [
    (drone_doc.ModuleDocFragment.DOCUMENTATION, drone_argument_spec()),
    (gitea_doc.ModuleDocFragment.DOCUMENTATION, gitea_argument_spec()),
])
def test_a_fragment_documents_its_argument_spec(fragment, spec):
    documented = options(fragment)
    assert set(documented) == set(spec)
    for name, arg in spec.items():
        assert documented[name]["type"] == arg["type"], name
        assert documented[name].get("required", False) == arg.get("required", False), name
        if arg.get("no_log"):
            assert "Never logged" in str(documented[name]["description"]), name


def test_the_gitea_fragment_holds_no_drone_option():
    doc = gitea_doc.ModuleDocFragment
    assert not [name for name in vars(doc) if "DRONE" in name or "CI_REPO" in name]
    assert not [opt for opt in options(doc.DOCUMENTATION) if opt.startswith("drone") or opt == "ci_repo"]


def drone_modules() -> list[Path]:
    return sorted(p for p in MODULES.glob("*.py") if "drone_argument_spec()" in p.read_text())


def test_the_drone_modules_are_found():
    assert {"drone_builds_info.py", "drone_verdict.py", "gitea_testme.py"} <= {p.name for p in drone_modules()}


@pytest.mark.parametrize("module", drone_modules(), ids=lambda p: p.stem)
def test_a_drone_module_takes_its_drone_options_from_the_fragment(module):
    doc = documentation(module)
    assert "coopcloud.cc_ci.drone" in doc.get("extends_documentation_fragment", [])
    restated = set(doc.get("options", {})) & set(drone_argument_spec())
    assert not restated, f"{module.name} writes out {sorted(restated)} again instead of the fragment's"
