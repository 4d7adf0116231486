# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8's "one recipe at a time" from the agent's own order: with one runner builds never overlap, so
the claim must see an interleaved run through PR, comment, build and deploy times. And V8's other
claims, each failed by the lie of one component (the agent's /upgrade-all)."""
from __future__ import annotations

import copy

import pytest

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
    (pred,) = [p for p in v8.evaluate(inputs) if p.name == "V8.one_recipe_at_a_time"]
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


TINY_URL, HTML_URL = "http://gitea/recipe-maintainers/custom-html-tiny/pulls/3", "http://gitea/recipe-maintainers/custom-html/pulls/4"
HEALTHY = copy.deepcopy(SEQUENTIAL)
HEALTHY["prs"][TINY][0].update(html_url=TINY_URL, head_sha="a" * 40, merged=False)
HEALTHY["prs"][HTML][0].update(html_url=HTML_URL, head_sha="b" * 40, merged=False)
HEALTHY["builds"][1].update(status="failure", failed_steps=["test"], params={"RECIPE": "custom-html", "REF": "b" * 40})
HEALTHY["builds"][0].update(status="success", params={"RECIPE": "custom-html-tiny", "REF": "a" * 40})
HEALTHY["deploys"]["left_deployed"] = []
HEALTHY.update(
    expected=["custom-html", "custom-html-tiny"],
    dry_transcript="looking at upstream...\nCANDIDATES: custom-html-tiny, custom-html\n",
    dry_prs=[{"item": TINY, "prs": []}, {"item": HTML, "prs": []}],
    ci_prs=[], ci_branches_before=["main"], ci_branches_after=["main"],
    summary={"path": "/srv/cc-ci/.cc-ci-logs/upgrades/upgrade-all-1.md",
             "text": f"# PRs to review\n- {TINY_URL}\n- {HTML_URL}\n\n## Tests look stale\n- {HTML_URL}\n"})


def test_healthy_run_holds_every_claim(failed_claims) -> None:
    assert failed_claims(v8, HEALTHY) == {}


def _pr(inputs: dict, repo: str) -> dict:
    return inputs["prs"][repo][0]


LIES = [
    ("dry run lists one recipe", lambda i: i.update(dry_transcript="CANDIDATES: custom-html\n"),
     "V8.dry_run_lists_candidates", "--dry-run listed ['custom-html'] but upstream has upgrades for"),
    ("dry run lists nothing", lambda i: i.update(dry_transcript="done\n"),
     "V8.dry_run_lists_candidates", "no CANDIDATES line"),
    ("dry run opens a PR", lambda i: i["dry_prs"][0]["prs"].append({"html_url": "http://gitea/x/pulls/9"}),
     "V8.dry_run_opens_nothing", "--dry-run opened PRs: ['http://gitea/x/pulls/9']"),
    ("two PRs for one recipe, none for the other",
     lambda i: (i["prs"][TINY].append(dict(_pr(i, TINY), number=5)), i["prs"].update({HTML: []})),
     "V8.one_pr_per_candidate", "PRs per recipe {'custom-html-tiny': 2}"),
    ("--with-tests opens a cc-ci PR", lambda i: i.update(ci_prs=[{"html_url": "http://gitea/cc-ci/pulls/7"}]),
     "V8.no_tests_touched", "/upgrade-all used --with-tests"),
    ("--with-tests pushes a branch", lambda i: i.update(ci_branches_after=["main", "tests-custom-html"]),
     "V8.no_tests_touched", "/upgrade-all used --with-tests"),
    ("no teardown", lambda i: i["deploys"].update(left_deployed=["custom-html-2_lab_local"]),
     "V8.sandbox_torn_down", "sandbox deploys left after the run: ['custom-html-2_lab_local']"),
    ("summary without the PR list", lambda i: i["summary"].update(text="# Done\nall good\n"),
     "V8.summary_leads_with_prs", "does not lead with the list of PRs"),
    ("stale PR not in the stale section",
     lambda i: i["summary"].update(text=f"# PRs to review\n- {TINY_URL}\n- {HTML_URL}\n"),
     "V8.stale_prs_in_summary", f"stale-test PRs ['{HTML_URL}']"),
    ("a PR merged", lambda i: _pr(i, HTML).update(merged=True), "V8.nothing_merged", "guardrail broken"),
]


@pytest.mark.parametrize("lie,claim,words", [x[1:] for x in LIES], ids=[x[0] for x in LIES])
def test_each_lie_fails_its_claim(lie_fails_its_claim, lie, claim, words) -> None:
    lie_fails_its_claim(v8, HEALTHY, lie, claim, words)


def test_unread_inputs_fail_rather_than_pass(failed_claims) -> None:
    failed = failed_claims(v8, {"recipes": ["custom-html"]})
    assert set(failed) == {p.name for p in v8.evaluate(HEALTHY)}
