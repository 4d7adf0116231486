# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The coopcloud.cc_ci.checks lookup: the registry as dicts, selected exactly, unknown ids refused."""
from __future__ import annotations

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError

from ansible_collections.coopcloud.cc_ci.plugins.lookup import checks as checks_lookup
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import ids


@pytest.fixture
def lookup():
    # What the plugin loader does for a collection plugin: its options come from its DOCUMENTATION.
    plugin = checks_lookup.LookupModule()
    plugin._load_name = "coopcloud.cc_ci.checks"
    options = yaml.safe_load(checks_lookup.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("lookup", plugin._load_name, options)
    return plugin


def test_every_check_as_a_dict_in_plan_order(lookup) -> None:
    found = lookup.run([], variables={})
    assert [c["id"] for c in found] == list(ids())
    assert found[0] == {"id": "V1", "title": "!testme on a recipe PR is the real gate",
                        "role": "coopcloud.cc_ci.v1_testme_gate", "claim": found[0]["claim"],
                        "reads": found[0]["reads"], "phase": "checks", "claims": "claims/v1.py"}


def test_selected_ids_as_strings_or_a_list_and_by_phase(lookup) -> None:
    assert [c["id"] for c in lookup.run(["CRON", "V1"], variables={})] == ["V1", "CRON"]
    assert [c["id"] for c in lookup.run([["V9", "V8"]], variables={})] == ["V8", "V9"]
    assert [c["id"] for c in lookup.run([["V1", "V9"]], variables={}, phase="cleanup")] == ["V9"]
    assert [c["id"] for c in lookup.run([], variables={}, phase="after")] == ["CRON"]


def test_unknown_or_empty_selection_is_a_clear_error(lookup) -> None:
    with pytest.raises(AnsibleLookupError, match="coopcloud.cc_ci.checks: unknown check id 'V1,V2'; known: V1"):
        lookup.run(["V1,V2"], variables={})
    with pytest.raises(AnsibleLookupError, match="no check selected"):
        lookup.run([[]], variables={})
