# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""README "Against a box": its table names every variable the roles declare (meta/argument_specs.yml), with
what a box needs of it, and its box-vars example holds only what an operator knows."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# What only the operator can know (issue 13, item 2): the box-vars example's keys, no more, no less.
OPERATOR_KEYS = {"ccci_target", "ccci_gitea_url", "ccci_gitea_token", "ccci_gitea_outsider_token", "ccci_drone_url",
                 "ccci_drone_token", "ccci_mirror_org", "ccci_upstream_org", "ccci_ci_repo", "ccci_sandbox_recipes",
                 "ccci_root", "ccci_loops_unit"}


def box_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Against a box\n"):].split("\n## ", 1)[0]


def table() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `(ccci_\w+)` \| (.*?) \| (.*) \|$", box_section(), re.M)
    names = [name for name, dummy, dummy2 in rows]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return {name: (box, what) for name, box, what in rows}


def declared() -> dict[str, dict]:
    """Every variable a role declares for its main entry point (the ``_`` ones are internal hand-overs)."""
    found: dict[str, dict] = {}
    for spec_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry in yaml.safe_load(spec_file.read_text())["argument_specs"].values():
            for name, option in (entry.get("options") or {}).items():
                if not name.startswith("_"):
                    found.setdefault(name, option)
    return found


def test_the_table_names_every_declared_variable_and_nothing_else() -> None:
    rows, specs = table(), declared()
    assert sorted(set(specs) - set(rows)) == [], "declared but missing from README's table"
    assert sorted(set(rows) - set(specs)) == [], "in README's table but declared by no role"
    assert all(what.strip() for dummy, what in rows.values())


def test_required_and_operator_rows_match_what_the_target_asks_for() -> None:
    rows = table()
    required = {name for name, (box, dummy) in rows.items() if box == "**required**"}
    target = (ROOT / "roles/target/tasks/main.yml").read_text()
    asserted = set(re.findall(r"\[\] if (ccci_\w+) else", target))
    assert required == asserted, "README's required rows and the target role's box assert differ"
    operator = {name for name, (box, dummy) in rows.items() if box.startswith("operator")}
    assert required | operator == OPERATOR_KEYS


def test_a_literal_default_in_the_table_is_the_spec_s() -> None:
    rows, specs = table(), declared()
    for name, option in specs.items():
        if "default" in option and not isinstance(option["default"], (dict, list)):
            shown = rows[name][0]
            default = option["default"]
            text = str(default).lower() if isinstance(default, bool) else str(default)
            assert text in shown or shown in ("derived", "read on the box"), (name, shown, default)


def test_the_box_vars_example_holds_only_what_an_operator_knows() -> None:
    example = re.search(r"```yaml\n# box-vars.yml[^\n]*\n(.*?)```", box_section(), re.S)
    assert example, "README has no box-vars.yml example"
    assert set(yaml.safe_load(example.group(1))) == OPERATOR_KEYS
