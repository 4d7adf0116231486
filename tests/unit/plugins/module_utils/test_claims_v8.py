# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8's "one recipe at a time" from the agent's own order: with one runner builds never overlap, so
the claim must see an interleaved run through PR, comment, build and deploy times."""
from __future__ import annotations

import copy

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v8

T = 1_800_000_000
TINY, HTML = "recipe-maintainers/custom-html-tiny", "recipe-maintainers/custom-html"


def iso(t: float) -> str:
    return __import__("datetime").datetime.fromtimestamp(t, __import__("datetime").timezone.utc).isoformat()


def build(number: int, recipe: str, created: int, started: int, finished: int) -> dict:
    return {"number": number, "url": f"http://drone/{number}", "params": {"RECIPE": recipe},
            "created": created, "started": started, "finished": finished}


SEQUENTIAL = {
    "recipes": ["custom-html-tiny", "custom-html"],
    "prs": {
        TINY: [{"number": 3, "created": T, "comments": [{"created_at": iso(T + 1)}, {"created_at": iso(T + 2)}]}],
        HTML: [{"number": 4, "created": T + 12, "comments": [{"created_at": iso(T + 13)}, {"created_at": iso(T + 25)}]}],
    },
    "builds": [build(1, "custom-html-tiny", T + 2, T + 2, T + 8), build(2, "custom-html", T + 14, T + 14, T + 20)],
    "deploys": {"max_concurrent": 1, "timeline": [
        {"t": T + 3.1, "stacks": ["custom-html-tiny-1_lab_local"]}, {"t": T + 7.4, "stacks": []},
        {"t": T + 15.2, "stacks": ["custom-html-2_lab_local"]}, {"t": T + 19.6, "stacks": []}]},
}


def judged(inputs: dict) -> tuple[bool, str, dict]:
    (pred,) = v8.evaluate(inputs)
    assert pred.name == "V8.one_recipe_at_a_time"
    return pred.ok, pred.diagnosis, pred.inputs


def test_one_recipe_after_the_other_holds() -> None:
    ok, _diagnosis, inputs = judged(SEQUENTIAL)
    assert ok, inputs
    assert inputs["spans"]["custom-html-tiny"]["first"].startswith("PR #3 opened")
    assert inputs["spans"]["custom-html-tiny"]["last"].startswith("build #1 finished")


def test_parallel_agent_with_one_runner_is_caught_without_overlapping_builds() -> None:
    """Both PRs opened at once; the builds queue behind each other on the one runner."""
    run = copy.deepcopy(SEQUENTIAL)
    run["prs"][HTML][0].update(created=T + 0.5, comments=[{"created_at": iso(T + 1)}])
    run["builds"][1].update(created=T + 2, started=T + 8, finished=T + 14)
    run["deploys"]["timeline"] = [{"t": T + 3, "stacks": ["custom-html-tiny-1_lab_local"]}, {"t": T + 7.5, "stacks": []},
                                  {"t": T + 9, "stacks": ["custom-html-2_lab_local"]}, {"t": T + 13.5, "stacks": []}]
    assert v8.overlapping_builds(run["builds"]) == []
    ok, diagnosis, inputs = judged(run)
    assert not ok and diagnosis.startswith("recipes ran in parallel: ")
    assert "custom-html's first action (PR #4 opened at " in diagnosis and "came before custom-html-tiny's run ended" in diagnosis
    assert inputs["overlapping_builds"] == []


def test_two_runners_overlap_is_caught_too() -> None:
    run = copy.deepcopy(SEQUENTIAL)
    run["prs"][HTML][0].update(created=T + 1)
    run["builds"][1].update(created=T + 2, started=T + 3, finished=T + 9)
    run["deploys"]["max_concurrent"] = 2
    ok, diagnosis, inputs = judged(run)
    assert not ok and "overlapping builds" in diagnosis and "2 sandbox deploys alive at once" in diagnosis


def test_stacks_map_to_the_longest_recipe_name() -> None:
    assert v8._recipe_of("custom-html-tiny-1_lab_local", ["custom-html", "custom-html-tiny"]) == "custom-html-tiny"
    assert v8._recipe_of("custom-html-2_lab_local", ["custom-html", "custom-html-tiny"]) == "custom-html"
    assert v8._recipe_of("other-1", ["custom-html"]) is None


def test_same_second_is_not_disorder() -> None:
    run = copy.deepcopy(SEQUENTIAL)
    run["prs"][HTML][0]["created"] = T + 8  # B opened in the second A's last build ended
    run["prs"][HTML][0]["comments"] = []
    assert judged(run)[0]


def test_nothing_seen_fails() -> None:
    ok, diagnosis, _inputs = judged({"recipes": ["custom-html"], "prs": {}, "builds": [], "deploys": {}})
    assert not ok and "cannot be judged" in diagnosis
