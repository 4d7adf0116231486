# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V5's claims over hand-made inputs: a healthy default-mode run passes; each lie fails its claim."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v5

BUILD = "http://drone/recipe-maintainers/cc-ci/12"
HEALTHY = {
    "pr": {"html_url": "http://git/pr/3", "head_sha": "a" * 40, "files": ["compose.yml"], "merged": False,
           "builds": [{"number": 12, "url": BUILD, "failed_steps": ["test:server_header"]}],
           "comments": [{"body": "!testme"}, {"body": f"### cc-ci results: FAIL\n{BUILD}"},
                        {"body": f"/recipe-upgrade: looks correct ({BUILD}). Stale: `test:server_header`. "
                                 "Re-run with `--with-tests`.", "html_url": "http://git/pr/3#c"}]},
    "skill": {"result": "SUCCESS-PENDING-TESTS", "result_line": "RESULT: SUCCESS-PENDING-TESTS"},
    "before": {"ci_branches": {"main": "c" * 40}}, "after": {"ci_branches": {"main": "c" * 40}}, "ci_prs": [],
}


def test_healthy_passes_and_nothing_read_fails(failed_claims) -> None:
    assert failed_claims(v5, HEALTHY) == {}
    assert not [p for p in v5.evaluate({}) if p.ok]


@pytest.mark.parametrize(("old", "new", "predicate", "words"), [
    (BUILD + ")", BUILD[:-2] + "11)", "V5.comment_cites_this_heads_run", "did not run for this head"),
    ("`test:server_header`", "`test:version`", "V5.explanatory_comment", "naming the stale test 'server_header'"),
    ("`--with-tests`", "later", "V5.explanatory_comment", "re-run --with-tests"),
])
def test_a_comment_that_lies_fails(failed_claims, old: str, new: str, predicate: str, words: str) -> None:
    inputs = copy.deepcopy(HEALTHY)
    inputs["pr"]["comments"][2]["body"] = inputs["pr"]["comments"][2]["body"].replace(old, new)
    failed = failed_claims(v5, inputs)
    assert predicate in failed and words in failed[predicate], failed


def test_a_test_edit_in_default_mode_fails(failed_claims) -> None:
    inputs = copy.deepcopy(HEALTHY)
    inputs["after"]["ci_branches"]["test-update/x"] = "d" * 40
    assert "default mode touched cc-ci tests" in failed_claims(v5, inputs)["V5.no_test_edited"]
