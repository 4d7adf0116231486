"""JSON shapes of Gitea API v1 objects (users, repos, branches, commits, PRs, comments, statuses).

Field names follow Gitea's swagger (1.27); the lab fills the ones a client can reasonably read and
leaves the rest at Gitea's zero values, so a client that works here parses a real Gitea too.
"""
from __future__ import annotations

import hashlib
from typing import Any

from .gitrepo import GitRepo, Ident

EPOCH = "1970-01-01T00:00:00Z"


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
    if user is None:
        return None
    login = user["login"]
    avatar = hashlib.md5(user.get("email", login).encode()).hexdigest()
    return {
        "id": user["id"], "login": login, "login_name": "", "source_id": 0,
        "full_name": user.get("full_name", ""), "email": user.get("email", "") if with_email else "",
        "avatar_url": f"{urls.base}/avatars/{avatar}", "html_url": f"{urls.base}/{login}",
        "language": "en-US", "is_admin": False, "last_login": user.get("created", EPOCH),
        "created": user.get("created", EPOCH), "restricted": False, "active": True,
        "prohibit_login": False, "location": "", "website": "", "description": "",
        "visibility": "public", "followers_count": 0, "following_count": 0,
        "starred_repos_count": 0, "username": login,
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
              open_prs: int = 0) -> dict[str, Any]:
    full = f"{repo['owner']}/{repo['name']}"
    return {
        "id": repo["id"],
        "owner": {**org_json(urls, owner), "login": owner["name"]},
        "name": repo["name"], "full_name": full, "description": repo.get("description", ""),
        "empty": False, "private": False, "fork": False, "template": False, "parent": None,
        "mirror": False, "size": 0, "language": "", "languages_url": f"{urls.repo_api(full)}/languages",
        "html_url": urls.repo_html(full), "url": urls.repo_api(full), "link": "",
        "ssh_url": f"git@lab.local:{full}.git", "clone_url": f"{urls.repo_html(full)}.git",
        "original_url": "", "website": "", "stars_count": 0, "forks_count": 0, "watchers_count": 1,
        "open_issues_count": 0, "open_pr_counter": open_prs, "release_counter": 0,
        "default_branch": repo.get("default_branch", "main"), "archived": False,
        "created_at": repo.get("created", EPOCH), "updated_at": repo.get("updated", EPOCH),
        "archived_at": EPOCH,
        "permissions": {"admin": False, "push": can_push, "pull": True},
        "has_issues": True, "has_wiki": False, "has_pull_requests": True, "has_projects": False,
        "has_releases": True, "has_packages": False, "has_actions": False,
        "ignore_whitespace_conflicts": False, "allow_merge_commits": True, "allow_rebase": True,
        "allow_rebase_explicit": True, "allow_squash_merge": True, "allow_fast_forward_only_merge": True,
        "allow_rebase_update": True, "default_delete_branch_after_merge": False,
        "default_merge_style": "merge", "default_allow_maintainer_edit": False,
        "avatar_url": "", "internal": False, "mirror_interval": "", "object_format_name": "sha1",
        "mirror_updated": EPOCH, "topics": [], "licenses": [],
    }


def _ident(i: Ident) -> dict[str, Any]:
    return {"name": i.name, "email": i.email, "date": i.date}


def commit_json(urls: Urls, full: str, git: GitRepo, sha: str) -> dict[str, Any]:
    """The shape of ``GET /repos/{o}/{r}/git/commits/{sha}`` (and of compare's ``commits[]``)."""
    c = git.commit(sha)
    author, committer = c["author"], c["committer"]
    api = urls.repo_api(full)
    return {
        "url": f"{api}/git/commits/{sha}", "sha": sha, "created": committer.date,  # type: ignore[union-attr]
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
        "commit": {
            "url": f"{api}/git/commits/{sha}",
            "author": _ident(author), "committer": _ident(committer),  # type: ignore[arg-type]
            "message": c["message"],
            "tree": {"url": f"{api}/git/trees/{c['tree']}", "sha": c["tree"], "created": committer.date},  # type: ignore[union-attr]
            "verification": {"verified": False, "reason": "gpg.error.not_signed_commit",
                             "signature": "", "signer": None, "payload": ""},
        },
        "author": None, "committer": None,
        "parents": [{"url": f"{api}/git/commits/{p}", "sha": p, "created": ""} for p in c["parents"]],  # type: ignore[union-attr]
        "files": None, "stats": None,
    }


def payload_commit(urls: Urls, full: str, git: GitRepo, sha: str) -> dict[str, Any]:
    """The short commit of a branch (``branch.commit``)."""
    c = git.commit(sha)
    author, committer = c["author"], c["committer"]
    return {
        "id": sha, "message": c["message"], "url": f"{urls.repo_html(full)}/commit/{sha}",
        "author": {"name": author.name, "email": author.email, "username": ""},  # type: ignore[union-attr]
        "committer": {"name": committer.name, "email": committer.email, "username": ""},  # type: ignore[union-attr]
        "verification": None, "timestamp": committer.date, "added": None, "removed": None,  # type: ignore[union-attr]
        "modified": None,
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
