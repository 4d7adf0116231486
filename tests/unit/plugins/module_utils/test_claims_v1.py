# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V1's claims over what roles/v1_testme_gate read: each lie fails its own predicate with its diagnosis."""
from __future__ import annotations

import copy

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v1

BUILD = "http://drone/recipe-maintainers/cc-ci/7"
HEAD = "9d97" + "0" * 36
HEALTHY = {
    "repo": "recipe-maintainers/custom-html-tiny",
    "bot": {"outcome": "fired", "seconds": 1.5, "build": {"number": 7},
            "comment": {"created_at": "2026-11-30T10:00:00Z"}},
    "verdict": {"verdict": "GREEN", "build_number": 7, "build_url": BUILD, "lies": [], "findings": [],
                "surfaces": {"status": {"present": True}, "comment": {"present": True}, "findings": []}},
    "outsider": {"outcome": "rejected"},
    "bad_trigger": {"outcome": "ignored"},
    "pr_after": {"pr": {"merged": False, "head_sha": HEAD, "statuses": [
        {"context": "cc-ci/testme", "state": "success", "target_url": BUILD, "created_at": "2026-11-30T10:00:09Z"},
        {"context": "cc-ci/testme", "state": "pending", "target_url": BUILD, "created_at": "2026-11-30T10:00:01Z"}]}},
    # 10:00:01 and 10:00:08 UTC
    "builds": [{"number": 7, "url": BUILD, "created": 1796032801, "finished": 1796032808}],
    "deploys": {"left_deployed": [], "stacks_seen": ["custom-html-tiny-7_lab_local"]},
}


def judged(inputs: dict) -> dict[str, tuple[bool, str]]:
    return {p.name: (p.ok, p.diagnosis) for p in v1.evaluate(inputs)}


def failing(**changes) -> dict[str, str]:
    inputs = copy.deepcopy(HEALTHY)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = inputs
        for key in parents:
            node = node[key]
        node[leaf] = value
    return {name: diagnosis for name, (ok, diagnosis) in judged(inputs).items() if not ok}


def test_healthy_gate_every_claim_holds() -> None:
    result = judged(HEALTHY)
    assert list(result) == ["V1.bot_testme_fires", "V1.known_green_head_is_green", "V1.drone_record_consistent",
                            "V1.harness_tore_down", "V1.result_lands_on_pr", "V1.one_build_per_comment",
                            "V1.status_on_head_sha", "V1.result_after_build_end", "V1.result_surfaces_agree",
                            "V1.non_member_rejected",
                            "V1.exact_trigger_only", "V1.pr_not_merged"]
    assert all(ok for ok, _diagnosis in result.values())


def test_bridge_not_polling() -> None:
    assert failing(bot__outcome="timeout", bot__seconds=12) == {
        "V1.bot_testme_fires": "the bot's !testme fired nothing within 12 s: bridge is not polling "
                               "recipe-maintainers/custom-html-tiny (check POLL_REPOS) or is down"}


def test_red_run_names_verdict_and_findings() -> None:
    found = failing(verdict__verdict="RED", verdict__surfaces__findings=["status and comment disagree"])
    assert found == {"V1.known_green_head_is_green": "the known-green head's run did not come back GREEN on the "
                                                     "PR (verdict RED; status and comment disagree)",
                     "V1.result_surfaces_agree": "the bridge's result surfaces disagree: status and comment disagree"}


def test_no_result_surface() -> None:
    assert failing(verdict__surfaces={}) == {
        "V1.result_lands_on_pr": "the run's result never landed on the PR (no cc-ci/testme status and no result "
                                 "comment)",
        "V1.result_surfaces_agree": "the run's result surfaces were never read"}
    found = failing(verdict__verdict="PENDING", verdict__surfaces={})
    assert "(verdict PENDING; no result surface)" in found["V1.known_green_head_is_green"]


def test_membership_gate_open_and_prefix_trigger_and_merge() -> None:
    assert failing(outsider__outcome="fired") == {
        "V1.non_member_rejected": "a non-member's !testme was not rejected (outcome fired): the bridge's "
                                  "org-membership gate is open"}
    assert failing(bad_trigger__outcome="fired") == {
        "V1.exact_trigger_only": "'!testmexyz' fired a run (outcome fired): the bridge parses the trigger as a "
                                 "prefix, not the exact command"}
    assert failing(pr_after__pr__merged=True) == {
        "V1.pr_not_merged": "the verification PR was merged (guardrail broken)"}
    unread = failing(pr_after={})  # nothing read back: neither the merge nor the head's status is known
    assert set(unread) == {"V1.pr_not_merged", "V1.status_on_head_sha", "V1.result_after_build_end"}
    assert unread["V1.pr_not_merged"] == "the verification PR was not read back: whether it was merged is unknown"


def test_tasks_that_never_ran_fail_their_claims() -> None:
    # The bot's comment fired nothing, so the verdict task was skipped: Ansible registers {"skipped": true}.
    found = failing(bot__outcome="timeout", verdict={"skipped": True})
    assert set(found) == {"V1.bot_testme_fires", "V1.known_green_head_is_green", "V1.result_lands_on_pr",
                          "V1.result_surfaces_agree"}
    assert "verdict none" in found["V1.known_green_head_is_green"]


def test_held_build_names_the_state_from_the_waiter() -> None:
    found = failing(verdict__verdict="BLOCKED",
                    verdict__findings=["build #7 is blocked: its stage waits for approval in Drone (blocked)"])
    assert found == {"V1.known_green_head_is_green": "the known-green head's run did not come back GREEN on the PR "
                     "(verdict BLOCKED; build #7 is blocked: its stage waits for approval in Drone (blocked))"}


def test_drone_contradicting_itself() -> None:
    lie = "Drone build #7 finished before it started (started 100, finished 93)"
    assert failing(verdict__lies=[lie]) == {"V1.drone_record_consistent": lie}


def test_harness_left_the_app_deployed() -> None:
    assert failing(deploys__left_deployed=["custom-html-tiny-7_lab_local"]) == {
        "V1.harness_tore_down": "the harness left custom-html-tiny-7_lab_local deployed after build #7 ended: its "
                                "teardown did not remove the app"}
    assert "V1.harness_tore_down" in failing(deploys={})


def test_one_comment_two_builds() -> None:
    second = {"number": 8, "url": BUILD[:-1] + "8", "created": 1796032801, "finished": 1796032809}
    found = failing(builds=HEALTHY["builds"] + [second])
    assert found == {"V1.one_build_per_comment": "one !testme started 2 Drone builds for 9d97000000 (#7, #8): "
                                                 "the bridge triggered more than once for one comment"}


def test_status_on_another_sha_or_link() -> None:
    found = failing(pr_after__pr__statuses=[])
    assert found["V1.status_on_head_sha"].startswith("the bridge posted no final cc-ci/testme status on the head 9d97000000")
    other = [{"context": "cc-ci/testme", "state": "success", "target_url": BUILD[:-1] + "6",
              "created_at": "2026-11-30T10:00:09Z"}]
    assert "link ['http://drone/recipe-maintainers/cc-ci/6']" in failing(pr_after__pr__statuses=other)["V1.status_on_head_sha"]


def test_result_before_the_build_ended() -> None:
    early = [{"context": "cc-ci/testme", "state": "success", "target_url": BUILD, "created_at": "2026-11-30T10:00:01Z"}]
    found = failing(pr_after__pr__statuses=early)
    assert found == {"V1.result_after_build_end": f"the bridge posted success on 9d97000000 at 2026-11-30T10:00:01Z, "
                                                  f"before build {BUILD} finished: a result the run did not have yet"}


def test_surfaces_that_disagree_fail() -> None:
    found = failing(verdict__surfaces__findings=["result surfaces disagree: x"])
    assert found == {"V1.result_surfaces_agree": "the bridge's result surfaces disagree: result surfaces disagree: x"}
