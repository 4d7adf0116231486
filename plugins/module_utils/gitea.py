# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Gitea API v1 client (the calls the collection needs, per FACTS.md section 2).

Guardrail: this client has no operation that merges anything, by design. Do not add one.
"""
from __future__ import annotations

import base64
import datetime as _dt
import re
from typing import Any
from urllib.parse import quote

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiClient, ApiError

FULL_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
STATUS_CONTEXT = "cc-ci/testme"


def _q(part: str) -> str:
    return quote(str(part), safe="")


def _path(path: str) -> str:
    return quote(str(path).lstrip("/"), safe="/")


def split_repo(repo: str) -> tuple[str, str]:
    owner, sep, name = str(repo).partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"repo {repo!r} must be 'owner/name'")
    return owner, name


def parse_time(value: Any) -> float | None:
    """Unix seconds from a Gitea ISO 8601 time (or a number); None when absent or unparsable."""
    if value in (None, "", 0):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()


def head_branch(pr: dict[str, Any]) -> str | None:
    """The PR's head branch. Gitea reports ``head.ref = "refs/pull/<n>/head"`` once that branch is
    deleted (also its auto-delete after a merge); ``head.label`` keeps the branch's name."""
    head = pr.get("head") or {}
    ref = head.get("ref")
    if isinstance(ref, str) and ref.startswith("refs/pull/"):
        return head.get("label") or None
    return ref


def pr_summary(pr: dict[str, Any]) -> dict[str, Any]:
    """The PR fields the checks read, flattened (``head_ref`` is the branch, see head_branch)."""
    head = pr.get("head") or {}
    base = pr.get("base") or {}
    user = pr.get("user") or {}
    ref = head.get("ref")
    return {
        "number": pr.get("number"),
        "state": pr.get("state"),
        "merged": bool(pr.get("merged")),
        "title": pr.get("title"),
        "body": pr.get("body"),
        "html_url": pr.get("html_url"),
        "head_ref": head_branch(pr),
        "branch_deleted": isinstance(ref, str) and ref.startswith("refs/pull/"),
        "head_sha": head.get("sha"),
        "base_ref": base.get("ref"),
        "user": user.get("login") if isinstance(user, dict) else user,
    }


def comment_summary(comment: dict[str, Any]) -> dict[str, Any]:
    user = comment.get("user") or {}
    return {
        "id": comment.get("id"),
        "body": comment.get("body"),
        "user": user.get("login") if isinstance(user, dict) else user,
        "created_at": comment.get("created_at"),
        "updated_at": comment.get("updated_at"),
        "html_url": comment.get("html_url"),
    }


def status_summary(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": status.get("id"),
        "context": status.get("context"),
        # Gitea puts a commit status' state in the field `status` (not `state`).
        "state": status.get("status") or status.get("state"),
        "target_url": status.get("target_url"),
        "description": status.get("description"),
        "created_at": status.get("created_at"),
        "updated_at": status.get("updated_at"),
    }


class GiteaClient(ApiClient):
    """``GiteaClient("http://gitea", token)``; the base path ``/api/v1`` is added here."""

    def __init__(self, url: str, token: str | None = None, *, token_name: str = "ccci_gitea_token",
                 **kw: Any) -> None:
        base = url.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        super().__init__(base, token, auth_scheme="token", token_name=token_name, **kw)
        self.web_url = base[: -len("/api/v1")]

    # -- users and orgs ------------------------------------------------------------------------
    def get_user(self) -> dict[str, Any]:
        data, dummy = self.get("/user")
        return data

    def is_org_member(self, org: str, user: str) -> bool:
        """Gitea's ``GET /orgs/{org}/members/{user}``: 204 member, 404 not (also a non-member
        asking about itself). 303 means the token's user is no member of ``org``, so Gitea only
        tells a public membership: followed to ``public_members``; a 404 there decides nothing
        and is an error naming the token."""
        path = f"/orgs/{_q(org)}/members/{_q(user)}"
        dummy, status = self.get(path, accept=(204, 404, 303), not_found=f"no org {org}")
        if status != 303:
            return status == 204
        dummy, status = self.get(f"/orgs/{_q(org)}/public_members/{_q(user)}", accept=(204, 404))
        if status == 204:
            return True
        raise ApiError("GET", self.url(path), 303,
                       f"the token's user is not a member of {org}, so Gitea will not say whether {user} is "
                       f"(only public memberships are shown to outsiders)",
                       f"check {self.token_name}: it must be the token of the bot, a member of {org}")

    # -- repos, branches, commits --------------------------------------------------------------
    def repo(self, repo: str) -> dict[str, Any]:
        o, r = split_repo(repo)
        data, dummy = self.get(f"/repos/{_q(o)}/{_q(r)}", not_found=f"no repo {repo}: check the owner/name")
        return data

    def get_branch(self, repo: str, branch: str) -> dict[str, Any] | None:
        o, r = split_repo(repo)
        data, status = self.get(f"/repos/{_q(o)}/{_q(r)}/branches/{_q(branch)}", accept=(200, 404))
        return data if status == 200 else None

    def branch_sha(self, repo: str, branch: str) -> str | None:
        data = self.get_branch(repo, branch)
        return ((data or {}).get("commit") or {}).get("id") if data else None

    def create_branch(self, repo: str, name: str, from_ref: str) -> tuple[dict[str, Any] | None, bool]:
        """``(branch, created)``; an existing branch (409) is returned with created False."""
        o, r = split_repo(repo)
        data, status = self.post(f"/repos/{_q(o)}/{_q(r)}/branches",
                                 {"new_branch_name": name, "old_ref_name": from_ref},
                                 accept=(201, 200, 409),
                                 not_found=f"no repo {repo} or no ref {from_ref} in it")
        if status == 409:
            return self.get_branch(repo, name), False
        return data, True

    def delete_branch(self, repo: str, name: str) -> bool:
        """True when deleted, False when it was not there."""
        o, r = split_repo(repo)
        dummy, status = self.delete(f"/repos/{_q(o)}/{_q(r)}/branches/{_q(name)}", accept=(204, 200, 404))
        return status != 404

    def get_commit(self, repo: str, ref: str) -> dict[str, Any] | None:
        o, r = split_repo(repo)
        data, status = self.get(f"/repos/{_q(o)}/{_q(r)}/git/commits/{_q(ref)}", accept=(200, 404, 422))
        return data if status == 200 else None

    def resolve_sha(self, repo: str, ref: str) -> str:
        """The full commit SHA of a branch, tag or SHA; ApiError (404) when unknown."""
        if FULL_SHA.match(str(ref)):
            return str(ref)
        sha = self.branch_sha(repo, ref)
        if sha:
            return sha
        commit = self.get_commit(repo, ref)
        if commit and commit.get("sha"):
            return commit["sha"]
        raise ApiError("GET", self.url(f"/repos/{repo}/git/commits/{ref}"), 404, "ref not found",
                       f"no branch, tag or commit {ref} in {repo}")

    def compare(self, repo: str, base: str, head: str) -> dict[str, Any]:
        o, r = split_repo(repo)
        data, dummy = self.get(f"/repos/{_q(o)}/{_q(r)}/compare/{_q(base)}...{_q(head)}",
                               not_found=f"cannot compare {base}...{head} in {repo}")
        return data

    # -- files ---------------------------------------------------------------------------------
    def get_file(self, repo: str, path: str, ref: str) -> dict[str, Any] | None:
        """A file at a ref, read at its full SHA (the box's raw endpoint falls back to the default
        branch for short refs). Adds ``text`` (UTF-8, or None) and ``raw`` (bytes). None if absent."""
        sha = self.resolve_sha(repo, ref)
        o, r = split_repo(repo)
        data, status = self.get(f"/repos/{_q(o)}/{_q(r)}/contents/{_path(path)}",
                                params={"ref": sha}, accept=(200, 404))
        if status == 404 or not isinstance(data, dict):
            return None
        raw = base64.b64decode(data.get("content") or "") if data.get("content") is not None else b""
        out = dict(data)
        out["raw"] = raw
        try:
            out["text"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            out["text"] = None
        out["commit_sha"] = sha
        return out

    def put_file(self, repo: str, path: str, content: str | bytes, message: str, branch: str,
                 sha: str | None = None, new_branch: str | None = None) -> dict[str, Any]:
        """Create (no ``sha``) or update (``sha`` of the current blob) a file on ``branch``;
        ``new_branch`` commits onto a new branch started from ``branch``."""
        o, r = split_repo(repo)
        raw = content.encode("utf-8") if isinstance(content, str) else content
        body: dict[str, Any] = {"content": base64.b64encode(raw).decode("ascii"), "message": message,
                                "branch": branch}
        if sha:
            body["sha"] = sha
        if new_branch:
            body["new_branch"] = new_branch
        data, dummy = self.put(f"/repos/{_q(o)}/{_q(r)}/contents/{_path(path)}", body, accept=(200, 201),
                               not_found=f"no repo {repo} or no branch {branch} in it")
        return data

    # -- pull requests (no merge, ever) --------------------------------------------------------
    def list_prs(self, repo: str, state: str = "open") -> list[dict[str, Any]]:
        o, r = split_repo(repo)
        return self.paginate(f"/repos/{_q(o)}/{_q(r)}/pulls", {"state": state},
                             not_found=f"no repo {repo}: check the owner/name")

    def get_pr(self, repo: str, number: int) -> dict[str, Any]:
        o, r = split_repo(repo)
        data, dummy = self.get(f"/repos/{_q(o)}/{_q(r)}/pulls/{int(number)}",
                               not_found=f"no PR #{number} in {repo}")
        return data

    def find_open_pr(self, repo: str, head: str, base: str | None = None) -> dict[str, Any] | None:
        for pr in self.list_prs(repo, "open"):
            if (pr.get("head") or {}).get("ref") == head and (
                    base is None or (pr.get("base") or {}).get("ref") == base):
                return pr
        return None

    def create_pr(self, repo: str, head: str, base: str, title: str,
                  body: str = "") -> tuple[dict[str, Any], bool]:
        """``(pr, created)``: an open PR for ``head`` that already exists (409) is found and
        returned with created False. 422 (no changes between the branches) raises."""
        o, r = split_repo(repo)
        data, status = self.post(f"/repos/{_q(o)}/{_q(r)}/pulls",
                                 {"head": head, "base": base, "title": title, "body": body},
                                 accept=(201, 409), not_found=f"no repo {repo}: check the owner/name")
        if status == 409:
            existing = self.find_open_pr(repo, head, base) or self.find_open_pr(repo, head)
            if existing is None:
                raise ApiError("POST", self.url(f"/repos/{repo}/pulls"), 409,
                               (data or {}).get("message", "conflict") if isinstance(data, dict) else "conflict",
                               f"Gitea reports an open PR for {head} but none is listed")
            return existing, False
        return data, True

    def close_pr(self, repo: str, number: int) -> dict[str, Any]:
        """PATCH state closed; Gitea answers 201 (some versions 200)."""
        o, r = split_repo(repo)
        data, dummy = self.patch(f"/repos/{_q(o)}/{_q(r)}/pulls/{int(number)}", {"state": "closed"},
                                 accept=(201, 200), not_found=f"no PR #{number} in {repo}")
        return data

    def pr_files(self, repo: str, number: int) -> list[dict[str, Any]]:
        o, r = split_repo(repo)
        return self.paginate(f"/repos/{_q(o)}/{_q(r)}/pulls/{int(number)}/files",
                             not_found=f"no PR #{number} in {repo}")

    # -- comments ------------------------------------------------------------------------------
    def list_comments(self, repo: str, number: int, since: str | None = None) -> list[dict[str, Any]]:
        o, r = split_repo(repo)
        params = {"since": since} if since else None
        data, dummy = self.get(f"/repos/{_q(o)}/{_q(r)}/issues/{int(number)}/comments", params=params,
                               not_found=f"no PR #{number} in {repo}")
        return list(data or [])

    def post_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        o, r = split_repo(repo)
        data, dummy = self.post(f"/repos/{_q(o)}/{_q(r)}/issues/{int(number)}/comments", {"body": body},
                                accept=(201, 200), not_found=f"no PR #{number} in {repo}")
        return data

    def edit_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        o, r = split_repo(repo)
        data, dummy = self.patch(f"/repos/{_q(o)}/{_q(r)}/issues/comments/{int(comment_id)}",
                                 {"body": body}, accept=(200, 201),
                                 not_found=f"no comment {comment_id} in {repo}")
        return data

    # -- commit statuses -----------------------------------------------------------------------
    def list_statuses(self, repo: str, ref: str) -> list[dict[str, Any]]:
        """Statuses of a commit, newest first, each with ``state`` copied from Gitea's ``status``."""
        o, r = split_repo(repo)
        items = self.paginate(f"/repos/{_q(o)}/{_q(r)}/commits/{_q(ref)}/statuses",
                              not_found=f"no commit {ref} in {repo}")
        out = []
        for item in items:
            item = dict(item)
            item["state"] = item.get("status") or item.get("state")
            out.append(item)
        out.sort(key=lambda s: (parse_time(s.get("updated_at") or s.get("created_at")) or 0,
                                s.get("id") or 0), reverse=True)
        return out

    def combined_status(self, repo: str, ref: str) -> dict[str, Any]:
        """``{state, sha, total_count, statuses}``; ``state`` is "" when the commit has none."""
        o, r = split_repo(repo)
        data, dummy = self.get(f"/repos/{_q(o)}/{_q(r)}/commits/{_q(ref)}/status",
                               not_found=f"no commit {ref} in {repo}")
        data = dict(data or {})
        data.setdefault("state", "")
        if data["state"] is None:
            data["state"] = ""
        return data

    def set_status(self, repo: str, sha: str, state: str, context: str = STATUS_CONTEXT,
                   target_url: str | None = None, description: str | None = None) -> dict[str, Any]:
        o, r = split_repo(repo)
        body: dict[str, Any] = {"state": state, "context": context}
        if target_url:
            body["target_url"] = target_url
        if description:
            body["description"] = description
        data, dummy = self.post(f"/repos/{_q(o)}/{_q(r)}/statuses/{_q(sha)}", body, accept=(201, 200),
                                not_found=f"no commit {sha} in {repo}")
        return data


def gitea_argument_spec() -> dict[str, Any]:
    """Connection options shared by the Gitea modules (see doc fragment coopcloud.cc_ci.gitea_api)."""
    from ansible.module_utils.basic import env_fallback

    return dict(
        gitea_url=dict(type="str", required=True, fallback=(env_fallback, ["CCCI_GITEA_URL"])),
        gitea_token=dict(type="str", required=True, no_log=True,
                         fallback=(env_fallback, ["CCCI_GITEA_TOKEN"])),
        timeout=dict(type="float", default=30.0),
        validate_certs=dict(type="bool", default=True),
    )


def gitea_from_module(module: Any, token_name: str = "ccci_gitea_token", **kw: Any) -> GiteaClient:
    p = module.params
    return GiteaClient(p["gitea_url"], p["gitea_token"], token_name=token_name, timeout=p["timeout"],
                       validate_certs=p["validate_certs"], **kw)
