# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V7's claims: after seeded drift the mirror is reconciled and the stale PRs are dealt with.

``inputs`` (gathered by roles/v7_mirror_reconcile): ``prs`` (gitea_prs_info of the mirror since
the check started, with ``contained``), ``merged_pr`` and ``old_pr`` (the seeded merged-upstream
and superseded PRs as opened), ``replacement_branch`` (where the skill opens the new upgrade),
``bot`` (the bot's login) and ``mains`` (mirror main's and upstream main's SHAs, in that order).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig


def _pr(prs: list[dict[str, Any]], number: Any) -> dict[str, Any]:
    return next((p for p in prs if number is not None and p.get("number") == number), {})


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    prs = list(inputs.get("prs") or [])
    shas = [m.get("sha") for m in inputs.get("mains") or []]
    merged = _pr(prs, dig(inputs, "merged_pr", "number"))
    old = _pr(prs, dig(inputs, "old_pr", "number"))
    branch = inputs.get("replacement_branch") or "?"
    new = [p for p in prs if p.get("user") == inputs.get("bot") and p.get("head_ref") == branch
           and p.get("state") == "open" and p.get("number") != old.get("number")]
    run_merged = [p.get("html_url") for p in prs if p.get("merged")
                  or (p.get("contained") and p.get("number") != merged.get("number"))]
    return [
        Predicate("V7.mirror_equals_upstream", len(shas) == 2 and bool(shas[0]) and shas[0] == shas[1],
                  f"mirror main ({(shas[:1] or ['?'])[0]}) is not identical to upstream main "
                  f"({(shas[1:2] or ['?'])[0]}): the mirror was not reconciled", {"mains": shas}),
        Predicate("V7.merged_upstream_pr_closed", merged.get("state") == "closed",
                  f"the PR whose change is already in upstream main ({merged.get('html_url') or '?'}) is still "
                  f"{merged.get('state') or 'missing'}", {"pr": merged.get("html_url"), "state": merged.get("state")}),
        Predicate("V7.superseded_pr_closed", old.get("state") == "closed",
                  f"the superseded upgrade PR {old.get('html_url') or '?'} was left {old.get('state') or 'missing'}",
                  {"pr": old.get("html_url"), "state": old.get("state")}),
        Predicate("V7.one_replacement_pr", len(new) == 1,
                  f"wanted one open replacement upgrade PR from {branch}; found {[p.get('html_url') for p in new]}",
                  {"branch": branch, "replacements": [p.get("html_url") for p in new]}),
        Predicate("V7.nothing_merged_by_the_run", bool(prs) and not run_merged,
                  f"a V7 PR was merged: guardrail broken ({run_merged})" if run_merged else "the mirror's PRs were not read back",
                  {"merged": run_merged}),
    ]
