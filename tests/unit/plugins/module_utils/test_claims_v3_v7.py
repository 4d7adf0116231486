# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V3's, V6's and V7's claims over hand-made inputs: healthy passes, nothing read never passes, each lie fails."""
from __future__ import annotations

import copy

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v3, v7

BUILD = "http://drone/recipe-maintainers/cc-ci/4"
V3 = {
    "recipe": "recipe-maintainers/custom-html-tiny", "prefix": "upgrade/", "prs": [{"html_url": "http://git/pr/2"}],
    "pr": {"html_url": "http://git/pr/2", "files": ["compose.yml"], "merged": False, "contained": False,
           "comments": [{"body": "!testme"}, {"body": f"### cc-ci results: PASS\nBuild: {BUILD}"}]},
    "offer": {"version": "1.0.2+2.38.0", "images": [{"image": "sws", "tag": "2.38.0", "newest": "2.39.0", "upgrade": True}]},
    "head": {"version": "1.0.3+2.39.0", "images": [{"image": "sws", "tag": "2.39.0"}]},
    "verdict": {"verdict": "GREEN", "build_url": BUILD},
    "skill": {"result": "SUCCESS", "result_line": "RESULT: SUCCESS"},
    "mains": [{"sha": "a" * 40}, {"sha": "a" * 40}],
}
V7 = {
    "bot": "cc-ci-bot", "replacement_branch": "upgrade/2.39.0",
    "merged_pr": {"number": 1}, "old_pr": {"number": 2},
    "prs": [{"number": 1, "state": "closed", "contained": True}, {"number": 2, "state": "closed"},
            {"number": 3, "state": "open", "user": "cc-ci-bot", "head_ref": "upgrade/2.39.0", "html_url": "http://git/pr/3"}],
    "mains": [{"sha": "b" * 40}, {"sha": "b" * 40}],
}


def test_healthy_passes_and_nothing_read_never_passes(failed_claims) -> None:
    for module, healthy in ((v3, V3), (v7, V7)):
        assert failed_claims(module, healthy) == {}
        assert not [p.name for p in module.evaluate({}) if p.ok]


def test_v3_lies(failed_claims) -> None:
    label = copy.deepcopy(V3)
    label["head"]["version"] = "1.0.2+2.38.0"
    assert "leaves the recipe version label at 1.0.2+2.38.0" in failed_claims(v3, label)["V3.version_label_bumped"]
    red = copy.deepcopy(V3)
    red["verdict"]["verdict"] = "RED"
    assert "claims SUCCESS but the PR head's run is RED" in failed_claims(v3, red)["V3.success_only_when_green"]
    merged = copy.deepcopy(V3)
    merged["pr"]["contained"] = True
    assert "guardrail broken" in failed_claims(v3, merged)["V3.not_merged"]
    twice = copy.deepcopy(V3)
    twice["prs"].insert(0, {"html_url": "http://git/pr/1"})
    assert ("the agent opened 2 upgrade/* PRs on recipe-maintainers/custom-html-tiny in one /recipe-upgrade run "
            "(http://git/pr/1, http://git/pr/2)") in failed_claims(v3, twice)["V3.one_upgrade_pr"]


def test_v7_lies(failed_claims) -> None:
    drift = copy.deepcopy(V7)
    drift["mains"][0]["sha"] = "c" * 40
    assert "the mirror was not reconciled" in failed_claims(v7, drift)["V7.mirror_equals_upstream"]
    left = copy.deepcopy(V7)
    left["prs"][1]["state"] = "open"
    assert "was left open" in failed_claims(v7, left)["V7.superseded_pr_closed"]
    merged = copy.deepcopy(V7)
    merged["prs"][2]["merged"] = True
    assert "guardrail broken" in failed_claims(v7, merged)["V7.nothing_merged_by_the_run"]


def test_v6_cited_builds_must_have_run_for_the_head(failed_claims) -> None:
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v6

    verify = {"url": "http://drone/o/cc-ci/4", "status": "success"}
    recipe = {"html_url": "http://git/o/r/pulls/1", "head_sha": "a" * 40, "builds": [{"url": "http://drone/o/cc-ci/3"}],
              "comments": [{"body": "verified with http://git/o/cc-ci/pulls/2 (branch-checkout run http://drone/o/cc-ci/4)"}]}
    test_pr = {"html_url": "http://git/o/cc-ci/pulls/2", "head_ref": "test-update/x", "files": ["tests/r/t.json"],
               "comments": [{"body": "pairs with http://git/o/r/pulls/1 (http://drone/o/cc-ci/4)"}]}
    healthy = {"pr": recipe, "ci_prs": [test_pr], "verify_builds": [verify],
               "skill": {"result": "SUCCESS+TESTPR"}, "before": {"ci_main": "m", "clones": {}},
               "after": {"ci_main": "m", "clones": {}}}
    assert failed_claims(v6, healthy) == {}
    assert not [p.name for p in v6.evaluate({}) if p.ok]
    stale = copy.deepcopy(healthy)
    stale["pr"]["comments"][0]["body"] = stale["pr"]["comments"][0]["body"].replace("cc-ci/4", "cc-ci/2")
    assert "did not run for the recipe head" in failed_claims(v6, stale)["V6.cited_builds_ran_for_this_head"]
