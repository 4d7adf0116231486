# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""An in-memory Gitea API v1 + Drone API, served through httpx.MockTransport (unit tests only).

Shapes and codes follow FACTS.md sections 2 and 3: close PR answers 201, statuses carry the state
in ``status``, the combined status of a commit without statuses has ``state: ""``.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx

GITEA = "http://gitea.test"
DRONE = "http://drone.test"
BOT, OUTSIDER, DRONE_TOKEN = "bot-token", "outsider-token", "drone-token"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class FakeForge:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.ids = itertools.count(100)
        self.tokens = {BOT: "cc-ci-bot", OUTSIDER: "outsider"}
        self.members = {"recipe-maintainers": {"cc-ci-bot"}}
        self.public_members: dict[str, set[str]] = {}
        self.max_items = 50  # Gitea's MAX_RESPONSE_ITEMS
        self.commits: dict[str, dict[str, str]] = {}
        self.repos: dict[str, dict[str, Any]] = {}
        self.prs: dict[str, dict[int, dict[str, Any]]] = {}
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.statuses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.builds: dict[str, list[dict[str, Any]]] = {"recipe-maintainers/cc-ci": []}
        self.log: list[tuple[str, str]] = []
        self.on_comment = None  # callable(repo, number, comment) -> None: a stand-in bridge
        self.fail_next: list[int] = []  # status codes to answer before serving normally
        root = self.commit({"compose.yml": "image: nginx:1.26.2\n", "README.md": "hi\n"})
        self.add_repo("recipe-maintainers/custom-html", {"main": root})

    # -- state helpers ------------------------------------------------------------------------
    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now

    def commit(self, files: dict[str, str]) -> str:
        sha = hashlib.sha1(json.dumps([files, next(self.ids)], sort_keys=True).encode()).hexdigest()
        self.commits[sha] = dict(files)
        return sha

    def add_repo(self, repo: str, branches: dict[str, str]) -> None:
        self.repos[repo] = {"default_branch": "main", "branches": dict(branches)}
        self.prs[repo] = {}

    def add_pr(self, repo: str, head: str, base: str = "main", state: str = "open", merged: bool = False,
               files: dict[str, str] | None = None) -> dict[str, Any]:
        branches = self.repos[repo]["branches"]
        if head not in branches:
            content = dict(self.commits[branches[base]])
            content.update(files or {"compose.yml": "image: nginx:1.27.3\n"})
            branches[head] = self.commit(content)
        number = max(self.prs[repo], default=0) + 1
        pr = {"number": number, "state": state, "merged": merged, "title": f"PR {head}", "body": "",
              "user": {"login": "cc-ci-bot"}, "head": {"label": head, "ref": head, "sha": branches[head]},
              "base": {"ref": base}, "html_url": f"{GITEA}/{repo}/pulls/{number}", "created_at": _iso(self.now)}
        self.prs[repo][number] = pr
        self.comments[(repo, number)] = []
        return pr

    def delete_head(self, repo: str, number: int) -> None:
        """Gitea after the head branch is deleted: ``head.ref`` becomes ``refs/pull/<n>/head``."""
        pr = self.prs[repo][number]
        del self.repos[repo]["branches"][pr["head"]["label"]]
        pr["head"]["ref"] = f"refs/pull/{number}/head"

    def add_comment(self, repo: str, number: int, body: str, login: str = "cc-ci-bot") -> dict[str, Any]:
        cid = next(self.ids)
        comment = {"id": cid, "body": body, "user": {"login": login}, "created_at": _iso(self.now),
                   "updated_at": _iso(self.now), "html_url": f"{GITEA}/{repo}/pulls/{number}#issuecomment-{cid}"}
        self.comments[(repo, number)].append(comment)
        return comment

    def add_status(self, repo: str, sha: str, state: str, target_url: str = "", context: str = "cc-ci/testme",
                   description: str = "") -> dict[str, Any]:
        status = {"id": next(self.ids), "status": state, "context": context, "target_url": target_url,
                  "description": description, "created_at": _iso(self.now), "updated_at": _iso(self.now)}
        self.statuses.setdefault((repo, sha), []).append(status)
        return status

    def add_build(self, params: dict[str, Any], status: str = "running", started: float | None = None,
                  finished: float | None = None, repo: str = "recipe-maintainers/cc-ci") -> dict[str, Any]:
        builds = self.builds.setdefault(repo, [])
        build = {"id": next(self.ids), "number": len(builds) + 1, "status": status, "event": "custom",
                 "params": {k: str(v) for k, v in params.items()}, "created": int(self.now),
                 "started": int(started if started is not None else self.now), "finished": int(finished or 0),
                 "stages": []}
        builds.append(build)
        return build

    # -- HTTP ---------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.log.append((request.method, str(request.url)))
        if self.fail_next:
            return httpx.Response(self.fail_next.pop(0), json={"message": "upstream trouble"})
        url = request.url
        base = f"{url.scheme}://{url.host}"
        auth = request.headers.get("Authorization", "")
        if base == DRONE:
            if auth != f"Bearer {DRONE_TOKEN}":
                return httpx.Response(401, json={"message": "Unauthorized"})
            return self.drone(request)
        if base != GITEA or not url.path.startswith("/api/v1/"):
            return httpx.Response(404, text="<html>not found</html>")
        user = self.tokens.get(auth.removeprefix("token "))
        if user is None:
            return httpx.Response(401, json={"message": "user does not exist", "url": str(url)})
        return self.gitea(request, user)

    def drone(self, request: httpx.Request) -> httpx.Response:
        m = re.match(r"^/api/repos/([^/]+)/([^/]+)/builds(?:/(\d+))?$", request.url.path)
        if not m:
            return httpx.Response(404, json={"message": "Not Found"})
        repo = f"{unquote(m.group(1))}/{unquote(m.group(2))}"
        if repo not in self.builds:
            return httpx.Response(404, json={"message": "Not Found"})
        builds = self.builds[repo]
        if m.group(3):
            for b in builds:
                if b["number"] == int(m.group(3)):
                    return httpx.Response(200, json=b)
            return httpx.Response(404, json={"message": "Not Found"})
        if request.method == "POST":
            params = {k: v for k, v in request.url.params.items() if k not in ("branch", "commit")}
            return httpx.Response(200, json=self.add_build(params, status="pending", started=0, repo=repo))
        page = int(request.url.params.get("page", 1))
        per = int(request.url.params.get("per_page", 25))
        newest = list(reversed(builds))
        return httpx.Response(200, json=newest[(page - 1) * per: page * per])

    def page(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        """Gitea's paging: ``limit`` capped at ``max_items``, ``Link`` next/last and ``X-Total-Count``."""
        q = request.url.params
        page, limit = int(q.get("page", 1)), min(int(q.get("limit", 30)), self.max_items)
        headers = {"X-Total-Count": str(len(items))}
        last = max(1, -(-len(items) // limit))
        if page < last:
            headers["Link"] = (f'<{request.url.copy_set_param("page", page + 1)}>; rel="next",'
                               f'<{request.url.copy_set_param("page", last)}>; rel="last"')
        return httpx.Response(200, json=items[(page - 1) * limit: page * limit], headers=headers)

    def gitea(self, request: httpx.Request, user: str) -> httpx.Response:  # noqa: C901 - a router
        path = request.url.path[len("/api/v1"):]
        method = request.method
        body = json.loads(request.content) if request.content else {}
        q = request.url.params
        if path == "/user":
            return httpx.Response(200, json={"login": user, "id": 1})
        m = re.match(r"^/orgs/([^/]+)/(members|public_members)/([^/]+)$", path)
        if m:  # routers/api/v1/org/member.go: outsiders are sent (303) to the public memberships
            org, which, login = m.groups()
            if which == "public_members":
                return httpx.Response(204 if login in self.public_members.get(org, ()) else 404)
            if user in self.members.get(org, ()):
                return httpx.Response(204 if login in self.members[org] else 404)
            if user == login:
                return httpx.Response(404)
            return httpx.Response(303, headers={"Location": f"/api/v1/orgs/{org}/public_members/{login}"})
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if not m:
            return httpx.Response(404, json={"message": "not found"})
        repo, rest = f"{unquote(m.group(1))}/{unquote(m.group(2))}", unquote(m.group(3) or "")
        if repo not in self.repos:
            return httpx.Response(404, json={"message": "The target couldn't be found."})
        r = self.repos[repo]
        writer = user in self.members.get(repo.split("/", maxsplit=1)[0], ())
        if rest == "":
            return httpx.Response(200, json={"full_name": repo, "default_branch": r["default_branch"], "mirror": False})
        if rest == "/branches" and method == "POST":
            if not writer:
                return httpx.Response(403, json={"message": "user should have write access"})
            name, old = body["new_branch_name"], body["old_ref_name"]
            if name in r["branches"]:
                return httpx.Response(409, json={"message": "The branch already exists."})
            sha = r["branches"].get(old, old if old in self.commits else None)
            if sha is None:
                return httpx.Response(404, json={"message": "old branch not found"})
            r["branches"][name] = sha
            return httpx.Response(201, json={"name": name, "commit": {"id": sha}})
        m = re.match(r"^/branches/(.+)$", rest)
        if m:
            name = m.group(1)
            if name not in r["branches"]:
                return httpx.Response(404, json={"message": "branch not found"})
            if method == "DELETE":
                del r["branches"][name]
                return httpx.Response(204)
            return httpx.Response(200, json={"name": name, "commit": {"id": r["branches"][name]}})
        m = re.match(r"^/git/commits/(.+)$", rest)
        if m:
            sha = m.group(1)
            full = [s for s in self.commits if s.startswith(sha)] if len(sha) >= 7 else []
            return httpx.Response(200, json={"sha": full[0]}) if full else httpx.Response(404, json={"message": "no"})
        m = re.match(r"^/contents/(.+)$", rest)
        if m:
            fpath = m.group(1)
            if method == "GET":
                ref = q.get("ref", "main")
                sha = r["branches"].get(ref, ref)
                files = self.commits.get(sha, {})
                if fpath not in files:
                    return httpx.Response(404, json={"message": "object does not exist"})
                content = files[fpath].encode()
                return httpx.Response(200, json={"path": fpath, "sha": hashlib.sha1(content).hexdigest(),
                                                 "content": base64.b64encode(content).decode(), "encoding": "base64"})
            if not writer:
                return httpx.Response(403, json={"message": "user should have write access"})
            branch = body.get("branch") or "main"
            files = dict(self.commits[r["branches"][branch]])
            if fpath in files and body.get("sha") != hashlib.sha1(files[fpath].encode()).hexdigest():
                return httpx.Response(422, json={"message": "sha does not match"})
            files[fpath] = base64.b64decode(body["content"]).decode()
            target = body.get("new_branch") or branch
            r["branches"][target] = self.commit(files)
            return httpx.Response(201, json={"content": {"path": fpath}, "commit": {"sha": r["branches"][target]}})
        m = re.match(r"^/compare/(.+)\.\.\.(.+)$", rest)
        if m:
            return httpx.Response(200, json={"commits": [{"sha": "x"}], "total_commits": 1})
        if rest == "/pulls" and method == "GET":
            state = q.get("state", "open")
            items = [p for p in self.prs[repo].values() if state == "all" or p["state"] == state]
            return self.page(request, items)
        if rest == "/pulls" and method == "POST":
            if not writer:
                return httpx.Response(403, json={"message": "user should have write access"})
            for p in self.prs[repo].values():
                if p["state"] == "open" and p["head"]["ref"] == body["head"] and p["base"]["ref"] == body["base"]:
                    return httpx.Response(409, json={"message": "pull request already exists for these targets"})
            if r["branches"].get(body["head"]) == r["branches"].get(body["base"]):
                return httpx.Response(422, json={"message": "There are no changes between the head and the base"})
            pr = self.add_pr(repo, body["head"], body["base"])
            pr["title"] = body.get("title", "")
            return httpx.Response(201, json=pr)
        m = re.match(r"^/pulls/(\d+)(/files)?$", rest)
        if m:
            pr = self.prs[repo].get(int(m.group(1)))
            if pr is None:
                return httpx.Response(404, json={"message": "pull request does not exist"})
            pr["head"]["sha"] = r["branches"].get(pr["head"]["ref"], pr["head"]["sha"])
            if m.group(2):
                return self.page(request, [{"filename": "compose.yml", "status": "changed"}])
            if method == "PATCH":
                pr["state"] = body.get("state", pr["state"])
                return httpx.Response(201, json=pr)
            return httpx.Response(200, json=pr)
        m = re.match(r"^/issues/(\d+)/comments$", rest)
        if m:
            key = (repo, int(m.group(1)))
            if key not in self.comments:
                return httpx.Response(404, json={"message": "issue does not exist"})
            if method == "POST":
                comment = self.add_comment(repo, key[1], body["body"], user)
                if self.on_comment:
                    self.on_comment(repo, key[1], comment)
                return httpx.Response(201, json=comment)
            return httpx.Response(200, json=self.comments[key])
        m = re.match(r"^/issues/comments/(\d+)$", rest)
        if m:
            for items in self.comments.values():
                for c in items:
                    if c["id"] == int(m.group(1)):
                        c["body"] = body["body"]
                        return httpx.Response(200, json=c)
            return httpx.Response(404, json={"message": "comment does not exist"})
        m = re.match(r"^/commits/([^/]+)/statuses$", rest)
        if m:
            items = list(reversed(self.statuses.get((repo, m.group(1)), [])))
            return self.page(request, items)
        m = re.match(r"^/commits/([^/]+)/status$", rest)
        if m:
            items = self.statuses.get((repo, m.group(1)), [])
            latest = {}
            for s in items:
                latest[s["context"]] = s
            states = [s["status"] for s in latest.values()]
            state = "" if not states else ("failure" if {"failure", "error"} & set(states) else
                                           "success" if set(states) <= {"success", "warning", "skipped"} else "pending")
            return httpx.Response(200, json={"state": state, "sha": m.group(1), "total_count": len(latest),
                                             "statuses": list(latest.values())})
        m = re.match(r"^/statuses/([^/]+)$", rest)
        if m and method == "POST":
            s = self.add_status(repo, m.group(1), body["state"], body.get("target_url", ""), body.get("context", ""))
            return httpx.Response(201, json=s)
        return httpx.Response(404, json={"message": "not found"})


class FakeBridge:
    """Reacts to a posted comment like the lab's bridge would (synchronously, for unit tests)."""

    def __init__(self, forge: FakeForge, *, status: bool = True, comment: bool = True,
                 accept_outsiders: bool = False, result: str = "success") -> None:
        self.forge, self.status, self.comment = forge, status, comment
        self.accept_outsiders, self.result = accept_outsiders, result
        forge.on_comment = self

    def __call__(self, repo: str, number: int, comment: dict[str, Any]) -> None:
        f = self.forge
        if comment["body"].strip() not in ("!testme", "!testme --quick"):
            return
        login = comment["user"]["login"]
        if login not in f.members["recipe-maintainers"] and not self.accept_outsiders:
            return
        pr = f.prs[repo][number]
        sha = f.repos[repo]["branches"][pr["head"]["ref"]]
        build = f.add_build({"RECIPE": repo.split("/")[1], "REPO": repo, "PR": number, "REF": sha})
        url = f"{DRONE}/recipe-maintainers/cc-ci/{build['number']}"
        if self.status:
            f.add_status(repo, sha, "pending", url)
        if self.comment:
            f.add_comment(repo, number, f"cc-ci: run started \u2014 {url}")

    def finish(self, repo: str, number: int, build_number: int, status: str | None = None) -> None:
        f = self.forge
        status = status or self.result
        build = f.builds["recipe-maintainers/cc-ci"][build_number - 1]
        build["status"], build["finished"] = status, int(f.now)
        url = f"{DRONE}/recipe-maintainers/cc-ci/{build_number}"
        if self.status:
            f.add_status(repo, build["params"]["REF"], "success" if status == "success" else "failure", url)
        if self.comment:
            for c in f.comments[(repo, number)]:
                if url in c["body"]:
                    word = "PASS" if status == "success" else "FAIL"
                    c["body"] = f"### cc-ci results: {word}\n\n![badge]({DRONE}/badge.svg)\n\n[build]({url})\n" \
                                f"head `{build['params']['REF']}`\n"


class FakeClock:
    """``time`` stand-in: sleep advances the forge's clock and runs scheduled events."""

    def __init__(self, forge: FakeForge) -> None:
        self.forge = forge
        self.sleeps: list[float] = []
        self.events: list[tuple[float, Any]] = []

    def time(self) -> float:
        return self.forge.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.forge.now += max(0.0, seconds)
        due = [e for e in self.events if e[0] <= self.forge.now]
        self.events = [e for e in self.events if e[0] > self.forge.now]
        for _unused, action in sorted(due, key=lambda e: e[0]):
            action()

    def at(self, when: float, action: Any) -> None:
        self.events.append((when, action))


class ModuleExit(Exception):
    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result, self.failed = result, failed


def run_module(main: Any, args: dict[str, Any], forge: FakeForge, monkeypatch: Any,
               check_mode: bool = False) -> dict[str, Any]:
    """Run a module's main() against the fake forge; return its result (``failed`` set on fail_json)."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    real_client = httpx.Client

    def client(**kw: Any) -> httpx.Client:
        kw["transport"] = forge.transport()
        return real_client(**kw)

    monkeypatch.setattr(httpx, "Client", client)

    def exit_json(self: Any, **kw: Any) -> None:
        raise ModuleExit(kw, False)

    def fail_json(self: Any, msg: str, **kw: Any) -> None:
        kw["msg"] = msg
        raise ModuleExit(kw, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    full = dict(args)
    if check_mode:
        full["_ansible_check_mode"] = True
    with patch_module_args(full):
        try:
            main()
        except ModuleExit as done:
            result = dict(done.result)
            result["failed"] = done.failed
            return result
    raise AssertionError("module returned without exit_json/fail_json")


def gitea_args(**kw: Any) -> dict[str, Any]:
    args = {"gitea_url": GITEA, "gitea_token": BOT}
    args.update(kw)
    return args


def both_args(**kw: Any) -> dict[str, Any]:
    args = {"gitea_url": GITEA, "gitea_token": BOT, "drone_url": DRONE, "drone_token": DRONE_TOKEN}
    args.update(kw)
    return args


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """The base URL of a TCP server that accepts every connection and never answers (a hung Gitea)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()
