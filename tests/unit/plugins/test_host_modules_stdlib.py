# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host modules run on the box with the box's own python3: every import they can reach (also the ones
inside functions) is the standard library, Ansible's module_utils or this collection's module_utils.
(tests/integration/test_box_ssh.py runs them with a python3 that has no venv packages.)"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = ROOT / "plugins"
OURS = "ansible_collections.coopcloud.cc_ci.plugins.module_utils"


def host_modules() -> list[str]:
    """The modules docs/ARCHITECTURE.md says run on the box (its module table's ``box`` rows)."""
    names = []
    for row in re.findall(r"^\| (.+?) \| box \|", (ROOT / "docs" / "ARCHITECTURE.md").read_text(), re.M):
        names += re.findall(r"`(\w+)`", row)
    return names


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def foreign_imports(path: Path, seen: set[Path] | None = None) -> list[str]:
    """``file: name`` for each import reachable from *path* that the box's python3 would not have."""
    seen = set() if seen is None else seen
    if path in seen:
        return []
    seen.add(path)
    bad = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
            if node.module == OURS:
                names = [f"{OURS}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name.startswith(OURS + "."):
                rel = name[len(OURS) + 1:].replace(".", "/")
                target = next((p for p in (PLUGINS / "module_utils" / f"{rel}.py",
                                           PLUGINS / "module_utils" / rel / "__init__.py") if p.exists()), None)
                if target is None:
                    bad.append(f"{_shown(path)}: {name} (no such module_utils)")
                else:
                    bad += foreign_imports(target, seen)
            elif not (top in sys.stdlib_module_names or name == "ansible.module_utils"
                      or name.startswith("ansible.module_utils.")):
                bad.append(f"{_shown(path)}: {name}")
    return bad


def test_the_table_names_the_host_modules():
    assert {"completion_cron", "cron_precheck", "cron_first_fire", "upgrader_session", "testme_helper",
            "agent_skill", "abra_teardown", "deploy_watch", "markdown_section"} <= set(host_modules())


@pytest.mark.parametrize("name", host_modules())
def test_host_module_imports_only_what_the_box_has(name):
    assert foreign_imports(PLUGINS / "modules" / f"{name}.py") == []


def test_a_library_import_inside_a_function_is_found(tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text("import os\nfrom ansible.module_utils.basic import AnsibleModule\n"
                   f"from {OURS}.cron_anchor import MARKER_ID\n"
                   "def f():\n    from crontab import CronTab\n    import httpx.client\n")
    assert [b.split(": ")[1] for b in foreign_imports(mod)] == ["crontab", "httpx.client"]
