# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V3's claims: /recipe-upgrade in default mode opens a real bump whose run is GREEN on the PR.

``inputs`` (gathered by roles/v3_recipe_upgrade): ``prs`` (every ``prefix``* PR the bot opened on the
mirror during the run), ``pr`` (the upgrade PR, the newest of them, with files, comments, ``merged``
and ``contained``), ``offer`` (recipe_upgrade_info on the mirror
before the run), ``head`` (recipe_upgrade_info at the PR head), ``verdict`` (drone_verdict of the
head), ``skill`` (agent_skill), ``mains`` (mirror main's and upstream main's SHAs), ``recipe``
and ``prefix`` (the skill's branch prefix).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    pr = inputs.get("pr") or {}
    offer = next((i for i in dig(inputs, "offer", "images", default=[]) or [] if i.get("upgrade")), {})
    bumped = next((i for i in dig(inputs, "head", "images", default=[]) or [] if i.get("image") == offer.get("image")), {})
    comments = pr.get("comments") or []
    testmes = [c for c in comments if (c.get("body") or "").strip() == "!testme"]
    build = dig(inputs, "verdict", "build_url")
    results = [c for c in comments if build and build in (c.get("body") or "")]
    verdict = dig(inputs, "verdict", "verdict")
    result = dig(inputs, "skill", "result") or "no RESULT line"
    line = dig(inputs, "skill", "result_line") or "no RESULT line"
    shas = [m.get("sha") for m in inputs.get("mains") or []]
    old_version, new_version = dig(inputs, "offer", "version"), dig(inputs, "head", "version")
    opened = inputs.get("prs")
    urls = [p.get("html_url") for p in opened or []]
    return [
        Predicate("V3.upgrade_pr_opened", bool(pr),
                  f"the skill opened no {inputs.get('prefix') or ''}* PR on {inputs.get('recipe') or 'the recipe'}",
                  {"pr": pr.get("html_url")}),
        Predicate("V3.one_upgrade_pr", opened is not None and len(opened) == 1,
                  f"the agent opened {len(opened)} {inputs.get('prefix') or ''}* PRs on {inputs.get('recipe') or 'the recipe'} "
                  f"in one /recipe-upgrade run ({', '.join(map(str, urls))}): one upgrade is one PR"
                  if opened else "the PRs the agent opened were not read", {"prs": urls}),
        Predicate("V3.image_bumped", "compose.yml" in (pr.get("files") or []) and bool(offer)
                  and bumped.get("tag") == offer.get("newest"),
                  f"the PR does not bump {offer.get('image') or 'the image'} to {offer.get('newest') or '?'} in compose.yml "
                  f"(head has {bumped.get('tag') or '?'})",
                  {"image": offer.get("image"), "want": offer.get("newest"), "head": bumped.get("tag")}),
        Predicate("V3.version_label_bumped", bool(new_version) and new_version != old_version,
                  f"the PR leaves the recipe version label at {old_version or '?'}",
                  {"before": old_version, "head": new_version}),
        Predicate("V3.run_recorded_on_pr", bool(testmes) and bool(results),
                  f"the !testme run and its result are not on the PR ({len(testmes)} !testme, {len(results)} comments "
                  f"citing build {build or '?'})", {"testmes": len(testmes), "result_comments": len(results)}),
        Predicate("V3.head_run_green", verdict == "GREEN", f"the PR head's run is {verdict or 'missing'}, not GREEN",
                  {"verdict": verdict, "build": build}),
        Predicate("V3.reports_success", result == "SUCCESS", f"the skill reported {line}, not RESULT: SUCCESS",
                  {"result_line": line}),
        Predicate("V3.success_only_when_green", bool(verdict) and (result != "SUCCESS" or verdict == "GREEN"),
                  f"the agent claims SUCCESS but the PR head's run is {verdict or 'missing'}",
                  {"result": result, "verdict": verdict}),
        Predicate("V3.mirror_equals_upstream", len(shas) == 2 and bool(shas[0]) and shas[0] == shas[1],
                  f"mirror main ({(shas[:1] or ['?'])[0]}) is not upstream main ({(shas[1:2] or ['?'])[0]}): "
                  "the mirror was not reconciled", {"mains": shas}),
        Predicate("V3.not_merged", bool(pr) and not pr.get("merged") and not pr.get("contained"),
                  f"PR {pr.get('html_url') or '?'} was merged (its head is on mirror main): guardrail broken" if pr
                  else "no V3 PR was read back", {"merged": pr.get("merged"), "contained": pr.get("contained")}),
    ]
