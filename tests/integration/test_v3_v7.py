# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V3-V7 against the lab: PASS when healthy, twice on the same lab (the mutants are in test_mutants.py)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

UPGRADE_CHECKS = ["V3", "V4", "V5", "V6", "V7"]


def test_v3_to_v7_pass_twice_on_the_same_lab(playbook) -> None:
    first = playbook(only=UPGRADE_CHECKS + ["V9"])
    assert first.rc == 0, first.stdout[-4000:]
    for check_id in UPGRADE_CHECKS + ["V9"]:
        assert first.check(check_id)["verdict"] == "PASS", first.check(check_id)
    v4 = {p["name"]: p["inputs"] for p in first.check("V4")["evidence"]["predicates"]}
    fixable = v4["V4.fixable_red_then_green"]["states"]
    assert fixable[0] == "failure" and fixable[-1] == "success"
    assert v4["V4.persistent_exactly_max_runs"]["runs"] == 3
    # A second run on the same lab: nothing duplicated, nothing of the first left open.
    second = playbook(only=UPGRADE_CHECKS + ["V9"])
    assert second.rc == 0, second.stdout[-4000:]
    assert all(second.check(c)["verdict"] == "PASS" for c in UPGRADE_CHECKS + ["V9"])
