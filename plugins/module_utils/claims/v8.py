# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8's claim "one recipe at a time", judged from the agent's own order, not from build intervals.

A box usually has one Drone runner: its builds never overlap, whatever the agent does, so build
intervals alone prove nothing. What the agent did for each recipe, read cold, gives the recipe's
span: from its first action (the recipe PR opened, a comment on it, a build for it, its app seen
deployed) to its last (a comment, a build's end, its app last seen deployed). One recipe at a time
means the spans do not interleave: recipe B's first action comes after recipe A's teardown.

``inputs`` (gathered by roles/v8_upgrade_all): ``recipes`` (the sandbox recipes), ``mirror_org``,
``prs`` (``{repo: [gitea_prs_info PRs with details]}``, opened by the live run), ``builds``
(drone_builds_info since the live run started) and ``deploys`` (deploy_watch, stopped, with its
``timeline``).
"""
from __future__ import annotations

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


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    events = recipe_events(inputs)
    interleaved = interleavings(events)
    builds = overlapping_builds(inputs.get("builds") or [])
    most = (inputs.get("deploys") or {}).get("max_concurrent")
    problems = interleaved + ([f"overlapping builds {builds}"] if builds else []) \
        + ([f"{most} sandbox deploys alive at once"] if (most or 0) > 1 else [])
    spans = {r: {"first": f"{e[0][1]} at {_clock(e[0][0])}", "last": f"{e[-1][1]} at {_clock(e[-1][0])}"}
             for r, e in events.items()}
    return [
        Predicate(
            "V8.one_recipe_at_a_time", not problems and bool(events) and most is not None,
            ("recipes ran in parallel: " + "; ".join(problems)) if problems
            else "no action of the live run was seen (no PR, build or deploy): the order cannot be judged"
            if not events else "the sandbox deploys were not watched: the order cannot be judged",
            {"spans": spans, "interleaved": interleaved, "overlapping_builds": builds, "max_concurrent_deploys": most},
        ),
    ]
