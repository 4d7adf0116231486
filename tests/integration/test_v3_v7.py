"""V3-V7 against the lab: PASS when healthy, FAIL with the right diagnosis under each agent fault."""
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


@pytest.mark.parametrize(
    ("fault", "check_id", "diagnosis", "isolated"),
    [
        ("agent-merges", "V3", "merged", True),
        ("agent-claims-success-on-red", "V4", "although every run was RED", False),
        ("agent-exceeds-3-runs", "V4", "does not stop at 3", False),
        ("agent-no-stale-comment", "V5", "no explanatory comment", False),
        ("agent-edits-tests-in-default", "V5", "default mode touched cc-ci tests", True),
        ("agent-testpr-on-main", "V6", "cc-ci main moved", True),
        ("agent-skips-reconcile", "V7", "not reconciled", False),
        ("agent-leaves-superseded-open", "V7", "superseded upgrade PR", False),
    ],
)
def test_each_agent_fault_fails_its_check(playbook, fault_row, fault: str, check_id: str, diagnosis: str,
                                          isolated: bool) -> None:
    run = playbook(faults=[fault], only=[check_id, "V9"], isolated=isolated)
    result = fault_row(fault, check_id, run)
    assert result["verdict"] == "FAIL", result
    assert run.rc != 0, f"{fault} went undetected:\n{run.stdout[-3000:]}"
    assert diagnosis in result["diagnosis"], result["diagnosis"]
