"""V1 and V2 against the lab: PASS when the lab is healthy, FAIL with the right diagnosis per fault."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_v1_v2_pass_on_a_healthy_lab(playbook) -> None:
    run = playbook(only=["V1", "V2", "V9"])
    assert run.rc == 0, run.stdout[-3000:]
    for check_id in ("V1", "V2", "V9"):
        assert run.check(check_id)["verdict"] == "PASS", run.check(check_id)
    v1 = run.check("V1")["evidence"]
    assert v1["bot_outcome"] == "fired" and v1["outsider_outcome"] == "rejected"
    assert v1["bad_trigger_outcome"] == "ignored" and v1["verdict"] == "GREEN"
    assert v1["build"].startswith("http://127.0.0.1:")
    v2 = run.check("V2")["evidence"]
    assert v2["green_run"]["verdict"] == "GREEN" and v2["red_run"]["verdict"] == "RED"
    assert "| V1 |" in run.review and "PASS" in run.review


@pytest.mark.parametrize(
    ("fault", "check_id", "diagnosis"),
    [
        ("bridge-accepts-outsiders", "V1", "membership gate"),
        ("bridge-fires-on-prefix", "V1", "prefix"),
        ("bridge-not-polling-sandbox", "V1", "not polling"),
        ("bridge-no-status", "V2", "status surface missing"),
        ("helper-posts-twice", "V2", "not exactly one"),
        ("helper-posts-when-polling", "V2", "POST=0 re-triggered"),
    ],
)
def test_each_fault_fails_its_check(playbook, fault_row, fault: str, check_id: str, diagnosis: str) -> None:
    run = playbook(faults=[fault], only=[check_id, "V9"])
    result = fault_row(fault, check_id, run)
    assert result["verdict"] == "FAIL", result
    assert run.rc != 0, f"{fault} went undetected:\n{run.stdout[-3000:]}"
    assert diagnosis in result["diagnosis"], result["diagnosis"]
    assert run.check("V9")["verdict"] == "PASS", run.check("V9")
