# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V2's claims over hand-made inputs: a healthy helper passes every predicate; each lie fails its own."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v2

DRONE = "http://drone/recipe-maintainers/cc-ci"
T0 = 1_700_000_000


def _iso(t: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(verdict: str, build: int | None, start: float, end: float, rc: int) -> dict:
    return {"verdict": verdict, "build_url": f"{DRONE}/{build}" if build else None, "rc": rc,
            "started": start, "finished": end, "seconds": end - start}


def _build(number: int, created: int, failed: bool = False) -> dict:
    return {"number": number, "url": f"{DRONE}/{number}", "created": created, "finished": created + 3,
            "failed_steps": ["deploy"] if failed else []}


def _testme(at: float) -> dict:
    return {"body": "!testme", "created_at": _iso(at)}


@pytest.fixture
def healthy() -> dict:
    # green #1: S1 10-15 (build 1), S4 30-35 (build 3), other trigger at 40 (build 4), S5 41-45
    # red #2: S2 20-21 (build 2 in flight), S3 22-26, new head, S6 50-51
    return {
        "short_wait": 1,
        "exit_codes": {"GREEN": 0, "RED": 1, "PENDING": 2},
        "green_pr": {"number": 1, "head_sha": "a" * 40},
        "red_pr": {"number": 2, "head_sha": "b" * 40},
        "runs": {
            "green": _run("GREEN", 1, T0 + 10, T0 + 15, 0),
            "pending": _run("PENDING", None, T0 + 20, T0 + 21.5, 2),
            "red": _run("RED", 2, T0 + 22, T0 + 26, 1),
            "rerun": _run("GREEN", 3, T0 + 30, T0 + 35, 0),
            "inflight": _run("GREEN", 4, T0 + 41, T0 + 45, 0),
            "new_head": _run("PENDING", None, T0 + 50, T0 + 51.5, 2),
        },
        "other_trigger": {"build": {"number": 4, "url": f"{DRONE}/4"}},
        "green_after": {"pr": {"comments": [_testme(T0 + 10.4), _testme(T0 + 30.3), _testme(T0 + 40)]}},
        "red_after": {"pr": {"comments": [_testme(T0 + 20.2)]}},
        "red_new_after": {"pr": {"head_sha": "c" * 40, "comments": [_testme(T0 + 20.2)]}},
        "builds": {"green": [_build(4, T0 + 40), _build(3, T0 + 31), _build(1, T0 + 11)],
                   "red": [_build(2, T0 + 21, failed=True)], "red_new": []},
        "surfaces": {"green": {"findings": []}, "red": {"findings": []}},
        "drone_lies": [],
        "links": [{"label": "BUILD=", "url": f"{DRONE}/1", "exists": True, "problem": None}],
    }


def test_a_healthy_helper_passes_every_claim(failed_claims, healthy) -> None:
    assert failed_claims(v2, healthy) == {}


def test_exit_codes_are_judged_only_against_a_stated_contract(failed_claims, healthy) -> None:
    healthy["runs"]["red"]["rc"] = 0
    assert "V2.exit_status_matches_contract" in failed_claims(v2, healthy)
    healthy["exit_codes"] = {}
    assert not any(p.name == "V2.exit_status_matches_contract" for p in v2.evaluate(healthy))


LIES = [
    # (what the lie changes, the predicate that must fail, words of its diagnosis)
    (lambda i: i["green_after"]["pr"]["comments"].append(_testme(T0 + 10.9)),
     "V2.post1_posts_exactly_one", "posts more than once"),
    (lambda i: i["red_after"]["pr"]["comments"].append(_testme(T0 + 23)),
     "V2.post0_posts_nothing", "POST=0 re-triggered"),
    (lambda i: i["runs"]["rerun"].update(build_url=f"{DRONE}/1"),
     "V2.rerun_reports_own_build", "earlier run's result"),
    (lambda i: i["runs"]["inflight"].update(build_url=f"{DRONE}/3"),
     "V2.inflight_reports_that_run", "stale result"),
    (lambda i: i["runs"]["new_head"].update(verdict="RED", build_url=f"{DRONE}/2"),
     "V2.no_verdict_carried_to_new_head", "carried the old head's verdict"),
    (lambda i: i["runs"]["pending"].update(verdict="GREEN"),
     "V2.pending_while_in_flight", "not PENDING"),
    (lambda i: i["runs"]["green"].update(build_url=f"{DRONE}/3"),
     "V2.build_is_own_build", "not the build its !testme started"),
    (lambda i: i["builds"]["red"][0].update(failed_steps=[]),
     "V2.harness_fails_red_head", "the harness passed the known-red head"),
    (lambda i: i["surfaces"]["red"].update(findings=["result surfaces disagree: x"]),
     "V2.result_surfaces_agree", "bridge's result surfaces disagree"),
    (lambda i: i["links"][0].update(problem="no such build"),
     "V2.build_links_in_drone", "no such build"),
]


@pytest.mark.parametrize(("lie", "predicate", "words"), LIES, ids=[p for _lie, p, _words in LIES])
def test_each_lie_fails_its_claim(lie_fails_its_claim, healthy, lie, predicate: str, words: str) -> None:
    lie_fails_its_claim(v2, healthy, lie, predicate, words)


def test_missing_inputs_never_pass() -> None:
    assert not [p.name for p in v2.evaluate({}) if p.ok]


def test_the_trigger_v2_posts_itself_is_not_the_helpers(failed_claims, healthy) -> None:
    # Gitea's created_at is whole seconds: V2's own !testme just after the rerun can fall in its window.
    inputs = copy.deepcopy(healthy)
    inputs["runs"]["rerun"]["finished"] = T0 + 40.5
    inputs["green_after"]["pr"]["comments"][2]["id"] = 77
    inputs["other_trigger"]["comment"] = {"id": 77}
    assert "V2.post1_posts_exactly_one" not in failed_claims(v2, inputs)
    del inputs["other_trigger"]["comment"]
    assert "posts more than once" in failed_claims(v2, inputs)["V2.post1_posts_exactly_one"]
