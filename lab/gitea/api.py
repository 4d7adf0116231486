# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Gitea API v1 routes over the Store (PRs, comments, statuses) and the bare git repos (content).

Codes and shapes follow FACTS.md §2/§2a, Gitea 1.27.1's swagger (``../shared/spec``) and, where
the swagger is silent, Gitea's source (go-gitea/gitea: routers/api/v1, services/convert). The
contract test (tests/integration/test_installed.py) holds every recorded exchange against the
swagger.

Merging is Gitea's own ``POST .../pulls/{n}/merge`` (a real merge commit on the base branch). In
the lab only the seeding (a human maintainer upstream) and the agent-merges mutant call it; every
merge is also kept in gitea.json (``merges``) so a test can tell who merged what.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from . import objects as o
from .gitrepo import FULL_SHA, GitError, GitRepo, Ident
from .store import Store, now_iso, parse_iso

log = logging.getLogger("lab.gitea")

VERSION = "1.27.1"
STATES = ("pending", "success", "error", "failure", "warning", "skipped")
DEFAULT_PAGING_NUM = 30  # Gitea's [api] DEFAULT_PAGING_NUM
MAX_RESPONSE_ITEMS = 50  # Gitea's [api] MAX_RESPONSE_ITEMS default; the lab's is a setting
MERGE_STYLES = ("merge", "rebase", "rebase-merge", "squash", "fast-forward-only", "manually-merged")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    path: str  # below /api/v1, e.g. "/repos/o/r/pulls"
    query: dict[str, list[str]]
    body: bytes
    user: dict[str, Any] | None
    url: str  # the full request URL (for error bodies and Link headers)

    def q(self, name: str, default: str = "") -> str:
        return (self.query.get(name) or [default])[0]

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise ApiError(422, f"invalid JSON body: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(422, "JSON body must be an object")
        return data


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or bytes for raw content
    headers: dict[str, str] = field(default_factory=dict)


Route = tuple[str, re.Pattern[str], Callable[..., Response]]
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


class GiteaApi:
    def __init__(self, store: Store, git_root: Path, base_url: Callable[[], str],
                 refuse_close: Callable[[str], bool] = lambda full: False,
                 fake_close: Callable[[str], bool] = lambda full: False,
                 max_response_items: int = MAX_RESPONSE_ITEMS) -> None:
        self.store = store
        self.max_response_items = max_response_items
        self.git_root = git_root
        self._base_url = base_url
        # Lab fault cleanup-skips-cc-ci-pr: closing a PR there is refused, as when the bot lacks
        # the right on cc-ci; what a run opened there then stays open for V9 to find.
        self._refuse_close = refuse_close
        # Mutant gitea-close-not-done: a close answers 201 with the PR as it is, and nothing closes.
        self._fake_close = fake_close
        self.routes: list[Route] = []
        r = self._route
        r("GET", r"/version", self.version)
        r("GET", r"/settings/api", self.settings_api)
        r("GET", r"/user", self.current_user)
        r("GET", r"/users/(?P<login>[^/]+)", self.get_user)
        r("GET", r"/orgs/(?P<org>[^/]+)", self.get_org)
        r("GET", r"/orgs/(?P<org>[^/]+)/members", self.org_members)
        r("GET", r"/orgs/(?P<org>[^/]+)/members/(?P<login>[^/]+)", self.org_member)
        r("GET", r"/orgs/(?P<org>[^/]+)/public_members/(?P<login>[^/]+)", self.org_public_member)
        r("GET", r"/orgs/(?P<org>[^/]+)/repos", self.org_repos)
        r("GET", REPO, self.get_repo)
        r("GET", REPO + r"/collaborators/(?P<login>[^/]+)", self.collaborator)
        r("GET", REPO + r"/branches", self.list_branches)
        r("POST", REPO + r"/branches", self.create_branch)
        r("GET", REPO + r"/branches/(?P<branch>.+)", self.get_branch)
        r("DELETE", REPO + r"/branches/(?P<branch>.+)", self.delete_branch)
        r("GET", REPO + r"/tags", self.list_tags)
        r("GET", REPO + r"/git/commits/(?P<sha>[^/]+)", self.git_commit)
        r("GET", REPO + r"/commits", self.list_commits)
        r("GET", REPO + r"/commits/(?P<ref>.+)/statuses", self.list_statuses)
        r("GET", REPO + r"/commits/(?P<ref>.+)/status", self.combined_status)
        r("GET", REPO + r"/statuses/(?P<ref>[^/]+)", self.list_statuses)
        r("POST", REPO + r"/statuses/(?P<sha>[^/]+)", self.create_status)
        r("GET", REPO + r"/contents", self.get_contents)
        r("GET", REPO + r"/contents/(?P<path>.+)", self.get_contents)
        r("PUT", REPO + r"/contents/(?P<path>.+)", self.put_contents)
        r("POST", REPO + r"/contents/(?P<path>.+)", self.put_contents)
        r("GET", REPO + r"/raw/(?P<path>.+)", self.raw)
        r("GET", REPO + r"/compare/(?P<spec>.+)", self.compare)
        r("POST", REPO + r"/mirror-sync", self.mirror_sync)
        r("GET", REPO + r"/pulls", self.list_pulls)
        r("POST", REPO + r"/pulls", self.create_pull)
        r("GET", REPO + r"/pulls/(?P<n>\d+)", self.get_pull)
        r("PATCH", REPO + r"/pulls/(?P<n>\d+)", self.edit_pull)
        r("GET", REPO + r"/pulls/(?P<n>\d+)/files", self.pull_files)
        r("GET", REPO + r"/pulls/(?P<n>\d+)/merge", self.pull_is_merged)
        r("POST", REPO + r"/pulls/(?P<n>\d+)/merge", self.merge_pull)
        r("GET", REPO + r"/issues/(?P<n>\d+)", self.get_issue)
        r("GET", REPO + r"/issues/comments", self.repo_comments)
        r("GET", REPO + r"/issues/comments/(?P<cid>\d+)", self.get_comment)
        r("PATCH", REPO + r"/issues/comments/(?P<cid>\d+)", self.edit_comment)
        r("DELETE", REPO + r"/issues/comments/(?P<cid>\d+)", self.delete_comment)
        r("GET", REPO + r"/issues/(?P<n>\d+)/comments", self.list_comments)
        r("POST", REPO + r"/issues/(?P<n>\d+)/comments", self.create_comment)

    def _route(self, method: str, pattern: str, fn: Callable[..., Response]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}/?$"), fn))

    @property
    def urls(self) -> o.Urls:
        return o.Urls(self._base_url())

    def dispatch(self, req: Request) -> Response:
        allowed = False
        for method, pattern, fn in self.routes:
            m = pattern.match(req.path)
            if not m:
                continue
            allowed = True
            if method != req.method and not (method == "GET" and req.method == "HEAD"):
                continue
            try:
                # One request at a time on the db: readers iterate the same dicts writers grow.
                with self.store.lock:
                    return fn(req, **m.groupdict())
            except ApiError as exc:
                return Response(exc.status, {"message": exc.message, "url": req.url})
            except GitError as exc:
                log.warning("git failed: %s", exc)
                return Response(500, {"message": str(exc), "url": req.url})
        if allowed:
            return Response(405, {"message": "method not allowed", "url": req.url})
        return Response(404, {"message": "not found", "url": req.url})

    # -- helpers --------------------------------------------------------------------------------
    def _need_user(self, req: Request) -> dict[str, Any]:
        if req.user is None:
            raise ApiError(401, "token is required")
        return req.user

    def _repo(self, owner: str, repo: str) -> tuple[str, dict[str, Any], GitRepo]:
        rec = self.store.repo(f"{owner}/{repo}")
        if rec is None:
            raise ApiError(404, "The target couldn't be found.")
        full = f"{rec['owner']}/{rec['name']}"
        return full, rec, GitRepo(self.git_root / rec["owner"] / f"{rec['name']}.git")

    def can_write(self, user: dict[str, Any] | None, rec: dict[str, Any]) -> bool:
        return user is not None and self.store.is_member(rec["owner"], user["login"])

    def _need_writer(self, req: Request, rec: dict[str, Any]) -> dict[str, Any]:
        user = self._need_user(req)
        if not self.can_write(user, rec):
            raise ApiError(403, "user should have a permission to write to a repo")
        return user

    def _page(self, req: Request, items: list[Any]) -> Response:
        """Gitea's paging (routers/api/v1/utils.GetListOptions, services/context.SetLinkHeader):
        ``limit`` <= 0 → DEFAULT_PAGING_NUM, above MAX_RESPONSE_ITEMS → capped; ``Link`` (next,
        last, first, prev: the request's own query with ``page`` replaced) and ``X-Total-Count``."""
        try:
            page = max(1, int(req.q("page", "1") or 1))
            limit = int(req.q("limit", "0") or 0)
        except ValueError as exc:
            raise ApiError(422, f"bad paging parameter: {exc}") from exc
        size = DEFAULT_PAGING_NUM if limit <= 0 else min(limit, self.max_response_items)
        total = len(items)
        last = max(1, -(-total // size))
        base = req.url.split("?", 1)[0]

        def link(p: int, rel: str) -> str:
            query = {**req.query, "page": [str(p)]}
            return f'<{base}?{urlencode(query, doseq=True)}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(min(page - 1, last), "prev")]
        headers = {"X-Total-Count": str(total)}
        expose = ["X-Total-Count"]
        if links:
            headers["Link"] = ",".join(links)
            expose.insert(0, "Link")
        headers["Access-Control-Expose-Headers"] = ", ".join(expose)
        return Response(200, items[(page - 1) * size: page * size], headers)

    def _counted(self, items: list[Any]) -> Response:
        """An unpaged list with Gitea's ``X-Total-Count`` (e.g. a PR's comments)."""
        return Response(200, items, {"X-Total-Count": str(len(items)),
                                     "Access-Control-Expose-Headers": "X-Total-Count"})

    def _user_by_login(self, login: str) -> dict[str, Any] | None:
        return self.store.user(login)

    # -- misc, users, orgs ----------------------------------------------------------------------
    def version(self, req: Request) -> Response:
        return Response(200, {"version": VERSION})

    def settings_api(self, req: Request) -> Response:
        return Response(200, {"max_response_items": self.max_response_items, "default_paging_num": DEFAULT_PAGING_NUM,
                              "default_git_trees_per_page": 1000, "default_max_blob_size": 10485760})

    def current_user(self, req: Request) -> Response:
        return Response(200, o.user_json(self.urls, self._need_user(req)))

    def get_user(self, req: Request, login: str) -> Response:
        user = self._user_by_login(login)
        if user is None:
            raise ApiError(404, f"user redirect does not exist [name: {login}]")
        return Response(200, o.user_json(self.urls, user, with_email=False))

    def _org(self, name: str) -> dict[str, Any]:
        org = self.store.org(name)
        if org is None:
            raise ApiError(404, "GetOrgByName")
        return org

    def get_org(self, req: Request, org: str) -> Response:
        return Response(200, o.org_json(self.urls, self._org(org)))

    def org_members(self, req: Request, org: str) -> Response:
        rec = self._org(org)
        users = [self.store.user(m) for m in rec["members"]]
        return self._page(req, [o.user_json(self.urls, u, with_email=False) for u in users if u])

    def org_member(self, req: Request, org: str, login: str) -> Response:
        """routers/api/v1/org/member.go IsMember: 204/404 when the asker is a member (or admin);
        404 when a non-member asks about themselves; otherwise 303 to the public membership."""
        rec = self._org(org)
        target = self._user_by_login(login)
        if target is None:
            raise ApiError(404, f"user redirect does not exist [name: {login}]")
        doer = req.user
        if doer is not None:
            if self.store.is_member(rec["name"], doer["login"]):
                if self.store.is_member(rec["name"], target["login"]):
                    return Response(204)
                raise ApiError(404, "The target couldn't be found.")
            if doer["login"].lower() == target["login"].lower():
                raise ApiError(404, "The target couldn't be found.")
        where = f"/api/v1/orgs/{quote(rec['name'], safe='')}/public_members/{quote(target['login'], safe='')}"
        return Response(303, b"", {"Location": where, "Content-Type": "text/html; charset=utf-8"})

    def org_public_member(self, req: Request, org: str, login: str) -> Response:
        """204 only for a public membership (Gitea's default for a new member is private)."""
        rec = self._org(org)
        target = self._user_by_login(login)
        if target is None:
            raise ApiError(404, f"user redirect does not exist [name: {login}]")
        public = [m.lower() for m in rec.get("public_members", [])]
        if self.store.is_member(rec["name"], target["login"]) and target["login"].lower() in public:
            return Response(204)
        raise ApiError(404, "The target couldn't be found.")

    def org_repos(self, req: Request, org: str) -> Response:
        rec = self._org(org)
        repos = [r for r in self.store.db["repos"].values() if r["owner"] == rec["name"]]
        return self._page(req, [self._repo_json(req.user, r) for r in sorted(repos, key=lambda r: r["id"])])

    # -- repos, branches, commits ---------------------------------------------------------------
    def _repo_json(self, user: dict[str, Any] | None, rec: dict[str, Any]) -> dict[str, Any]:
        owner = self.store.org(rec["owner"]) or self.store.user(rec["owner"]) or {"id": 0, "name": rec["owner"]}
        pulls = self.store.db["pulls"].get(f"{rec['owner']}/{rec['name']}", {})
        open_prs = sum(1 for p in pulls.values() if p["state"] == "open")
        git = GitRepo(self.git_root / rec["owner"] / f"{rec['name']}.git")
        return o.repo_json(self.urls, rec, owner, can_push=self.can_write(user, rec), open_prs=open_prs,
                           branch_count=len(git.branches()))

    def get_repo(self, req: Request, owner: str, repo: str) -> Response:
        _, rec, _ = self._repo(owner, repo)
        return Response(200, self._repo_json(req.user, rec))

    def collaborator(self, req: Request, owner: str, repo: str, login: str) -> Response:
        _, rec, _ = self._repo(owner, repo)
        self._need_user(req)
        if self._user_by_login(login) is None:
            raise ApiError(422, f"user does not exist [uid: 0, name: {login}]")
        return Response(204 if self.store.is_member(rec["owner"], login) else 404)

    def list_branches(self, req: Request, owner: str, repo: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        push = self.can_write(req.user, rec)
        return self._page(req, [o.branch_json(self.urls, full, git, n, s, can_push=push)
                                for n, s in git.branches()])

    def get_branch(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        sha = git.branch_sha(branch)
        if sha is None:
            raise ApiError(404, "Branch not found")
        return Response(200, o.branch_json(self.urls, full, git, branch, sha,
                                           can_push=self.can_write(req.user, rec)))

    def create_branch(self, req: Request, owner: str, repo: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        self._need_writer(req, rec)
        body = req.json()
        name = str(body.get("new_branch_name") or "")
        if not name:
            raise ApiError(422, "[NewBranchName]: Required")
        old = str(body.get("old_ref_name") or body.get("old_branch_name") or rec["default_branch"])
        sha = git.resolve(old)
        if sha is None:
            raise ApiError(404, "The old branch does not exist")
        with self.store.lock:
            if git.branch_sha(name) is not None:
                raise ApiError(409, "The branch with the same name already exists.")
            git.create_branch(name, sha)
        return Response(201, o.branch_json(self.urls, full, git, name, sha, can_push=True))

    def delete_branch(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        _, rec, git = self._repo(owner, repo)
        self._need_writer(req, rec)
        if branch == rec["default_branch"]:
            raise ApiError(403, "can not delete default branch")
        if git.branch_sha(branch) is None:
            raise ApiError(404, "Branch doesn't exist.")
        git.delete_branch(branch)
        return Response(204)

    def list_tags(self, req: Request, owner: str, repo: str) -> Response:
        full, _, git = self._repo(owner, repo)
        tags = []
        for name, sha in reversed(git.tags()):
            tags.append({"name": name, "message": "", "id": sha,
                         "commit": {"url": f"{self.urls.repo_api(full)}/git/commits/{sha}", "sha": sha,
                                    "created": git.commit(sha)["committer"].date},  # type: ignore[union-attr]
                         "zipball_url": f"{self.urls.repo_html(full)}/archive/{name}.zip",
                         "tarball_url": f"{self.urls.repo_html(full)}/archive/{name}.tar.gz"})
        return self._page(req, tags)

    def git_commit(self, req: Request, owner: str, repo: str, sha: str) -> Response:
        full, _, git = self._repo(owner, repo)
        resolved = git.resolve(sha)
        if resolved is None:
            raise ApiError(404, f"object does not exist [id: {sha}, rel_path: ]")
        return Response(200, o.commit_json(self.urls, full, git, resolved, self.store.user_by_email))

    def list_commits(self, req: Request, owner: str, repo: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        ref = req.q("sha") or rec["default_branch"]
        sha = git.resolve(ref)
        if sha is None:
            raise ApiError(404, f"object does not exist [id: {ref}, rel_path: ]")
        path = req.q("path")
        shas = git.out("rev-list", sha, *(["--", path] if path else [])).split()
        return self._page(req, [o.commit_json(self.urls, full, git, s, self.store.user_by_email)
                                for s in shas[:self.max_response_items * 4]])

    # -- commit statuses ------------------------------------------------------------------------
    def _statuses(self, full: str, sha: str) -> list[dict[str, Any]]:
        return [s for s in self.store.db["statuses"].get(full, []) if s["sha"] == sha]

    def _resolve_or_404(self, git: GitRepo, ref: str) -> str:
        sha = git.resolve(ref)
        if sha is None:
            raise ApiError(404, f"object does not exist [id: {ref}, rel_path: ]")
        return sha

    def list_statuses(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full, _, git = self._repo(owner, repo)
        sha = self._resolve_or_404(git, ref)
        items = sorted(self._statuses(full, sha), key=lambda s: s["id"], reverse=True)  # newest first
        state = req.q("state")
        if state:
            items = [s for s in items if s["state"] == state]
        users = {u["id"]: u for u in self.store.db["users"].values()}
        return self._page(req, [o.status_json(self.urls, full, s, users.get(s["creator"])) for s in items])

    def combined_status(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        sha = self._resolve_or_404(git, ref)
        latest: dict[str, dict[str, Any]] = {}
        for st in sorted(self._statuses(full, sha), key=lambda s: s["id"]):
            latest[st["context"]] = st  # the newest status per context counts
        users = {u["id"]: u for u in self.store.db["users"].values()}
        statuses = [o.status_json(self.urls, full, s, users.get(s["creator"]))
                    for s in sorted(latest.values(), key=lambda s: s["id"])]
        return Response(200, {
            "state": o.combine([s["state"] for s in latest.values()]), "sha": sha,
            "total_count": len(statuses), "statuses": statuses,
            "repository": self._repo_json(req.user, rec),
            "commit_url": f"{self.urls.repo_api(full)}/commits/{sha}",
            "url": f"{self.urls.repo_api(full)}/commits/{sha}/status",
        })

    def create_status(self, req: Request, owner: str, repo: str, sha: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        user = self._need_writer(req, rec)
        body = req.json()
        state = str(body.get("state") or "")
        if state not in STATES:
            raise ApiError(422, f"[State]: invalid commit status state {state!r}")
        resolved = self._resolve_or_404(git, sha)
        with self.store.write() as db:
            st = {"id": self.store.next_id("status"), "sha": resolved, "state": state,
                  "context": str(body.get("context") or "default"),
                  "target_url": str(body.get("target_url") or ""),
                  "description": str(body.get("description") or ""),
                  "creator": user["id"], "created": now_iso()}
            db["statuses"].setdefault(full, []).append(st)
        return Response(201, o.status_json(self.urls, full, st, user))

    # -- files ----------------------------------------------------------------------------------
    def _content_json(self, full: str, git: GitRepo, commit: str, ref: str, entry: Any,
                      with_content: bool) -> dict[str, Any]:
        api, html = self.urls.repo_api(full), self.urls.repo_html(full)
        kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
        if entry.mode == "120000":
            kind = "symlink"
        last = git.last_commit_for(commit, entry.path)
        info = git.commit(last)
        data: dict[str, Any] = {
            "name": entry.path.rsplit("/", 1)[-1], "path": entry.path, "sha": entry.sha,
            "last_commit_sha": last, "last_commit_message": info["message"],
            "last_author_date": info["author"].date,  # type: ignore[union-attr]
            "last_committer_date": info["committer"].date,  # type: ignore[union-attr]
            "type": kind,
            "size": entry.size, "encoding": None, "content": None, "target": None,
            "url": f"{api}/contents/{entry.path}?ref={ref}",
            "html_url": f"{html}/src/commit/{commit}/{entry.path}",
            "git_url": f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{entry.sha}",
            "download_url": f"{html}/raw/commit/{commit}/{entry.path}" if kind == "file" else None,
            "submodule_git_url": None,
        }
        data["_links"] = {"self": data["url"], "git": data["git_url"], "html": data["html_url"]}
        if with_content and kind in ("file", "symlink"):
            raw = git.blob(entry.sha)
            if kind == "file":
                data["encoding"], data["content"] = "base64", base64.b64encode(raw).decode()
            else:
                data["target"] = raw.decode(errors="replace")
        return data

    def get_contents(self, req: Request, owner: str, repo: str, path: str = "") -> Response:
        full, rec, git = self._repo(owner, repo)
        ref = req.q("ref") or rec["default_branch"]
        commit = git.resolve(ref)
        if commit is None:
            raise ApiError(404, f"object does not exist [id: {ref}, rel_path: ]")
        entry = git.entry(commit, path)
        if entry is None:
            raise ApiError(404, f"object does not exist [id: , rel_path: {path}]")
        if entry.type == "tree":
            return Response(200, [self._content_json(full, git, commit, ref, e, False)
                                  for e in git.list_dir(commit, path)])
        return Response(200, self._content_json(full, git, commit, ref, entry, True))

    def put_contents(self, req: Request, owner: str, repo: str, path: str) -> Response:
        """PUT: update when ``sha`` is given, else create (Gitea >= 1.24); POST: create only."""
        full, rec, git = self._repo(owner, repo)
        user = self._need_writer(req, rec)
        body = req.json()
        try:
            content = base64.b64decode(str(body.get("content") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(422, f"content is not valid base64: {exc}") from exc
        path = path.strip("/")
        branch = str(body.get("branch") or rec["default_branch"])
        new_branch = str(body.get("new_branch") or "")
        author_in = body.get("author") or {}
        author = Ident(str(author_in.get("name") or user.get("full_name") or user["login"]),
                       str(author_in.get("email") or user["email"]),
                       (body.get("dates") or {}).get("author"))
        committer_in = body.get("committer") or {}
        committer = Ident(str(committer_in.get("name") or author.name),
                          str(committer_in.get("email") or author.email),
                          (body.get("dates") or {}).get("committer"))
        with self.store.lock:
            parent = git.branch_sha(branch)
            if parent is None:
                raise ApiError(404, f"branch does not exist [name: {branch}]")
            if new_branch and git.branch_sha(new_branch) is not None:
                raise ApiError(422, f"branch already exists [name: {new_branch}]")
            existing = git.entry(parent, path)
            sha = str(body.get("sha") or "")
            if existing is not None and existing.type == "tree":
                raise ApiError(422, f"a directory exists where a file is to be written [path: {path}]")
            if req.method == "POST" and existing is not None:
                raise ApiError(422, f"repository file already exists [path: {path}]")
            if sha and req.method == "PUT":
                if existing is None:
                    raise ApiError(404, f"repository file does not exist [path: {path}]")
                if existing.sha != sha:
                    raise ApiError(422, f"sha does not match [given: {sha}, expected: {existing.sha}]")
            elif existing is not None and req.method == "PUT":
                raise ApiError(422, f"repository file already exists [path: {path}]")
            message = str(body.get("message") or (f"Update {path}" if existing else f"Add {path}"))
            commit = git.commit_file(parent, path, content, message, author, committer)
            target = new_branch or branch
            git.set_ref(f"refs/heads/{target}", commit, parent if not new_branch else "0" * 40)
        entry = git.entry(commit, path)
        return Response(200 if existing else 201, {
            "content": self._content_json(full, git, commit, target, entry, False),
            "commit": o.file_commit_json(self.urls, full, git, commit),
            "verification": dict(o.NOT_SIGNED),
        })

    def raw(self, req: Request, owner: str, repo: str, path: str) -> Response:
        """The box's quirk: a short or unknown ``ref`` silently falls back to the default branch;
        only a branch, a tag or a full SHA is honoured."""
        _, rec, git = self._repo(owner, repo)
        ref = req.q("ref")
        commit = None
        if not ref:  # the "{ref}/{filepath}" form
            head, _, rest = path.partition("/")
            if rest and (git.is_branch(head) or git.is_tag(head) or FULL_SHA.match(head)):
                commit, path = git.resolve(head), rest
        elif git.is_branch(ref) or git.is_tag(ref) or (FULL_SHA.match(ref) and git.resolve(ref)):
            commit = git.resolve(ref)
        if commit is None:
            commit = git.branch_sha(rec["default_branch"])
        entry = git.entry(commit or "", path) if commit else None
        if entry is None or entry.type != "blob":
            raise ApiError(404, f"object does not exist [id: , rel_path: {path}]")
        return Response(200, git.blob(entry.sha), {"Content-Type": "text/plain; charset=utf-8"})

    def compare(self, req: Request, owner: str, repo: str, spec: str) -> Response:
        full, _, git = self._repo(owner, repo)
        base, sep, head = spec.partition("...")
        if not sep:
            base, sep, head = spec.partition("..")
        if not sep or not base or not head:
            raise ApiError(404, "invalid compare spec, expected base...head")
        bsha, hsha = git.resolve(base), git.resolve(head)
        if bsha is None or hsha is None:
            raise ApiError(404, f"{'BaseNotExist' if bsha is None else 'HeadNotExist'}")
        shas = git.rev_list(bsha, hsha)
        return Response(200, {"total_commits": len(shas),
                              "commits": [o.commit_json(self.urls, full, git, s, self.store.user_by_email)
                                          for s in shas]})

    def mirror_sync(self, req: Request, owner: str, repo: str) -> Response:
        _, rec, _ = self._repo(owner, repo)
        self._need_writer(req, rec)
        raise ApiError(400, "Repository is not a mirror")

    # -- pull requests --------------------------------------------------------------------------
    def _pulls(self, full: str) -> dict[str, dict[str, Any]]:
        return self.store.db["pulls"].setdefault(full, {})

    def _pull(self, full: str, n: str | int) -> dict[str, Any]:
        pr = self._pulls(full).get(str(int(n)))
        if pr is None:
            raise ApiError(404, "pull request does not exist [id: 0, issue_id: 0, head_repo_id: 0, "
                                "base_repo_id: 0, head_branch: , base_branch: ]")
        return pr

    def _refresh_head(self, full: str, git: GitRepo, pr: dict[str, Any]) -> None:
        """An open PR's head follows its branch (a push moves it), as Gitea does on push."""
        if pr["state"] != "open":
            return
        sha = git.branch_sha(pr["head_ref"])
        if sha and sha != pr["head_sha"]:
            with self.store.write():
                pr["head_sha"] = sha
                pr["updated"] = now_iso()
            git.set_ref(f"refs/pull/{pr['index']}/head", sha)

    def _head_info(self, full: str, rec: dict[str, Any], git: GitRepo, pr: dict[str, Any],
                   repo_obj: dict[str, Any]) -> dict[str, Any]:
        """services/convert/pull.go: ``label`` is always the head branch; ``ref`` is the branch
        while it exists, else ``refs/pull/<n>/head`` (and ``sha`` is read from that ref)."""
        n = pr["index"]
        sha = git.branch_sha(pr["head_ref"])
        ref = pr["head_ref"]
        if sha is None:
            ref = f"refs/pull/{n}/head"
            sha = git.resolve(ref) or pr["head_sha"]
        return {"label": pr["head_ref"], "ref": ref, "sha": sha, "repo_id": rec["id"], "repo": repo_obj}

    def _pr_json(self, full: str, rec: dict[str, Any], git: GitRepo, pr: dict[str, Any],
                 user: dict[str, Any] | None = None, detail: bool = True) -> dict[str, Any]:
        self._refresh_head(full, git, pr)
        urls = self.urls
        repo_obj = self._repo_json(user, rec)
        base_sha = git.branch_sha(pr["base_ref"]) or pr["base_sha"]
        head = self._head_info(full, rec, git, pr, repo_obj)
        head_sha = head["sha"]
        merged = bool(pr.get("merged"))
        # A merged PR's diff is merge base..head (routers/api/v1/repo/pull.go GetPullRequestFiles).
        merge_base = pr.get("merge_base") if merged else (git.merge_base(base_sha, head_sha) or base_sha)
        files = git.diff_files(merge_base, head_sha) if detail else []
        mergeable = (pr["state"] == "open" and git.mergeable(base_sha, head_sha)) if detail else pr["state"] == "open"
        n = pr["index"]
        comments = sum(1 for c in self.store.db["comments"].values() if c["repo"] == full and c["issue"] == n)
        merger = self.store.user(pr.get("merged_by") or "") if merged else None
        return {
            "id": pr["id"], "url": f"{urls.repo_html(full)}/pulls/{n}", "number": n,
            "user": o.user_json(urls, self.store.user(pr["user"]), with_email=False),
            "title": pr["title"], "body": pr["body"], "content_version": pr.get("content_version", 0),
            "labels": [], "milestone": None, "assignee": None, "assignees": [],
            "requested_reviewers": [], "requested_reviewers_teams": [],
            "state": pr["state"], "draft": False, "is_locked": False, "comments": comments,
            "review_comments": 0, "additions": sum(f["additions"] for f in files),
            "deletions": sum(f["deletions"] for f in files), "changed_files": len(files),
            "html_url": f"{urls.repo_html(full)}/pulls/{n}",
            "diff_url": f"{urls.repo_html(full)}/pulls/{n}.diff",
            "patch_url": f"{urls.repo_html(full)}/pulls/{n}.patch",
            "mergeable": bool(mergeable), "merged": merged, "merged_at": pr.get("merged_at") if merged else None,
            "merge_commit_sha": pr.get("merge_commit_sha") if merged else None,
            "merged_by": o.user_json(urls, merger, with_email=False),
            "allow_maintainer_edit": False,
            "base": {"label": pr["base_ref"], "ref": pr["base_ref"], "sha": base_sha,
                     "repo_id": rec["id"], "repo": repo_obj},
            "head": head,
            "merge_base": merge_base, "due_date": None,
            "created_at": pr["created"], "updated_at": pr["updated"], "closed_at": pr["closed"],
            "pin_order": 0,
        }

    def list_pulls(self, req: Request, owner: str, repo: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        state = req.q("state", "open") or "open"
        if state not in ("open", "closed", "all"):
            raise ApiError(422, f"invalid state {state!r}")
        prs = [p for p in self._pulls(full).values() if state == "all" or p["state"] == state]
        prs.sort(key=lambda p: p["index"], reverse=True)  # Gitea's default: newest first
        resp = self._page(req, prs)
        resp.body = [self._pr_json(full, rec, git, p, req.user) for p in resp.body]
        return resp

    def get_pull(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        return Response(200, self._pr_json(full, rec, git, self._pull(full, n), req.user))

    def create_pull(self, req: Request, owner: str, repo: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        user = self._need_writer(req, rec)
        body = req.json()
        head = str(body.get("head") or "")
        base = str(body.get("base") or "")
        title = str(body.get("title") or "")
        if not head or not base or not title:
            raise ApiError(422, "[Head] [Base] [Title]: Required")
        if ":" in head:  # "owner:branch" names the head repo; the lab has no forks
            head_owner, head = head.split(":", 1)
            if head_owner.lower() != rec["owner"].lower():
                raise ApiError(404, f"head repository {head_owner}/{rec['name']} does not exist")
        with self.store.lock:
            head_sha, base_sha = git.branch_sha(head), git.branch_sha(base)
            if base_sha is None:
                raise ApiError(404, f"BaseNotExist: branch does not exist [name: {base}]")
            if head_sha is None:
                raise ApiError(404, f"HeadNotExist: branch does not exist [name: {head}]")
            for pr in self._pulls(full).values():
                if pr["state"] == "open" and pr["head_ref"] == head and pr["base_ref"] == base:
                    raise ApiError(409, f"pull request already exists for these targets [id: {pr['id']}, "
                                        f"issue_id: {pr['id']}, head_repo_id: {rec['id']}, base_repo_id: "
                                        f"{rec['id']}, head_branch: {head}, base_branch: {base}]")
            mb = git.merge_base(base_sha, head_sha) or base_sha
            if not git.rev_list(base_sha, head_sha) or not git.diff_files(mb, head_sha):
                raise ApiError(422, "There are no changes between the head and the base")
            with self.store.write() as db:
                index = rec.get("next_index", 1)
                rec["next_index"] = index + 1
                stamp = now_iso()
                pr = {"id": self.store.next_id("issue"), "index": index, "repo": full,
                      "title": title, "body": str(body.get("body") or ""), "user": user["login"],
                      "head_ref": head, "head_sha": head_sha, "base_ref": base, "base_sha": base_sha,
                      "state": "open", "created": stamp, "updated": stamp, "closed": None}
                db["pulls"].setdefault(full, {})[str(index)] = pr
            git.set_ref(f"refs/pull/{index}/head", head_sha)
        return Response(201, self._pr_json(full, rec, git, pr, user))

    def edit_pull(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        user = self._need_user(req)
        pr = self._pull(full, n)
        if not self.can_write(user, rec) and user["login"] != pr["user"]:
            raise ApiError(403, "user should have a permission to write to a repo")
        body = req.json()
        with self.store.write():
            if "title" in body and body["title"]:
                pr["title"] = str(body["title"])
            if "body" in body and body["body"] is not None and str(body["body"]) != pr["body"]:
                pr["body"] = str(body["body"])
                pr["content_version"] = pr.get("content_version", 0) + 1
            state = body.get("state")
            if state == "closed" and self._refuse_close(full):
                raise ApiError(403, "user should have a permission to write to a repo")
            if state == "closed" and pr["state"] == "open" and self._fake_close(full):
                pass
            elif state == "closed" and pr["state"] == "open":
                self._refresh_head(full, git, pr)
                pr["state"], pr["closed"] = "closed", now_iso()
            elif state == "open" and pr["state"] == "closed":
                if pr.get("merged"):
                    raise ApiError(409, "cannot reopen a merged pull request")
                if git.branch_sha(pr["head_ref"]) is None:
                    raise ApiError(422, "cannot reopen: the head branch is gone")
                for other in self._pulls(full).values():
                    if other is not pr and other["state"] == "open" and other["head_ref"] == pr["head_ref"] \
                            and other["base_ref"] == pr["base_ref"]:
                        raise ApiError(409, "another open pull request exists for these targets")
                pr["state"], pr["closed"] = "open", None
            elif state not in (None, "open", "closed"):
                raise ApiError(422, f"invalid state {state!r}")
            pr["updated"] = now_iso()
        return Response(201, self._pr_json(full, rec, git, pr, user))  # Gitea answers 201 here

    def pull_files(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, _, git = self._repo(owner, repo)
        pr = self._pull(full, n)
        self._refresh_head(full, git, pr)
        base_sha = git.branch_sha(pr["base_ref"]) or pr["base_sha"]
        mb = pr["merge_base"] if pr.get("merged") else (git.merge_base(base_sha, pr["head_sha"]) or base_sha)
        files = git.diff_files(mb, pr["head_sha"])
        html, api = self.urls.repo_html(full), self.urls.repo_api(full)
        for f in files:
            f.update({"previous_filename": "", "changes": f["additions"] + f["deletions"],
                      "html_url": f"{html}/src/commit/{pr['head_sha']}/{f['filename']}",
                      "contents_url": f"{api}/contents/{f['filename']}?ref={pr['head_sha']}",
                      "raw_url": f"{html}/raw/commit/{pr['head_sha']}/{f['filename']}"})
        return self._page(req, files)

    def pull_is_merged(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, _, _ = self._repo(owner, repo)
        if self._pull(full, n).get("merged"):
            return Response(204)
        raise ApiError(404, "The target couldn't be found.")

    def merge_pull(self, req: Request, owner: str, repo: str, n: str) -> Response:
        """routers/api/v1/repo/pull.go MergePullRequest, style ``merge`` only: a real merge commit
        (``git merge --no-ff`` semantics) on the base branch; 404 closed, 405 merged / not allowed /
        not mergeable, 409 conflicts or a stale ``head_commit_id``; 200 with no body."""
        full, rec, git = self._repo(owner, repo)
        pr = self._pull(full, n)
        user = self._need_user(req)
        body = req.json()
        do = str(body.get("Do") or body.get("do") or "")
        if do and do not in MERGE_STYLES:
            raise ApiError(422, "[Do]: In")
        if pr["state"] == "closed" and not pr.get("merged"):
            raise ApiError(404, "The target couldn't be found.")
        if not self.can_write(user, rec):
            raise ApiError(405, "User not allowed to merge PR")
        if pr.get("merged"):
            raise ApiError(405, "")
        if (do or "merge") != "merge":
            raise ApiError(405, f"{do} is not allowed an allowed merge style for this repository")
        with self.store.lock:
            self._refresh_head(full, git, pr)
            base_sha, head_sha = git.branch_sha(pr["base_ref"]), pr["head_sha"]
            if base_sha is None:
                raise ApiError(405, "Please try again later")
            wanted = str(body.get("head_commit_id") or "")
            if wanted and wanted != head_sha:
                raise ApiError(409, "head out of date")
            if not git.mergeable(base_sha, head_sha):
                raise ApiError(409, "merge failed because of conflict")
            merge_base = git.merge_base(base_sha, head_sha) or base_sha
            title = str(body.get("MergeTitleField") or body.get("merge_title_field") or "").strip() or \
                f"Merge pull request '{pr['title']}' (#{pr['index']}) from {pr['head_ref']} into {pr['base_ref']}"
            extra = str(body.get("MergeMessageField") or body.get("merge_message_field") or "").strip()
            message = title + (f"\n\n{extra}" if extra else "") + \
                f"\n\nReviewed-on: {self.urls.repo_html(full)}/pulls/{pr['index']}\n"
            who = Ident(user.get("full_name") or user["login"], user["email"])
            sha = git.merge_commit(base_sha, head_sha, message, who)
            git.set_ref(f"refs/heads/{pr['base_ref']}", sha, base_sha)
            with self.store.write() as db:
                stamp = now_iso()
                pr.update(state="closed", closed=stamp, updated=stamp, merged=True, merged_at=stamp,
                          merged_by=user["login"], merge_commit_sha=sha, merge_base=merge_base)
                db["merges"].append({"repo": full, "number": pr["index"], "user": user["login"], "sha": sha,
                                     "at": stamp})
            log.info("merged %s#%s by %s: %s", full, pr["index"], user["login"], sha)
            if body.get("delete_branch_after_merge") and pr["head_ref"] != rec["default_branch"]:
                if git.branch_sha(pr["head_ref"]) is not None:
                    git.delete_branch(pr["head_ref"])
        return Response(200)

    def get_issue(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, rec, git = self._repo(owner, repo)
        pr = self._pr_json(full, rec, git, self._pull(full, n), req.user, detail=False)
        return Response(200, {
            "id": pr["id"], "url": f"{self.urls.repo_api(full)}/issues/{n}", "html_url": pr["html_url"],
            "number": pr["number"], "user": pr["user"], "title": pr["title"], "body": pr["body"],
            "labels": [], "milestone": None, "assignee": None, "assignees": None, "state": pr["state"],
            "is_locked": False, "comments": pr["comments"], "created_at": pr["created_at"],
            "updated_at": pr["updated_at"], "closed_at": pr["closed_at"], "due_date": None,
            "pull_request": {"merged": False, "merged_at": None, "draft": False,
                             "html_url": pr["html_url"]},
            "repository": {"id": rec["id"], "name": rec["name"], "owner": rec["owner"], "full_name": full},
        })

    # -- comments -------------------------------------------------------------------------------
    def _comment_json(self, full: str, c: dict[str, Any]) -> dict[str, Any]:
        return o.comment_json(self.urls, full, c, self.store.user(c["user"]))

    def _filter_time(self, req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``since``/``before`` compare with a comment's update time, as Gitea does."""
        since, before = req.q("since"), req.q("before")
        t_since = parse_iso(since) if since else None
        t_before = parse_iso(before) if before else None
        if (since and t_since is None) or (before and t_before is None):
            raise ApiError(422, "since/before must be RFC 3339 times")
        out = []
        for c in items:
            t = parse_iso(c["updated"]) or 0
            if t_since is not None and t < t_since:
                continue
            if t_before is not None and t >= t_before:
                continue
            out.append(c)
        return out

    def list_comments(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, _, _ = self._repo(owner, repo)
        self._pull(full, n)
        items = [c for c in self.store.db["comments"].values() if c["repo"] == full and c["issue"] == int(n)]
        items.sort(key=lambda c: c["id"])
        return self._counted([self._comment_json(full, c) for c in self._filter_time(req, items)])

    def repo_comments(self, req: Request, owner: str, repo: str) -> Response:
        full, _, _ = self._repo(owner, repo)
        items = sorted((c for c in self.store.db["comments"].values() if c["repo"] == full),
                       key=lambda c: c["id"])
        return self._page(req, [self._comment_json(full, c) for c in self._filter_time(req, items)])

    def create_comment(self, req: Request, owner: str, repo: str, n: str) -> Response:
        full, _, _ = self._repo(owner, repo)
        user = self._need_user(req)  # any signed-in user may comment on a public repo's PR
        pr = self._pull(full, n)
        text = req.json().get("body")
        if not isinstance(text, str) or not text:
            raise ApiError(422, "[Body]: Required")
        with self.store.write() as db:
            stamp = now_iso()
            c = {"id": self.store.next_id("comment"), "repo": full, "issue": pr["index"],
                 "user": user["login"], "body": text, "created": stamp, "updated": stamp}
            db["comments"][str(c["id"])] = c
            pr["updated"] = stamp
        return Response(201, self._comment_json(full, c))

    def _comment(self, full: str, cid: str) -> dict[str, Any]:
        c = self.store.db["comments"].get(str(int(cid)))
        if c is None or c["repo"] != full:
            raise ApiError(404, f"comment does not exist [id: {cid}]")
        return c

    def get_comment(self, req: Request, owner: str, repo: str, cid: str) -> Response:
        full, _, _ = self._repo(owner, repo)
        return Response(200, self._comment_json(full, self._comment(full, cid)))

    def edit_comment(self, req: Request, owner: str, repo: str, cid: str) -> Response:
        full, rec, _ = self._repo(owner, repo)
        user = self._need_user(req)
        c = self._comment(full, cid)
        if user["login"] != c["user"] and not self.can_write(user, rec):
            raise ApiError(403, "user should have a permission to edit this comment")
        text = req.json().get("body")
        if not isinstance(text, str) or not text:
            raise ApiError(422, "[Body]: Required")
        with self.store.write():
            c["body"], c["updated"] = text, now_iso()
        return Response(200, self._comment_json(full, c))

    def delete_comment(self, req: Request, owner: str, repo: str, cid: str) -> Response:
        full, rec, _ = self._repo(owner, repo)
        user = self._need_user(req)
        c = self._comment(full, cid)
        if user["login"] != c["user"] and not self.can_write(user, rec):
            raise ApiError(403, "user should have a permission to delete this comment")
        with self.store.write() as db:
            del db["comments"][str(c["id"])]
        return Response(204)
