# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Roles hand results to each other through documented ccci_ variables: no role reads a private
(``_``-prefixed) fact another role registers or sets, and nobody reads facts by a computed name."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
HANDOFFS = {"ccci_skill_run": "run_skill", "ccci_snapshots": "snapshot", "ccci_summary": "read_summary",
            "ccci_upgrade_pr": "upgrade_pr"}


def tasks_of(path: Path) -> list[dict]:
    """Every task in a tasks file, blocks opened."""
    found, todo = [], list(yaml.safe_load(path.read_text()) or [])
    while todo:
        task = todo.pop()
        found.append(task)
        for key in ("block", "rescue", "always"):
            todo.extend(task.get(key) or [])
    return found


def names(role: Path) -> tuple[set[str], set[str]]:
    """(facts the role registers or sets, every variable it defines at all: those plus vars: keys)."""
    made, defined = set(), set()
    for path in role.glob("tasks/*.yml"):
        for task in tasks_of(path):
            made |= {task["register"]} if "register" in task else set()
            made |= set(task.get("ansible.builtin.set_fact") or {}) - {"cacheable"}
            defined |= set(task.get("vars") or {})
            for key in ("loop_control",):
                defined |= {(task.get(key) or {}).get("loop_var", "item")}
    for folder in ("defaults", "vars"):
        for path in role.glob(f"{folder}/*.yml"):
            defined |= set(yaml.safe_load(path.read_text()) or {})
    return made, made | defined


def test_no_role_reads_another_roles_private_facts():
    roles = {role.name: names(role) for role in ROLES.iterdir() if (role / "tasks").is_dir()}
    leaks = []
    for reader, (_unused, own) in roles.items():
        text = "\n".join(p.read_text() for p in (ROLES / reader).glob("tasks/*.yml"))
        for writer, (made, _defined) in roles.items():
            for name in made - own:
                if writer != reader and name.startswith("_") and re.search(rf"\b{re.escape(name)}\b", text):
                    leaks.append(f"roles/{reader} reads {name}, a private fact of roles/{writer}")
    assert not leaks, "hand it over as a documented ccci_ variable instead:\n" + "\n".join(leaks)


def test_no_fact_is_read_by_a_computed_name():
    reads = [f"{p.relative_to(ROLES)}:{n}" for p in ROLES.glob("*/tasks/*.yml")
             for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"lookup\(\s*['\"]vars['\"]", line)]
    assert not reads, f"lookup('vars', ...) hands over an undocumented fact: {reads}"


def test_each_handoff_is_set_by_check_support_and_documented_by_its_entry_point():
    made, _defined = names(ROLES / "check_support")
    specs = yaml.safe_load((ROLES / "check_support/meta/argument_specs.yml").read_text())["argument_specs"]
    for variable, entry in HANDOFFS.items():
        assert variable in made, f"check_support no longer sets {variable}"
        assert variable in " ".join(specs[entry]["description"]), f"entry point {entry} does not document {variable}"
