# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V6's claims: --with-tests opens a cc-ci test PR from its own branch and verifies the pair.

``inputs`` (gathered by roles/v6_with_tests_pr): ``pr`` (the recipe upgrade PR, with comments and
``builds``: the Drone builds of its head), ``ci_prs`` (cc-ci PRs opened during the run, with
files and comments), ``verify_builds`` (builds of the recipe head with ``TESTS_REF`` = the test
branch), ``skill`` (agent_skill), ``before``/``after`` (cc-ci and the loops' clones).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import BRIDGE_COMMENT, BUILD_URL, Predicate, dig


def _texts(pr: dict[str, Any]) -> list[str]:
    """The PR body and the comments a person or the agent wrote (not the bridge's own)."""
    return [pr.get("body") or ""] + [c.get("body") or "" for c in pr.get("comments") or []
                                     if not BRIDGE_COMMENT.match(c.get("body") or "")]


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    pr = inputs.get("pr") or {}
    ci_prs = list(inputs.get("ci_prs") or [])
    test_pr = ci_prs[-1] if ci_prs else {}
    files = list(test_pr.get("files") or [])
    verify = list(inputs.get("verify_builds") or [])
    green = [b.get("url") for b in verify if b.get("status") == "success"]
    before, after = inputs.get("before") or {}, inputs.get("after") or {}
    recipe_text, test_text = "\n".join(_texts(pr)), "\n".join(_texts(test_pr))
    ran = {(b.get("url") or "").rstrip("/") for b in [*(pr.get("builds") or []), *verify]}
    cited = sorted({u.rstrip("/.,;:") for t in (recipe_text, test_text) for u in BUILD_URL.findall(t)})
    foreign = [u for u in cited if u not in ran]
    line = dig(inputs, "skill", "result_line") or "no RESULT line"
    merged = [p.get("html_url") for p in (pr, test_pr) if p and (p.get("merged") or p.get("contained"))]
    return [
        Predicate("V6.recipe_pr_opened", bool(pr), "the skill opened no recipe upgrade PR on the stale-test recipe",
                  {"pr": pr.get("html_url")}),
        Predicate("V6.test_pr_on_dedicated_branch", len(ci_prs) == 1 and test_pr.get("head_ref") not in (None, "main", "master"),
                  f"wanted one cc-ci test PR from a dedicated branch; found {[p.get('head_ref') for p in ci_prs]}",
                  {"branches": [p.get("head_ref") for p in ci_prs]}),
        Predicate("V6.test_pr_touches_only_tests", bool(files) and all(f.startswith("tests/") for f in files),
                  f"the cc-ci PR touches more than tests: {files}", {"files": files}),
        Predicate("V6.ci_main_untouched", bool(before) and before.get("ci_main") == after.get("ci_main"),
                  f"cc-ci main moved ({before.get('ci_main') or '?'} → {after.get('ci_main') or '?'}): the test update "
                  "went to main, not a branch", {"before": before.get("ci_main"), "after": after.get("ci_main")}),
        Predicate("V6.loops_clones_untouched", bool(before) and before.get("clones") == after.get("clones"),
                  f"the loops' working clones changed: {before.get('clones')} → {after.get('clones')}",
                  {"before": before.get("clones"), "after": after.get("clones")}),
        Predicate("V6.head_green_with_test_branch", bool(green),
                  f"no GREEN build of the recipe head {pr.get('head_sha') or '?'} with tests from "
                  f"{test_pr.get('head_ref') or '?'} (verify-pr.sh)", {"verify_builds": [b.get("url") for b in verify]}),
        Predicate("V6.prs_cross_linked", bool(pr) and bool(test_pr) and (test_pr.get("html_url") or "-") in recipe_text
                  and (pr.get("html_url") or "-") in test_text,
                  "the two PRs do not cross-reference each other",
                  {"recipe_pr": pr.get("html_url"), "test_pr": test_pr.get("html_url")}),
        Predicate("V6.cited_builds_ran_for_this_head", bool(pr) and not foreign,
                  f"the agent cites build(s) {foreign} that did not run for the recipe head "
                  f"{str(pr.get('head_sha') or '?')[:10]} (its builds: {sorted(ran)})" if foreign else "no recipe PR was read back",
                  {"cited": cited, "ran": sorted(ran)}),
        Predicate("V6.reports_success_testpr", dig(inputs, "skill", "result") == "SUCCESS+TESTPR",
                  f"the skill reported {line}, not RESULT: SUCCESS+TESTPR", {"result_line": line}),
        Predicate("V6.nothing_merged", bool(pr) and not merged,
                  f"a V6 PR was merged: guardrail broken ({merged})" if merged else "no recipe PR was read back",
                  {"merged": merged}),
    ]
