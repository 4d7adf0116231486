"""The lab at a box's settings (LAB_PROFILE=box-like: one Drone runner, Gitea page cap 20, builds of
10 s, a 5 s bridge poll) passes V1, V2, V4, V8 and V8a: every wait reads the lab's timings instead of
outlasting constants tuned for 3 s builds and a 1 s poll (issue 11, item 6)."""
from __future__ import annotations

import pytest

from lab.profiles import extra_vars

pytestmark = pytest.mark.slow

CHECKS = ["V1", "V2", "V4", "V8", "V8a"]


@pytest.fixture(scope="module")
def box_like_run(playbook):
    return playbook(only=CHECKS, extra=extra_vars("box-like"), isolated=True, timeout=3000)


@pytest.mark.parametrize("check_id", CHECKS)
def test_box_like_check_passes(box_like_run, check_id: str) -> None:
    result = box_like_run.check(check_id)
    assert result["verdict"] == "PASS", (check_id, result.get("diagnosis"), box_like_run.stdout[-2000:])


def test_box_like_lab_runs_with_its_profile(box_like_run) -> None:
    v1 = box_like_run.check("V1")["evidence"]
    assert v1["quiet_window_seconds"] in (12.5, "12.5")  # 2.5 bridge polls of 5 s
    assert box_like_run.check("V8")["evidence"]["max_concurrent_deploys"] == 1
