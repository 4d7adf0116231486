# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two places a cc-ci run reports back to a recipe PR, read and compared.

* the commit status ``cc-ci/testme`` on the PR head (``pending`` / ``success`` / ``failure``,
  ``target_url`` = the Drone build page);
* the bridge's comment: ``cc-ci: run started — <build url>`` while running, edited in place into a
  results card ``### cc-ci results: PASS|FAIL`` with the build link and the head SHA.

Each maps to GREEN / RED / PENDING (NONE when absent). A surface that is missing while the other
exists, or two surfaces that disagree, is a finding, said in a sentence for the report.
"""
from __future__ import annotations

import re
import time
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import STATUS_CONTEXT, parse_time

VERDICTS = ("GREEN", "RED", "PENDING", "NONE")
RESULT_RE = re.compile(r"#{1,6}\s*cc-ci results:\s*(PASS|FAIL)\b", re.IGNORECASE)
STARTED_RE = re.compile(r"cc-ci:\s*run started\b", re.IGNORECASE)
URL_RE = re.compile(r"https?://[^\s)\]>\"'`]+")
SHA_RE = re.compile(r"\b[0-9a-f]{7,40}\b")


def status_verdict(state: str | None) -> str:
    state = (state or "").lower()
    if state == "pending":
        return "PENDING"
    if state in ("success", "warning", "skipped"):
        return "GREEN"
    if state in ("failure", "error"):
        return "RED"
    return "NONE"


def comment_verdict(body: str | None) -> str:
    body = body or ""
    match = RESULT_RE.search(body)
    if match:
        return "GREEN" if match.group(1).upper() == "PASS" else "RED"
    if STARTED_RE.search(body):
        return "PENDING"
    return "NONE"


def mentions_url(body: str | None, url: str | None) -> bool:
    """True when ``body`` holds ``url`` itself (``.../cc-ci/1`` does not match ``.../cc-ci/12``)."""
    if not body or not url:
        return False
    return re.search(re.escape(url.rstrip("/")) + r"(?![0-9A-Za-z_-])", body) is not None


def build_url_in(body: str | None) -> str | None:
    """The build link in a bridge comment: the first URL ending in a build number."""
    for url in URL_RE.findall(body or ""):
        url = url.rstrip(".,;:")
        if re.search(r"/\d+/?$", url) and "/badge" not in url:
            return url.rstrip("/")
    return None


def _for_other_sha(body: str | None, sha: str | None) -> bool:
    """True when a results card names commit SHAs and none of them is ``sha``."""
    if not sha or not RESULT_RE.search(body or ""):
        return False
    shas = [s for s in SHA_RE.findall(body or "") if not s.isdigit()]
    return bool(shas) and not any(sha.startswith(s) or s.startswith(sha) for s in shas)


def is_bridge_comment(body: str | None) -> bool:
    return comment_verdict(body) != "NONE"


def pick_status(statuses: list[dict[str, Any]], context: str = STATUS_CONTEXT) -> dict[str, Any] | None:
    """The newest status with ``context`` (Gitea's ``status`` field or ``state``)."""
    mine = [s for s in statuses or [] if s.get("context") == context]
    if not mine:
        return None
    mine.sort(key=lambda s: (parse_time(s.get("updated_at") or s.get("created_at")) or 0, s.get("id") or 0),
              reverse=True)
    return mine[0]


def pick_comment(comments: list[dict[str, Any]], build_url: str | None = None, sha: str | None = None,
                 after_id: int = 0) -> dict[str, Any] | None:
    """The newest bridge comment (id > ``after_id``), preferring one that links ``build_url``."""
    candidates = [c for c in comments or [] if (c.get("id") or 0) > after_id and is_bridge_comment(c.get("body"))]
    candidates.sort(key=lambda c: c.get("id") or 0, reverse=True)
    if build_url:
        linked = [c for c in candidates if mentions_url(c.get("body"), build_url)]
        if linked:
            return linked[0]
    for comment in candidates:
        if not _for_other_sha(comment.get("body"), sha):
            return comment
    return None


def _user(value: Any) -> Any:
    return value.get("login") if isinstance(value, dict) else value


def evaluate(status: dict[str, Any] | None, comment: dict[str, Any] | None, *, sha: str | None = None,
             build_url: str | None = None, context: str = STATUS_CONTEXT,
             bridge_posts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Compare the two surfaces; see the module docstring. ``build_url`` (when known) is checked
    against the status ``target_url`` and the comment's link. ``bridge_posts`` (when read) are the
    bridge comments that link the build: the bridge posts one per run and edits it into the result
    card (FACTS §1), so a second one is a result that went out twice."""
    state = (status or {}).get("status") or (status or {}).get("state")
    st = {
        "present": status is not None,
        "context": context,
        "state": state,
        "verdict": status_verdict(state) if status is not None else "NONE",
        "target_url": (status or {}).get("target_url"),
        "description": (status or {}).get("description"),
        "created_at": (status or {}).get("created_at"),
        "updated_at": (status or {}).get("updated_at"),
    }
    body = (comment or {}).get("body")
    cm = {
        "present": comment is not None,
        "verdict": comment_verdict(body) if comment is not None else "NONE",
        "id": (comment or {}).get("id"),
        "html_url": (comment or {}).get("html_url"),
        "user": _user((comment or {}).get("user")),
        "build_url": build_url_in(body) if comment is not None else None,
        "created_at": (comment or {}).get("created_at"),
        "updated_at": (comment or {}).get("updated_at"),
        "body": body,
    }
    short = (sha or "")[:10] or "the PR head"
    findings: list[str] = []
    present = [name for name, s in (("status", st), ("comment", cm)) if s["present"]]
    if not present:
        verdict = "NONE"
        findings.append(f"no result surface: neither a {context} status nor a bridge comment for {short}")
    elif present == ["comment"]:
        verdict = cm["verdict"]
        findings.append(f"status surface missing: the bridge posted a comment but no {context} status on {short}")
    elif present == ["status"]:
        verdict = st["verdict"]
        findings.append(f"comment surface missing: a {context} status is on {short} but the bridge posted "
                        "no run/result comment")
    elif st["verdict"] == cm["verdict"]:
        verdict = st["verdict"]
    else:
        finals = {v for v in (st["verdict"], cm["verdict"]) if v in ("GREEN", "RED")}
        # one still PENDING: the final one; GREEN against RED: not green
        verdict = finals.pop() if len(finals) == 1 else "RED"
        findings.append(f"result surfaces disagree: the {context} status says {st['verdict']} "
                        f"({st['state']}) but the bridge comment says {cm['verdict']}")
    agree = len(present) == 2 and st["verdict"] == cm["verdict"]
    if build_url:
        if st["present"] and st["target_url"] and st["target_url"].rstrip("/") != build_url.rstrip("/"):
            findings.append(f"the {context} status target_url {st['target_url']} does not point at build {build_url}")
        if cm["present"] and not mentions_url(body, build_url):
            findings.append(f"the bridge comment does not link build {build_url}")
    if bridge_posts and len(bridge_posts) > 1:
        findings.append(f"the bridge posted {len(bridge_posts)} comments for build {build_url or st['target_url']} "
                        f"(ids {[c.get('id') for c in bridge_posts]}), not one comment edited into the result: "
                        "the run's result went out more than once")
    return {
        "sha": sha,
        "status": st,
        "comment": cm,
        "present": present,
        "verdict": verdict,
        "agree": agree,
        "build_url": build_url or st["target_url"] or cm["build_url"],
        "findings": findings,
    }


def read_surfaces(gitea: Any, repo: str, number: int, sha: str, *, build_url: str | None = None,
                  context: str = STATUS_CONTEXT, after_comment_id: int = 0) -> dict[str, Any]:
    """Read the status of ``sha`` and the comments of PR ``number`` and :func:`evaluate` them."""
    status = pick_status(gitea.list_statuses(repo, sha), context)
    link = build_url or (status or {}).get("target_url")
    comments = gitea.list_comments(repo, number)
    comment = pick_comment(comments, link, sha, after_comment_id)
    posts = [c for c in comments or [] if (c.get("id") or 0) > after_comment_id and is_bridge_comment(c.get("body"))
             and link and mentions_url(c.get("body"), link)]
    return evaluate(status, comment, sha=sha, build_url=build_url, context=context, bridge_posts=posts)


def settled(surfaces: dict[str, Any], final_verdict: str | None = None) -> bool:
    """True when waiting longer cannot change the picture for a finished build: every surface that
    exists is final (and equals ``final_verdict`` when given), and at least one exists.
    A surface that never appeared while the other is final is taken as missing, not late."""
    present = surfaces["present"]
    if not present:
        return False
    for name in present:
        verdict = surfaces[name]["verdict"]
        if verdict not in ("GREEN", "RED"):
            return False
        if final_verdict and verdict != final_verdict:
            return False
    return True


# -- watching a trigger and a verdict (used by gitea_testme and drone_verdict) -----------------------

def build_params(repo: str, number: int, sha: str | None) -> dict[str, Any]:
    """The params a bridge-triggered build carries for this PR head (FACTS.md section 1)."""
    return {"REPO": repo, "PR": number, "REF": sha}


def build_number_from_url(url: str | None) -> int | None:
    match = re.search(r"/(\d+)/?$", url or "")
    return int(match.group(1)) if match else None


def observe_trigger(gitea: Any, drone: Any, *, repo: str, number: int, sha: str, ci_repo: str,
                    comment: dict[str, Any], last_build: int, status_ids: set[Any], window: float,
                    interval: float, context: str = STATUS_CONTEXT, clock: Any = None, sleep: Any = None,
                    ) -> dict[str, Any]:
    """Watch for what a trigger comment caused until it is certain or ``window`` passes.

    Returns ``{build, status, bridge_comment, seconds, polls}``: the first new matching Drone build
    (number > ``last_build``), the first new ``context`` status on ``sha`` (id not in
    ``status_ids``) and the first bridge comment after ``comment``. Ends early once a build and at
    least one surface were seen.
    """
    clock = clock or time.time
    sleep = sleep or time.sleep
    start = clock()
    want = build_params(repo, number, sha)
    seen: dict[str, Any] = {"build": None, "status": None, "bridge_comment": None, "polls": 0}
    after_id = int(comment.get("id") or 0)
    while True:
        seen["polls"] += 1
        if seen["build"] is None:
            builds = drone.find_builds(ci_repo, want, after_number=last_build)
            if builds:
                seen["build"] = min(builds, key=lambda b: b.get("number") or 0)
        if seen["status"] is None:
            new = [s for s in gitea.list_statuses(repo, sha)
                   if s.get("context") == context and s.get("id") not in status_ids]
            if new:
                seen["status"] = pick_status(new, context)
        if seen["bridge_comment"] is None:
            mine = [c for c in gitea.list_comments(repo, number)
                    if (c.get("id") or 0) > after_id and is_bridge_comment(c.get("body"))]
            if mine:
                seen["bridge_comment"] = min(mine, key=lambda c: c.get("id") or 0)
        now = clock()
        if seen["build"] is not None and (seen["status"] is not None or seen["bridge_comment"] is not None):
            break
        if now - start >= window:
            break
        sleep(max(0.0, min(interval, window - (now - start))))
    seen["seconds"] = round(clock() - start, 2)
    return seen


def outcome_of(seen: dict[str, Any], poster_is_member: bool | None) -> str:
    """``fired`` (a build and a surface), ``partial`` (only one of them), else ``ignored`` for an
    org member's comment and ``rejected`` for a non-member's."""
    has_build = seen.get("build") is not None
    has_surface = seen.get("status") is not None or seen.get("bridge_comment") is not None
    if has_build and has_surface:
        return "fired"
    if has_build or has_surface:
        return "partial"
    return "ignored" if poster_is_member else "rejected"
