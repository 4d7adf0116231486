# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V4's claims over hand-made inputs: a healthy loop passes; each lie fails its own predicate."""
from __future__ import annotations


import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v4

DRONE = "http://drone/recipe-maintainers/cc-ci"
T0 = 1_796_032_800  # 2026-11-30T10:00:00Z


def _iso(offset: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(T0 + offset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _case(number: int, states: list[str], first: int, result: str, line: str, *, head: str) -> dict:
    builds = [{"number": first + i, "url": f"{DRONE}/{first + i}", "status": s, "created": T0 + 10 * i + 1}
              for i, s in enumerate(states)]
    comments = []
    for i, b in enumerate(builds):
        comments += [{"body": "!testme", "created_at": _iso(10 * i)},
                     {"body": f"cc-ci results — {b['url']}", "created_at": _iso(10 * i + 5)}]
    return {
        "seeded": {"number": number, "head_sha": "a" * 40, "html_url": f"http://git/pr/{number}"},
        "prs": [{"number": number, "state": "open", "head_sha": head, "merged": False, "comments": comments}],
        "builds": list(reversed(builds)),
        "skill": {"result": result, "result_line": line,
                  "reported_runs": [{"verdict": "GREEN" if s == "success" else "RED", "build": b["url"]}
                                    for s, b in zip(states, builds)]},
        "snapshot": {"ci_main": "c" * 40, "ci_open_prs": []},
    }


@pytest.fixture
def healthy() -> dict:
    return {"max_runs": 3, "cases": {
        "fixable": _case(5, ["failure", "success"], 1, "SUCCESS", "RESULT: SUCCESS", head="b" * 40),
        "persistent": _case(6, ["failure", "failure", "failure"], 3, "FAILED",
                            "RESULT: FAILED — upgrade not green after 3 !testme runs", head="a" * 40),
    }}


def test_a_healthy_loop_passes_every_claim(failed_claims, healthy) -> None:
    assert failed_claims(v4, healthy) == {}


def test_nothing_read_never_passes() -> None:
    assert not [p.name for p in v4.evaluate({}) if p.ok]


def _stop_early(i: dict) -> None:
    case = i["cases"]["persistent"]
    case["builds"] = case["builds"][1:]
    case["prs"][0]["comments"] = case["prs"][0]["comments"][:4]
    case["skill"]["reported_runs"] = case["skill"]["reported_runs"][:2]


LIES = [
    (lambda i: i["cases"]["fixable"]["builds"][0].update(status="running"), "V4.builds_terminal", "still in flight"),
    (_stop_early, "V4.persistent_exactly_max_runs", "2 runs / 2 !testme instead of exactly 3 (the loop stops early)"),
    (lambda i: i["cases"]["persistent"]["skill"]["reported_runs"][2].update(build=f"{DRONE}/3"),
     "V4.reported_runs_match_builds", "agent misreports its persistent runs"),
    (lambda i: i["cases"]["fixable"]["builds"].append({"number": 99, "url": f"{DRONE}/99", "status": "failure",
                                                       "created": T0 + 2}),
     "V4.one_build_per_testme", "not one each"),
    (lambda i: i["cases"]["persistent"]["skill"].update(result="SUCCESS", result_line="RESULT: SUCCESS"),
     "V4.persistent_reports_failed", "although every run was RED"),
    (lambda i: i["cases"]["fixable"]["prs"][0].update(head_sha="a" * 40), "V4.fix_on_same_branch", "same PR branch"),
    (lambda i: i["cases"]["persistent"]["snapshot"].update(ci_main="d" * 40), "V4.ci_untouched", "touched the tests"),
]


@pytest.mark.parametrize(("lie", "predicate", "words"), LIES, ids=[p for _lie, p, _words in LIES])
def test_each_lie_fails_its_claim(lie_fails_its_claim, healthy, lie, predicate: str, words: str) -> None:
    lie_fails_its_claim(v4, healthy, lie, predicate, words)
