# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V2's claims: ``testme-on-pr.sh`` posts exactly what it is told to and reports the run it should.

``inputs`` (gathered by roles/v2_testme_helper): the green and red PRs as opened (``green_pr``,
``red_pr``); the helper's runs (testme_helper results, each with ``verdict``, ``build_url``, ``rc``,
``started``, ``finished``): ``green`` (POST=1), ``pending`` (POST=1, short MAX_WAIT, red head),
``red`` (POST=0, red head), ``rerun`` (POST=1 again on the green head, which has a result),
``inflight`` (POST=0 on the green head while ``other_trigger``'s run is in flight) and
``new_head`` (POST=0, short MAX_WAIT, on the red PR's new head); the PRs read back
(``green_after``, ``red_after``: gitea_pr_info); the builds Drone has for each head (``builds``:
``green``, ``red``, ``red_new``); both result surfaces of each head (``surfaces``); what Drone
itself contradicted (``drone_lies``); the BUILD= links looked up in Drone's API (``links``); and
the box's exit-code contract when the operator gave one (``exit_codes``).

Comments and builds carry whole-second times; a run's window is [floor(started), finished].
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig

TRIGGER = "!testme"
# The helper's runs in the order V2 drives them; ``post`` says what each was told.
RUNS = (("green", True), ("pending", True), ("red", False), ("rerun", True), ("inflight", False), ("new_head", False))


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _within(when: Any, run: dict[str, Any]) -> bool:
    at, started, finished = _epoch(when), _epoch(run.get("started")), _epoch(run.get("finished"))
    if at is None or started is None or finished is None:
        return False
    return math.floor(started) <= at <= finished


def _url(value: Any) -> str:
    return str(value or "").rstrip("/")


def _short(sha: Any) -> str:
    return str(sha or "?")[:10]


def _triggers(pr_info: dict[str, Any], run: dict[str, Any], others: frozenset[Any] = frozenset()) -> list[dict[str, Any]]:
    """The ``!testme`` comments on the PR created while ``run`` ran, less the ones V2 itself posted
    (``others``: a whole-second ``created_at`` can put the comment posted just after a run in its window)."""
    comments = dig(pr_info, "pr", "comments", default=[]) or []
    return [c for c in comments if (c.get("body") or "").strip() == TRIGGER and c.get("id") not in others
            and _within(c.get("created_at"), run)]


def _said(run: dict[str, Any]) -> str:
    """What the helper said; when it was stopped (testme_helper's watch), why."""
    verdict = run.get("verdict")
    said = verdict if verdict and verdict != "UNKNOWN" else "nothing"
    return f"{said} ({run['stopped']})" if run.get("stopped") else said


def _number(build: dict[str, Any] | None) -> str:
    return f"#{build.get('number')}" if build else "none"


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    runs = {name: dict(inputs.get("runs", {}).get(name) or {}) for name, _post in RUNS}
    green_after = inputs.get("green_after") or {}
    red_after = inputs.get("red_after") or {}
    red_new = inputs.get("red_new_after") or {}
    builds = inputs.get("builds") or {}
    green_builds = sorted(builds.get("green") or [], key=lambda b: b.get("number") or 0)
    red_builds = builds.get("red") or []
    red_new_builds = builds.get("red_new") or []
    short_wait = inputs.get("short_wait")
    preds: list[Predicate] = []

    # -- what the helper posted ------------------------------------------------------------------
    mine = frozenset(i for i in [dig(inputs, "other_trigger", "comment", "id")] if i is not None)
    posted = {"green": _triggers(green_after, runs["green"]), "pending": _triggers(red_after, runs["pending"]),
              "rerun": _triggers(green_after, runs["rerun"], mine)}
    counts = {k: len(v) for k, v in posted.items()}
    wrong = {k: n for k, n in counts.items() if n != 1}
    preds.append(Predicate(
        "V2.post1_posts_exactly_one", not wrong,
        "; ".join(f"POST=1 ({k} run) posted {n} !testme comments, not exactly one: the helper "
                  + ("posts more than once" if n > 1 else "did not post") for k, n in wrong.items()),
        {"posted": counts},
    ))
    quiet = {"red": _triggers(red_after, runs["red"]), "inflight": _triggers(green_after, runs["inflight"], mine),
             "new_head": _triggers(red_new, runs["new_head"])}
    noisy = {k: len(v) for k, v in quiet.items() if v}
    unrun = [k for k in quiet if runs[k].get("finished") is None]
    preds.append(Predicate(
        "V2.post0_posts_nothing", not noisy and not unrun,
        "; ".join([f"POST=0 re-triggered: the helper posted {n} !testme while only polling ({k} run)"
                   for k, n in noisy.items()] + [f"the POST=0 {k} run did not happen" for k in unrun]),
        {"posted": {k: len(v) for k, v in quiet.items()}},
    ))

    # -- the three verdicts of the plan ----------------------------------------------------------
    green_surfaces = dig(inputs, "surfaces", "green", default={}) or {}
    red_surfaces = dig(inputs, "surfaces", "red", default={}) or {}
    for name, run, want, surfaces, what in (
        ("V2.green_reads_green", runs["green"], "GREEN", green_surfaces, "the known-green head"),
        ("V2.red_reads_red", runs["red"], "RED", red_surfaces, "the known-red head"),
    ):
        said = _said(run)
        why = "; ".join(surfaces.get("findings") or [])
        preds.append(Predicate(
            name, run.get("verdict") == want,
            f"the helper said {said} on {what}, not {want}" + (f" ({why})" if why else ""),
            {"verdict": run.get("verdict"), "build": run.get("build_url"), "findings": surfaces.get("findings") or []},
        ))
    preds.append(Predicate(
        "V2.pending_while_in_flight", runs["pending"].get("verdict") == "PENDING",
        f"with MAX_WAIT={short_wait} during the run the helper said {runs['pending'].get('verdict') or 'nothing'}, "
        "not PENDING" + (": it waits past MAX_WAIT" if runs["pending"].get("verdict") in ("GREEN", "RED")
                         and (_epoch(runs["pending"].get("finished")) or 0) - (_epoch(runs["pending"].get("started")) or 0)
                         > float(short_wait or 0) + 5 else ": it reports a result the run does not have yet"),
        {"verdict": runs["pending"].get("verdict"), "max_wait": short_wait,
         "seconds": runs["pending"].get("seconds")},
    ))

    findings = [f"{what} head: {f}" for what, surf in (("green", green_surfaces), ("red", red_surfaces))
                for f in surf.get("findings") or []]
    unread = [what for what, surf in (("green", green_surfaces), ("red", red_surfaces)) if not surf]
    preds.append(Predicate(
        "V2.result_surfaces_agree", not findings and not unread,
        "the bridge's result surfaces disagree: " + "; ".join(findings) if findings
        else f"the result surfaces of the {' and '.join(unread)} head were never read",
        {"findings": findings},
    ))

    # -- BUILD= is the run that very !testme started ---------------------------------------------
    def own_build(run: dict[str, Any], comment: dict[str, Any] | None, candidates: list[dict[str, Any]]
                  ) -> dict[str, Any] | None:
        if not comment:
            return None
        at = _epoch(comment.get("created_at")) or 0
        mine = [b for b in candidates if (b.get("created") or 0) >= math.floor(at) and _within(b.get("created"), run)]
        return min(mine, key=lambda b: b.get("number") or 0) if mine else None

    first = own_build(runs["green"], (posted["green"] or [None])[0], green_builds)
    preds.append(Predicate(
        "V2.build_is_own_build", first is not None and _url(runs["green"].get("build_url")) == _url(first.get("url")),
        f"BUILD= on the green head ({runs['green'].get('build_url') or '?'}) is not the build its !testme started "
        f"({(first or {}).get('url') or 'no build was created after that comment'})",
        {"build": runs["green"].get("build_url"), "own_build": (first or {}).get("url")},
    ))
    red_own = sorted(red_builds, key=lambda b: b.get("number") or 0)
    preds.append(Predicate(
        "V2.post0_follows_the_run", len(red_own) == 1 and _url(runs["red"].get("build_url")) == _url(red_own[0].get("url")),
        f"BUILD= of POST=0 on the red head ({runs['red'].get('build_url') or '?'}) is not the head's one run "
        f"({', '.join(b.get('url') or '?' for b in red_own) or 'none'})",
        {"build": runs["red"].get("build_url"), "builds": [b.get("url") for b in red_own]},
    ))
    again = own_build(runs["rerun"], (posted["rerun"] or [None])[0], green_builds)
    older = [b for b in green_builds if again is None or (b.get("number") or 0) < (again.get("number") or 0)]
    said = _url(runs["rerun"].get("build_url"))
    stale = next((b for b in older if _url(b.get("url")) == said), None)
    preds.append(Predicate(
        "V2.rerun_reports_own_build",
        again is not None and said == _url(again.get("url")) and runs["rerun"].get("verdict") == "GREEN",
        (f"the helper returned an earlier run's result on POST=1: BUILD={said or '?'} is build {_number(stale)}, "
         f"from before its own !testme (its run: {_number(again)})") if stale else
        (f"POST=1 on a head that already had a result: the helper said {_said(runs['rerun'])} "
         f"BUILD={said or '?'}, not GREEN with the build its own !testme started ({(again or {}).get('url') or 'none'})"),
        {"verdict": runs["rerun"].get("verdict"), "build": said, "own_build": (again or {}).get("url"),
         "earlier_builds": [b.get("url") for b in older]},
    ))
    other = dig(inputs, "other_trigger", "build", default={}) or {}
    said = _url(runs["inflight"].get("build_url"))
    stale = next((b for b in green_builds if _url(b.get("url")) == said and said != _url(other.get("url"))), None)
    preds.append(Predicate(
        "V2.inflight_reports_that_run",
        bool(other) and said == _url(other.get("url")) and runs["inflight"].get("verdict") == "GREEN",
        (f"POST=0 during run {_number(other)} reported the older build {_number(stale)} ({said}): the helper "
         "returns a stale result, not the run in flight") if stale else
        (f"POST=0 during run {_number(other) if other else '(none started)'} on the green head: the helper said "
         f"{_said(runs['inflight'])} BUILD={said or '?'}, not that run's GREEN"),
        {"verdict": runs["inflight"].get("verdict"), "build": said, "run_in_flight": other.get("url")},
    ))
    new_sha = dig(red_new, "pr", "head_sha")
    old_sha = dig(inputs, "red_pr", "head_sha")
    said_verdict = runs["new_head"].get("verdict")
    said = _url(runs["new_head"].get("build_url"))
    carried = said_verdict in ("GREEN", "RED") and not red_new_builds
    preds.append(Predicate(
        "V2.no_verdict_carried_to_new_head",
        bool(new_sha) and new_sha != old_sha and said_verdict == "PENDING" and said not in {_url(b.get("url")) for b in red_builds},
        (f"the helper carried the old head's verdict over to the new head {_short(new_sha)}: it said {said_verdict} "
         f"BUILD={said or '?'} although {_short(new_sha)} has no run (the old head {_short(old_sha)} was RED)")
        if carried or said in {_url(b.get("url")) for b in red_builds} else
        f"on the red PR's new head {_short(new_sha)} (no run yet) the helper said {said_verdict or 'nothing'}, not PENDING",
        {"verdict": said_verdict, "build": said, "new_head": new_sha, "old_head": old_sha,
         "new_head_builds": [b.get("url") for b in red_new_builds]},
    ))

    # -- Drone and the harness, read cold ---------------------------------------------------------
    linked_wrong = [link.get("problem") for link in inputs.get("links") or [] if link.get("url") and link.get("problem")]
    if inputs.get("links") is None:
        linked_wrong = ["the BUILD= links were not looked up in Drone"]
    preds.append(Predicate(
        "V2.build_links_in_drone", not linked_wrong, "; ".join(linked_wrong),
        {"links": [{k: link.get(k) for k in ("label", "url", "exists", "problem")} for link in inputs.get("links") or []]},
    ))
    passed = [b.get("url") for b in red_builds if not b.get("failed_steps")]
    preds.append(Predicate(
        "V2.harness_fails_red_head", bool(red_builds) and not passed,
        f"the harness passed the known-red head: Drone build(s) {passed} for REF={_short(old_sha)} (an image tag no "
        "registry has) have no failed step: the harness did not test REF" if passed else
        f"the known-red head {_short(old_sha)} got no Drone build",
        {"builds": [{"url": b.get("url"), "failed_steps": b.get("failed_steps")} for b in red_builds]},
    ))
    lies = list(inputs.get("drone_lies") or [])
    preds.append(Predicate("V2.drone_tells_truth", bool(green_surfaces and red_surfaces) and not lies,
                           "; ".join(lies) or "Drone's builds were never read against the result surfaces",
                           {"lies": lies}))

    # -- exit status: judged only against a contract the operator states --------------------------
    contract = inputs.get("exit_codes") or {}
    if contract:
        off = {name: {"verdict": run.get("verdict"), "rc": run.get("rc"), "want": contract.get(run.get("verdict"))}
               for name, run in runs.items() if run and contract.get(run.get("verdict")) is not None
               and run.get("rc") != contract.get(run.get("verdict"))}
        preds.append(Predicate(
            "V2.exit_status_matches_contract", not off,
            "; ".join(f"the helper exited {o['rc']} after VERDICT={o['verdict']} ({k} run), the contract says {o['want']}"
                      for k, o in off.items()),
            {"contract": contract, "rc": {k: r.get("rc") for k, r in runs.items()}},
        ))

    merged = [pr for pr in (green_after, red_new or red_after) if dig(pr, "pr", "merged", default=False)]
    unread = not (dig(green_after, "pr") and dig(red_new or red_after, "pr"))
    preds.append(Predicate("V2.prs_not_merged", not merged and not unread,
                           "a verification PR was merged (guardrail broken)" if merged
                           else "the verification PRs were not read back: whether they were merged is unknown",
                           {"merged": [dig(pr, "pr", "html_url") for pr in merged]}))
    return preds
