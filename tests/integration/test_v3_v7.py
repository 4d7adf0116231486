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
    v4 = first.check("V4")["evidence"]
    assert v4["fixable"]["build_states"][0] == "failure" and v4["fixable"]["build_states"][-1] == "success"
    assert v4["persistent"]["build_states"] == ["failure"] * 3
    # A second run on the same lab: nothing duplicated, nothing of the first left open.
    second = playbook(only=UPGRADE_CHECKS + ["V9"])
    assert second.rc == 0, second.stdout[-4000:]
    assert all(second.check(c)["verdict"] == "PASS" for c in UPGRADE_CHECKS + ["V9"])
