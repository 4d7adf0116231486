# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V5's claims: a stale cc-ci test in default mode gets an explanatory comment and no test edit.

``inputs`` (gathered by roles/v5_stale_test_comment): ``pr`` (the upgrade PR the agent opened, with
``comments``, ``files`` and ``builds``: every Drone build of its head, with ``failed_steps``),
``skill`` (agent_skill), ``before``/``after`` (cc-ci snapshots) and ``ci_prs`` (cc-ci PRs opened
during the run).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import BRIDGE_COMMENT, BUILD_URL, Predicate, dig


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    pr = inputs.get("pr") or {}
    builds = sorted(pr.get("builds") or [], key=lambda b: b.get("number") or 0)
    last = builds[-1] if builds else {}
    failed = list(last.get("failed_steps") or [])
    stale_steps = [s for s in failed if s.startswith("test:")]
    stale = stale_steps[0][5:] if stale_steps else "?"
    notes = [c for c in pr.get("comments") or [] if (c.get("body") or "").strip() != "!testme"
             and not BRIDGE_COMMENT.match(c.get("body") or "")]
    explains = [c for c in notes if stale in (c.get("body") or "") and "--with-tests" in (c.get("body") or "")]
    by_url = {(b.get("url") or "").rstrip("/"): b for b in builds}
    cited = sorted({u.rstrip("/.,;:") for c in explains for u in BUILD_URL.findall(c.get("body") or "")})
    not_of_head = [u for u in cited if u not in by_url]
    no_such_failure = [u for u in cited if u in by_url and f"test:{stale}" not in (by_url[u].get("failed_steps") or [])]
    before, after = inputs.get("before") or {}, inputs.get("after") or {}
    ci_prs = [p.get("html_url") for p in inputs.get("ci_prs") or []]
    test_files = [f for f in pr.get("files") or [] if f.startswith("tests/")]
    result_line = dig(inputs, "skill", "result_line")
    return [
        Predicate("V5.upgrade_pr_with_a_run", bool(pr) and bool(last),
                  "the skill opened no upgrade PR with a run on the stale-test recipe", {"pr": pr.get("html_url")}),
        Predicate("V5.run_failed_on_a_test", bool(stale_steps) and "deploy" not in failed,
                  f"the head's run did not fail on a cc-ci test (failed steps {failed}): the case is not a stale test",
                  {"build": last.get("url"), "failed_steps": failed}),
        Predicate("V5.explanatory_comment", bool(explains),
                  f"no explanatory comment on {pr.get('html_url') or 'the PR'} naming the stale test '{stale}' and "
                  "'re-run --with-tests'", {"stale_test": stale, "comment": (explains or [{}])[0].get("html_url")}),
        Predicate("V5.comment_cites_this_heads_run", bool(explains) and not not_of_head and not no_such_failure,
                  "the agent's comment cites "
                  + (f"build(s) {not_of_head} that did not run for this head {str(pr.get('head_sha') or '?')[:10]} "
                     f"(its builds: {sorted(by_url)})" if not_of_head else
                     f"build(s) {no_such_failure} whose failed steps do not include test:{stale}" if no_such_failure
                     else "nothing: there is no explanatory comment"),
                  {"cited": cited, "head_builds": sorted(by_url), "stale_test": stale}),
        Predicate("V5.no_test_edited",
                  bool(before) and before.get("ci_branches") == after.get("ci_branches") and not ci_prs,
                  f"default mode touched cc-ci tests: branches {before.get('ci_branches')} → {after.get('ci_branches')}, "
                  f"PRs {ci_prs}", {"ci_prs": ci_prs}),
        Predicate("V5.recipe_pr_touches_no_test", bool(pr) and not test_files, "the recipe PR changes test files",
                  {"test_files": test_files}),
        Predicate("V5.reports_success_pending_tests", dig(inputs, "skill", "result") == "SUCCESS-PENDING-TESTS",
                  f"the skill reported {result_line or 'no RESULT line'}, not RESULT: SUCCESS-PENDING-TESTS",
                  {"result_line": result_line}),
        Predicate("V5.not_merged", bool(pr) and not pr.get("merged") and not pr.get("contained"),
                  "the V5 PR was merged: guardrail broken" if pr else "no V5 PR was read back",
                  {"merged": pr.get("merged"), "contained": pr.get("contained")}),
    ]
