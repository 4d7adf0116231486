# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry of checks and the lab's mutant catalogue, held against each other: every mutant
targets registered checks, and every registered check has a mutant it must kill."""
from __future__ import annotations

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import get, ids
from lab.mutants import CATALOGUE

# A check listed here has no mutant yet; the reason says whose work brings one. Listed or not, a
# check with a mutant passes; one without a mutant and not listed fails.
AWAITING_MUTANTS = {"CRON": "the cron job's mutants (issue 10 item 8) are not in the catalogue yet"}


def test_every_mutant_names_registered_checks() -> None:
    for mutant in CATALOGUE:
        for check_id in mutant.targets + mutant.with_checks:
            get(check_id)  # ValueError naming the known ids


@pytest.mark.parametrize("check_id", ids())
def test_every_check_has_a_mutant_it_must_kill(check_id: str) -> None:
    killers = [m.name for m in CATALOGUE if check_id in m.targets]
    if not killers and check_id in AWAITING_MUTANTS:
        pytest.xfail(AWAITING_MUTANTS[check_id])
    assert killers, f"{check_id} is in the registry but no mutant of lab/mutants targets it"
