# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON shapes of Gitea API v1 objects (users, repos, branches, commits, PRs, comments, statuses).

Field names follow Gitea's swagger (1.27); the lab fills the ones a client can reasonably read and
leaves the rest at Gitea's zero values, so a client that works here parses a real Gitea too.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from .gitrepo import GitRepo, Ident

EPOCH = "1970-01-01T00:00:00Z"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: a root commit's diff base


class Urls:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    @property
    def api(self) -> str:
        return f"{self.base}/api/v1"

    def repo_api(self, full: str) -> str:
        return f"{self.api}/repos/{full}"

    def repo_html(self, full: str) -> str:
        return f"{self.base}/{full}"


def user_json(urls: Urls, user: dict[str, Any] | None, *, with_email: bool = True) -> dict[str, Any] | None:
    """Gitea's User (modules/structs/user.go): also what an org looks like as a repo's owner."""
    if user is None:
        return None
    login = user.get("login") or user["name"]
    avatar = hashlib.md5(user.get("email", login).encode()).hexdigest()
    return {
        "id": user["id"], "login": login, "login_name": "", "source_id": 0,
        "full_name": user.get("full_name", ""), "email": user.get("email", "") if with_email else "",
        "avatar_url": f"{urls.base}/avatars/{avatar}", "html_url": f"{urls.base}/{login}",
        "language": "", "is_admin": False, "last_login": user.get("created", EPOCH),
        "created": user.get("created", EPOCH), "restricted": False, "active": True,
        "prohibit_login": False, "location": "", "website": "", "description": user.get("description", ""),
        "visibility": "public", "followers_count": 0, "following_count": 0,
        "starred_repos_count": 0,
    }


def org_json(urls: Urls, org: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": org["id"], "name": org["name"], "username": org["name"],
        "full_name": org.get("full_name", ""), "email": "", "description": org.get("description", ""),
        "website": "", "location": "", "visibility": "public",
        "repo_admin_change_team_access": False,
        "avatar_url": f"{urls.base}/avatars/{hashlib.md5(org['name'].encode()).hexdigest()}",
    }


def repo_json(urls: Urls, repo: dict[str, Any], owner: dict[str, Any], *, can_push: bool,
              open_prs: int = 0, branch_count: int = 0) -> dict[str, Any]:
    full = f"{repo['owner']}/{repo['name']}"
    return {
        "id": repo["id"],
        "owner": user_json(urls, owner, with_email=False),
        "name": repo["name"], "full_name": full, "description": repo.get("description", ""),
        "empty": False, "private": False, "fork": False, "template": False,
        "mirror": False, "size": 0, "language": "", "languages_url": f"{urls.repo_api(full)}/languages",
        "html_url": urls.repo_html(full), "url": urls.repo_api(full), "link": "",
        "ssh_url": f"git@lab.local:{full}.git", "clone_url": f"{urls.repo_html(full)}.git",
        "original_url": "", "website": "", "stars_count": 0, "forks_count": 0, "watchers_count": 1,
        "open_issues_count": 0, "open_pr_counter": open_prs, "release_counter": 0,
        "default_branch": repo.get("default_branch", "main"), "archived": False,
        "created_at": repo.get("created", EPOCH), "updated_at": repo.get("updated", EPOCH),
        "archived_at": EPOCH,
        "permissions": {"admin": False, "push": can_push, "pull": True},
        "has_code": True, "has_issues": True, "has_wiki": False, "has_pull_requests": True,
        "has_projects": False, "projects_mode": "all", "has_releases": True, "has_packages": False,
        "has_actions": False, "internal_tracker": {"enable_time_tracker": False,
                                                   "allow_only_contributors_to_track_time": True,
                                                   "enable_issue_dependencies": True},
        "ignore_whitespace_conflicts": False, "allow_merge_commits": True, "allow_rebase": True,
        "allow_rebase_explicit": True, "allow_squash_merge": True, "allow_fast_forward_only_merge": True,
        "allow_rebase_update": True, "allow_manual_merge": False, "autodetect_manual_merge": False,
        "allow_merge_update": True, "default_update_style": "merge",
        "default_delete_branch_after_merge": False, "default_merge_style": "merge",
        "default_allow_maintainer_edit": False, "default_target_branch": "",
        "branch_count": branch_count,
        "avatar_url": "", "internal": False, "mirror_interval": "", "object_format_name": "sha1",
        "mirror_updated": EPOCH, "mirror_last_sync_at": EPOCH, "topics": [], "licenses": [],
    }


def _ident(i: Ident) -> dict[str, Any]:
    return {"name": i.name, "email": i.email, "date": i.date}


# Gitea's answer for an unsigned commit (services/asymkey: "gpg.error.not_signed_commit").
NOT_SIGNED = {"verified": False, "reason": "gpg.error.not_signed_commit", "signature": "", "signer": None,
              "payload": ""}


def commit_json(urls: Urls, full: str, git: GitRepo, sha: str,
                users_by_email: Callable[[str], dict[str, Any] | None] = lambda email: None) -> dict[str, Any]:
    """The shape of ``GET /repos/{o}/{r}/git/commits/{sha}`` (and of compare's ``commits[]``):
    files and stats included, as Gitea does by default; author/committer are the Gitea users whose
    email the commit carries (null when none)."""
    c = git.commit(sha)
    author, committer = c["author"], c["committer"]
    api = urls.repo_api(full)
    parents: list[str] = c["parents"]  # type: ignore[assignment]
    files = git.diff_files(parents[0], sha) if parents else git.diff_files(EMPTY_TREE, sha)
    adds, dels = sum(f["additions"] for f in files), sum(f["deletions"] for f in files)
    return {
        "url": f"{api}/git/commits/{sha}", "sha": sha, "created": committer.date,  # type: ignore[union-attr]
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
        "commit": {
            "url": f"{api}/git/commits/{sha}",
            "author": _ident(author), "committer": _ident(committer),  # type: ignore[arg-type]
            "message": c["message"],
            "tree": {"url": f"{api}/git/trees/{c['tree']}", "sha": c["tree"], "created": committer.date},  # type: ignore[union-attr]
            "verification": dict(NOT_SIGNED),
        },
        "author": user_json(urls, users_by_email(author.email), with_email=False),  # type: ignore[union-attr]
        "committer": user_json(urls, users_by_email(committer.email), with_email=False),  # type: ignore[union-attr]
        "parents": [{"url": f"{api}/git/commits/{p}", "sha": p, "created": committer.date} for p in parents],  # type: ignore[union-attr]
        "files": [{"filename": f["filename"], "status": f["status"]} for f in files],
        "stats": {"total": adds + dels, "additions": adds, "deletions": dels},
    }


def file_commit_json(urls: Urls, full: str, git: GitRepo, sha: str) -> dict[str, Any]:
    """FileCommitResponse: the commit a contents write made."""
    c = git.commit(sha)
    author, committer = c["author"], c["committer"]
    api = urls.repo_api(full)
    return {
        "url": f"{api}/git/commits/{sha}", "sha": sha, "created": committer.date,  # type: ignore[union-attr]
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
        "author": _ident(author), "committer": _ident(committer),  # type: ignore[arg-type]
        "message": c["message"],
        "tree": {"url": f"{api}/git/trees/{c['tree']}", "sha": c["tree"], "created": committer.date},  # type: ignore[union-attr]
        "parents": [{"url": f"{api}/git/commits/{p}", "sha": p, "created": committer.date}  # type: ignore[union-attr]
                    for p in c["parents"]],  # type: ignore[union-attr]
    }


def payload_commit(urls: Urls, full: str, git: GitRepo, sha: str) -> dict[str, Any]:
    """The short commit of a branch (``branch.commit``)."""
    c = git.commit(sha)
    author, committer = c["author"], c["committer"]
    return {
        "id": sha, "message": c["message"], "url": f"{urls.repo_html(full)}/commit/{sha}",
        "author": {"name": author.name, "email": author.email, "username": ""},  # type: ignore[union-attr]
        "committer": {"name": committer.name, "email": committer.email, "username": ""},  # type: ignore[union-attr]
        "verification": dict(NOT_SIGNED), "timestamp": committer.date,  # type: ignore[union-attr]
        "added": [], "removed": [], "modified": [],
    }


def branch_json(urls: Urls, full: str, git: GitRepo, name: str, sha: str, *,
                can_push: bool) -> dict[str, Any]:
    return {
        "name": name, "commit": payload_commit(urls, full, git, sha), "protected": False,
        "required_approvals": 0, "enable_status_check": False, "status_check_contexts": [],
        "user_can_push": can_push, "user_can_merge": can_push, "effective_branch_protection_name": "",
    }


def status_json(urls: Urls, full: str, st: dict[str, Any], creator: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": st["id"], "status": st["state"], "target_url": st.get("target_url", ""),
        "description": st.get("description", ""), "url": f"{urls.repo_api(full)}/statuses/{st['sha']}",
        "context": st.get("context", "default"), "creator": user_json(urls, creator, with_email=False),
        "created_at": st["created"], "updated_at": st["created"],
    }


def combine(states: list[str]) -> str:
    """Gitea's combined state: none → "", any error/failure → failure, all ok → success, else pending."""
    if not states:
        return ""
    if any(s in ("error", "failure") for s in states):
        return "failure"
    if all(s in ("success", "warning", "skipped") for s in states):
        return "success"
    return "pending"


def comment_json(urls: Urls, full: str, c: dict[str, Any], user: dict[str, Any] | None) -> dict[str, Any]:
    html = f"{urls.repo_html(full)}/pulls/{c['issue']}#issuecomment-{c['id']}"
    return {
        "id": c["id"], "html_url": html,
        "pull_request_url": f"{urls.repo_html(full)}/pulls/{c['issue']}", "issue_url": "",
        "user": user_json(urls, user, with_email=False), "original_author": "", "original_author_id": 0,
        "body": c["body"], "assets": [], "created_at": c["created"], "updated_at": c["updated"],
    }
