# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's box-vars example and the box scenario's box-vars file name the same variables: the
scenario runs what the README tells an operator to write, no more and no less."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SCENARIO_VARS = REPO / "molecule" / "box" / "inventory" / "group_vars" / "ccci_box" / "box-vars.yml"
EXAMPLE = re.compile(r"```ya?ml\n(# box-vars\.yml[^\n]*\n.*?)```", re.S)


def readme_example() -> dict:
    found = EXAMPLE.findall(README.read_text())
    assert len(found) == 1, "README: expected one ```yaml block starting with the comment `# box-vars.yml`"
    return yaml.safe_load(found[0])


def test_readme_example_and_scenario_vars_have_the_same_keys():
    example, scenario = readme_example(), yaml.safe_load(SCENARIO_VARS.read_text())
    assert isinstance(example, dict) and example, "README's box-vars example is not a mapping"
    missing, extra = sorted(set(example) - set(scenario)), sorted(set(scenario) - set(example))
    assert not missing and not extra, (f"{SCENARIO_VARS.relative_to(REPO)} lacks {missing} and has {extra} beyond "
                                       "README's box-vars example: keep them the same keys")


def test_scenario_tokens_come_from_the_vault_only():
    """Every token of the scenario's box-vars is a vault variable, never a literal."""
    scenario = yaml.safe_load(SCENARIO_VARS.read_text())
    tokens = {k: v for k, v in scenario.items() if k.endswith("_token")}
    assert tokens and all(re.fullmatch(r"\{\{ vault_\w+ \}\}", str(v)) for v in tokens.values()), tokens
    for vault in (SCENARIO_VARS.parents[2] / "host_vars").glob("*/vault.yml"):
        assert vault.read_text().startswith("$ANSIBLE_VAULT;"), f"{vault} is not encrypted"


def test_the_scenario_sets_nothing_the_run_reads_on_the_box():
    """What README's table marks "read on the box" (the loops unit's PATH, HOME and environment, where the agent,
    abra and docker are, the bridge's service) the box scenario must leave to the run: a test setting there would
    hide a box run that cannot read it."""
    rows = re.findall(r"^\| `(ccci_\w+)` \| read on the box \|", README.read_text(), re.M)
    assert {"ccci_agent_cmd", "ccci_abra_path", "ccci_docker_path", "ccci_abra_dir", "ccci_box_env"} <= set(rows)
    read_on_the_box = set(rows) | {"ccci_cron_unit_source"}  # auto: a unit file path is read as a file
    for path in sorted((SCENARIO_VARS.parents[2]).rglob("*.yml")):
        if path.name == "vault.yml":
            continue
        given = set(yaml.safe_load(path.read_text()) or {})
        assert not given & read_on_the_box, f"{path.relative_to(REPO)} sets {sorted(given & read_on_the_box)}"
