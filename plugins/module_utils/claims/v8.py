# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8's claims on the weekly /upgrade-all: a dry run that lists the candidates and changes nothing, a
live run with one PR per candidate, one recipe at a time, no cc-ci tests touched, every sandbox
deploy torn down, nothing merged, and a summary that leads with the PRs and names the stale tests.

"One recipe at a time" is judged from the agent's own order, not from build intervals.

A box usually has one Drone runner: its builds never overlap, whatever the agent does, so build
intervals alone prove nothing. What the agent did for each recipe, read cold, gives the recipe's
span: from its first action (the recipe PR opened, a comment on it, a build for it, its app seen
deployed) to its last (a comment, a build's end, its app last seen deployed). One recipe at a time
means the spans do not interleave: recipe B's first action comes after recipe A's teardown.

``inputs`` (gathered by roles/v8_upgrade_all): ``recipes`` (the sandbox recipes), ``mirror_org``,
``prs`` (``{repo: [gitea_prs_info PRs with details]}``, opened by the live run), ``builds``
(drone_builds_info since the live run started) and ``deploys`` (deploy_watch, stopped, with its
``timeline``); for the other claims ``expected`` (the candidates worked out here from upstream and
the registry), ``dry_transcript`` (the dry run's output), ``dry_prs`` (gitea_prs_info results over
the repos, since the dry run started), ``ci_prs`` (the cc-ci PRs the live run opened),
``ci_branches_before``/``ci_branches_after`` (cc-ci's branches around the live run) and ``summary``
(read_summary's ``{path, text}``).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate

# Gitea and Drone stamp whole seconds and the deploy sampler looks every fraction of one: two
# events this close are not ordered by what V8 reads.
TOLERANCE = 1.0


def _unix(value: Any) -> float | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S")


def _recipe_of(name: str, recipes: list[str]) -> str | None:
    """The recipe of a stack or repo name: the longest recipe name it starts with (custom-html-tiny
    before custom-html), followed by a separator or the end."""
    for recipe in sorted(recipes, key=len, reverse=True):
        if name == recipe or name.startswith((recipe + "-", recipe + "_", recipe + ".")):
            return recipe
    return None


def recipe_events(inputs: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """Every timed action of the run, per recipe: ``(unix time, what)``."""
    recipes = list(inputs.get("recipes") or [])
    events: dict[str, list[tuple[float, str]]] = {r: [] for r in recipes}

    def add(recipe: str | None, when: Any, what: str) -> None:
        t = _unix(when)
        if recipe in events and t is not None:
            events[recipe].append((t, what))

    for repo, prs in (inputs.get("prs") or {}).items():
        recipe = _recipe_of(str(repo).rsplit("/", 1)[-1], recipes)
        for pr in prs or []:
            add(recipe, pr.get("created"), f"PR #{pr.get('number')} opened")
            for comment in pr.get("comments") or []:
                add(recipe, comment.get("created_at"), f"comment on PR #{pr.get('number')}")
    for build in inputs.get("builds") or []:
        recipe = _recipe_of(str((build.get("params") or {}).get("RECIPE") or ""), recipes)
        add(recipe, build.get("created"), f"build #{build.get('number')} triggered")
        add(recipe, build.get("finished"), f"build #{build.get('number')} finished")
    timeline = (inputs.get("deploys") or {}).get("timeline") or []
    for index, sample in enumerate(timeline):
        before = set(timeline[index - 1]["stacks"]) if index else set()
        for stack in set(sample.get("stacks") or []) - before:
            add(_recipe_of(stack, recipes), sample.get("t"), f"{stack} deployed")
        for stack in before - set(sample.get("stacks") or []):
            add(_recipe_of(stack, recipes), sample.get("t"), f"{stack} gone")
    return {r: sorted(e) for r, e in events.items() if e}


def interleavings(events: dict[str, list[tuple[float, str]]]) -> list[str]:
    """One sentence per pair of recipes whose spans overlap (by more than TOLERANCE)."""
    spans = sorted((e[0], e[-1], r) for r, e in events.items())
    found = []
    for i, (a_start, a_end, a) in enumerate(spans):
        for b_start, _b_end, b in spans[i + 1:]:
            if b_start[0] < a_end[0] - TOLERANCE:
                found.append(f"{b}'s first action ({b_start[1]} at {_clock(b_start[0])}) came before {a}'s run "
                             f"ended ({a_end[1]} at {_clock(a_end[0])})")
    return found


def overlapping_builds(builds: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(builds, key=lambda b: b.get("number") or 0)
    found = []
    for i, b in enumerate(ordered):
        for c in ordered[i + 1:]:
            if (c.get("started") or 0) < (b.get("finished") or 9e12) and (b.get("started") or 0) < (c.get("finished") or 9e12):
                found.append(f"{b.get('url')} & {c.get('url')}")
    return found


def _listed(transcript: Any) -> list[str] | None:
    """The recipes the dry run named on its ``CANDIDATES:`` line (sorted), None without that line."""
    m = re.search(r"CANDIDATES:[ \t]*([^\n]*)", str(transcript or ""))
    return None if m is None else sorted(x.strip() for x in m.group(1).split(",") if x.strip())


def _sections(text: str) -> tuple[str, str]:
    """The summary's first section (up to its first ``## `` heading) and its "stale" section's body."""
    first = re.sub(r"^\s*", "", text).split("\n## ")[0]
    m = re.search(r"(?ims)^#+[^\n]*stale[^\n]*\n(.*?)(?=^#|\Z)", text)
    return first, m.group(1) if m else ""


def _stale_prs(recipe_prs: list[dict[str, Any]], builds: list[dict[str, Any]]) -> list[str]:
    """Recipe PRs whose head ran a build that failed on a step: the stale-test candidates."""
    failed_refs = {(b.get("params") or {}).get("REF") for b in builds
                   if b.get("status") != "success" and b.get("failed_steps")}
    return [str(pr.get("html_url")) for pr in recipe_prs if pr.get("head_sha") in failed_refs]


def _run_claims(inputs: dict[str, Any]) -> list[Predicate]:
    """What the dry run and the live run did, besides their order."""
    recipes = list(inputs.get("recipes") or [])
    expected = inputs.get("expected")
    expected = sorted(expected) if isinstance(expected, list) else None
    listed = _listed(inputs.get("dry_transcript"))
    dry = inputs.get("dry_prs")
    dry_opened = None if dry is None else [pr.get("html_url") for r in dry for pr in (r.get("prs") or [])]
    prs = inputs.get("prs")
    recipe_prs = [pr for repo_prs in (prs or {}).values() for pr in (repo_prs or [])]
    per_recipe: dict[str, int] = {}
    for repo, repo_prs in (prs or {}).items():
        recipe = _recipe_of(str(repo).rsplit("/", 1)[-1], recipes) or str(repo)
        per_recipe[recipe] = per_recipe.get(recipe, 0) + len(repo_prs or [])
    per_recipe = {r: n for r, n in per_recipe.items() if n}
    ci_prs = inputs.get("ci_prs")
    before, after = inputs.get("ci_branches_before"), inputs.get("ci_branches_after")
    left = (inputs.get("deploys") or {}).get("left_deployed")
    summary = inputs.get("summary") or {}
    text = str(summary.get("text") or "")
    first, stale_section = _sections(text)
    urls = [str(pr.get("html_url")) for pr in recipe_prs]
    stale = _stale_prs(recipe_prs, list(inputs.get("builds") or []))
    merged = [str(pr.get("html_url")) for pr in recipe_prs + list(ci_prs or []) if pr.get("merged")]
    return [
        Predicate("V8.dry_run_lists_candidates", expected is not None and listed == expected,
                  f"the agent's /upgrade-all --dry-run listed {listed if listed is not None else 'no CANDIDATES line'} "
                  f"but upstream has upgrades for {expected}" if expected is not None
                  else "the candidates were not worked out from upstream: the dry run cannot be judged",
                  {"expected": expected, "listed": listed}),
        Predicate("V8.dry_run_opens_nothing", dry_opened == [],
                  f"the agent's /upgrade-all --dry-run opened PRs: {dry_opened}" if dry_opened
                  else "the PRs of the dry run were not read", {"opened": dry_opened}),
        Predicate("V8.one_pr_per_candidate",
                  prs is not None and bool(expected) and per_recipe == dict.fromkeys(expected or [], 1),
                  f"the live run opened {len(recipe_prs)} recipe PR(s) for {len(expected or [])} candidate(s): "
                  f"PRs per recipe {per_recipe}, candidates {expected}" if prs is not None
                  else "the live run's PRs were not read", {"per_recipe": per_recipe, "candidates": expected}),
        Predicate("V8.no_tests_touched",
                  ci_prs == [] and before is not None and before == after,
                  f"the weekly run touched cc-ci tests (PRs {[pr.get('html_url') for pr in ci_prs or []]}, branches "
                  f"{before} -> {after}): /upgrade-all used --with-tests" if ci_prs is not None and before is not None
                  else "cc-ci's PRs and branches around the live run were not read",
                  {"ci_prs": [pr.get("html_url") for pr in ci_prs or []], "branches_before": before, "branches_after": after}),
        Predicate("V8.sandbox_torn_down", left == [],
                  f"sandbox deploys left after the run: {left} (no teardown)" if left
                  else "the sandbox deploys were not watched", {"left_deployed": left}),
        Predicate("V8.summary_leads_with_prs",
                  bool(summary.get("path")) and bool(urls) and all(u in first for u in urls),
                  f"the /upgrade-all summary ({summary.get('path') or 'none'}) does not lead with the list of PRs to "
                  f"review: {[u for u in urls if u not in first] or 'no PR opened'}",
                  {"summary": summary.get("path"), "prs": urls, "first_section": first[:300]}),
        Predicate("V8.stale_prs_in_summary", bool(summary.get("path")) and all(u in stale_section for u in stale),
                  f"stale-test PRs {[u for u in stale if u not in stale_section]} are not in the /upgrade-all "
                  f"summary's 'tests look stale' section" if summary.get("path") else "no /upgrade-all summary was found",
                  {"stale_prs": stale, "stale_section": stale_section[:300]}),
        Predicate("V8.nothing_merged", prs is not None and not merged,
                  f"a V8 PR was merged: guardrail broken ({merged})" if merged else "the live run's PRs were not read",
                  {"merged": merged}),
    ]


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    return [_order_claim(inputs), *_run_claims(inputs)]


def _order_claim(inputs: dict[str, Any]) -> Predicate:
    events = recipe_events(inputs)
    interleaved = interleavings(events)
    builds = overlapping_builds(inputs.get("builds") or [])
    most = (inputs.get("deploys") or {}).get("max_concurrent")
    problems = interleaved + ([f"overlapping builds {builds}"] if builds else []) \
        + ([f"{most} sandbox deploys alive at once"] if (most or 0) > 1 else [])
    spans = {r: {"first": f"{e[0][1]} at {_clock(e[0][0])}", "last": f"{e[-1][1]} at {_clock(e[-1][0])}"}
             for r, e in events.items()}
    return Predicate(
        "V8.one_recipe_at_a_time", not problems and bool(events) and most is not None,
        ("recipes ran in parallel: " + "; ".join(problems)) if problems
        else "no action of the live run was seen (no PR, build or deploy): the order cannot be judged"
        if not events else "the sandbox deploys were not watched: the order cannot be judged",
        {"spans": spans, "interleaved": interleaved, "overlapping_builds": builds, "max_concurrent_deploys": most},
    )
