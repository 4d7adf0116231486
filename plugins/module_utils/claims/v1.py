# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V1's claims: the bot's ``!testme`` is the real gate, a non-member's and a bad trigger are not.

``inputs`` (gathered by roles/v1_testme_gate): ``repo``; the registered results ``bot`` (the bot's
``!testme``, gitea_testme), ``verdict`` (drone_verdict on its build), ``outsider`` (a non-member's
``!testme``), ``bad_trigger`` (``!testmexyz``), ``pr_after`` (gitea_pr_info after all of them) and
``deploys`` (deploy_watch over the recipe's stacks, stopped after the verdict).
A result of a task that never ran is missing or ``{}``: its claim fails, it never passes.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig

CONTEXT = "cc-ci/testme"


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    repo = inputs.get("repo") or "the sandbox recipe"
    bot_outcome = dig(inputs, "bot", "outcome")
    bot_seconds = dig(inputs, "bot", "seconds", default="?")
    verdict = dig(inputs, "verdict", "verdict")
    surfaces = dig(inputs, "verdict", "surfaces", default={})
    # the waiter's own sentences (a held or stalled build, a bound hit) come with the surfaces' findings
    findings = dig(inputs, "verdict", "findings", default=[]) or surfaces.get("findings") or ["no result surface"]
    build_number = dig(inputs, "verdict", "build_number")
    lies = dig(inputs, "verdict", "lies", default=[])
    deploys = inputs.get("deploys") or {}
    left = deploys.get("left_deployed")
    status_present = bool(dig(surfaces, "status", "present", default=False))
    comment_present = bool(dig(surfaces, "comment", "present", default=False))
    outsider = dig(inputs, "outsider", "outcome")
    bad_trigger = dig(inputs, "bad_trigger", "outcome")
    merged = dig(inputs, "pr_after", "pr", "merged")
    return [
        Predicate(
            "V1.bot_testme_fires", bot_outcome == "fired",
            f"the bot's !testme fired nothing within {bot_seconds} s: bridge is not polling {repo} "
            "(check POLL_REPOS) or is down",
            {"outcome": bot_outcome, "seconds": bot_seconds, "repo": repo},
        ),
        Predicate(
            "V1.known_green_head_is_green", verdict == "GREEN",
            f"the known-green head's run did not come back GREEN on the PR (verdict {verdict or 'none'}; "
            f"{'; '.join(findings)})",
            {"verdict": verdict, "findings": findings, "wait_ended": dig(inputs, "verdict", "wait_ended"),
             "queue": dig(inputs, "verdict", "queue", default={})},
        ),
        Predicate(
            "V1.drone_record_consistent", bool(inputs.get("verdict")) and not lies,
            "; ".join(lies) if lies else "no Drone build was read",
            {"build": build_number, "lies": lies},
        ),
        Predicate(
            "V1.harness_tore_down", left == [],
            f"the harness left {', '.join(left or [])} deployed after build #{build_number} ended: its teardown "
            "did not remove the app" if left else "the recipe's deploys were not watched: teardown unknown",
            {"left_deployed": left, "stacks_seen": deploys.get("stacks_seen")},
        ),
        Predicate(
            "V1.result_lands_on_pr", status_present or comment_present,
            "the run's result never landed on the PR (no cc-ci/testme status and no result comment)",
            {"status_present": status_present, "comment_present": comment_present},
        ),
        *_run_claims(inputs, repo),
        Predicate(
            "V1.non_member_rejected", outsider == "rejected",
            f"a non-member's !testme was not rejected (outcome {outsider or 'none'}): the bridge's "
            "org-membership gate is open",
            {"outcome": outsider},
        ),
        Predicate(
            "V1.exact_trigger_only", bad_trigger == "ignored",
            f"'!testmexyz' fired a run (outcome {bad_trigger or 'none'}): the bridge parses the trigger "
            "as a prefix, not the exact command",
            {"outcome": bad_trigger},
        ),
        Predicate(
            "V1.pr_not_merged", merged is False,
            "the verification PR was merged (guardrail broken)" if merged
            else "the verification PR was not read back: whether it was merged is unknown",
            {"merged": merged},
        ),
    ]


def _run_claims(inputs: dict[str, Any], repo: str) -> list[Predicate]:
    """One comment, one build, and its result on exactly the head it built, after it ended."""
    sha = dig(inputs, "pr_after", "pr", "head_sha") or dig(inputs, "bot", "head_sha") or ""
    comment_at = _epoch(dig(inputs, "bot", "comment", "created_at"))
    fired = dig(inputs, "bot", "build", default={}) or {}
    builds = inputs.get("builds")
    after = sorted((b for b in builds or [] if comment_at is not None and (b.get("created") or 0) >= math.floor(comment_at)),
                   key=lambda b: b.get("number") or 0)
    build = next((b for b in after if b.get("number") == fired.get("number")), after[0] if after else {})
    url = (dig(inputs, "verdict", "build_url") or build.get("url") or "").rstrip("/")
    mine = [s for s in dig(inputs, "pr_after", "pr", "statuses", default=[]) or [] if s.get("context") == CONTEXT]
    linked = [s for s in mine if (s.get("target_url") or "").rstrip("/") == url]
    final = [s for s in linked if s.get("state") in ("success", "failure", "error")]
    findings = dig(inputs, "verdict", "surfaces", "findings", default=[]) or []
    finished = build.get("finished") or 0
    early = [s for s in final if finished and (_epoch(s.get("created_at")) or 0) < math.floor(finished)]
    return [
        Predicate(
            "V1.one_build_per_comment", builds is not None and len(after) == 1,
            f"one !testme started {len(after)} Drone builds for {_short(sha)} "
            f"({', '.join('#' + str(b.get('number')) for b in after) or 'none'}): the bridge "
            + ("triggered more than once for one comment" if len(after) > 1 else "started no build"),
            {"comment_created_at": dig(inputs, "bot", "comment", "created_at"),
             "builds": [{"number": b.get("number"), "created": b.get("created")} for b in after]},
        ),
        Predicate(
            "V1.status_on_head_sha", bool(final),
            f"the bridge posted no final {CONTEXT} status on the head {_short(sha)} it built (build {url or '?'}): "
            + (f"the head's {CONTEXT} statuses link {sorted({s.get('target_url') for s in mine})}" if mine
               else "its status went to another commit or nowhere"),
            {"head_sha": sha, "build": url,
             "statuses": [{k: s.get(k) for k in ("state", "target_url", "created_at")} for s in mine]},
        ),
        Predicate(
            "V1.result_after_build_end", bool(final) and not early,
            f"the bridge posted {early[0].get('state') if early else ''} on {_short(sha)} at "
            f"{early[0].get('created_at') if early else ''}, before build {url} finished: a result the run did not have yet"
            if early else f"no final {CONTEXT} status on {_short(sha)} to time against build {url or '?'}",
            {"finished": finished, "final_statuses": [{k: s.get(k) for k in ("state", "created_at")} for s in final]},
        ),
        Predicate(
            "V1.result_surfaces_agree", bool(dig(inputs, "verdict", "surfaces")) and not findings,
            "the bridge's result surfaces disagree: " + "; ".join(findings) if findings
            else "the run's result surfaces were never read",
            {"findings": findings},
        ),
    ]


def _epoch(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() if value else None
    except ValueError:
        return None


def _short(sha: str) -> str:
    return (sha or "?")[:10]
