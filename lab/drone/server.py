# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's Drone server: the v2 REST subset of FACTS §3, a build page, and a pool of build workers."""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from lab.config import LabConfig
from lab.drone.gitea import GiteaError
from lab.drone.harness import Harness, Run
from lab.drone.store import TERMINAL, BuildStore

log = logging.getLogger("lab.drone")
REPO = r"/api/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
RESERVED = {"branch", "commit", "access_token"}
WEB_APP = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Drone</title></head>"
           "<body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div>"
           "</body></html>")


class HTTPError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class DroneService:
    def __init__(self, cfg: LabConfig) -> None:
        self.cfg = cfg
        self.store = BuildStore(Path(cfg.state_dir) / "drone.json")
        self.harness = Harness(cfg, self.store)
        # one worker per runner: builds beyond that wait, FIFO, as pending (a box has one runner)
        self.pool = ThreadPoolExecutor(max_workers=max(1, cfg.runners), thread_name_prefix="drone-runner")
        self.cancels: dict[tuple[str, int], threading.Event] = {}
        self.server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> str | None:
        self._recover()
        service = self

        class Handler(_Handler):
            drone = service

        self.server = self._bind(Handler)
        self.server.daemon_threads = True
        self.store.set_meta("port", self.server.server_port)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="drone-http",
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        return self.url

    def _bind(self, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
        """The previous run's port when free: build links already posted on PRs keep working."""
        port = self.store.meta("port") or 0
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            return ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        # builds in flight are cancelled (their teardown still runs) so a stop leaves no deploy behind
        for event in list(self.cancels.values()):
            event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _recover(self) -> None:
        """Builds cut off by a daemon crash become ``error`` and their apps are torn down; builds still
        queued (their stage never taken) go back in the queue, as Drone's do."""
        for repo, build in self.store.unfinished():
            if build["status"] == "pending" and not build.get("started"):
                self._enqueue(repo, build["number"])
                continue
            if build["status"] != "running":
                continue  # blocked / waiting_on_dependencies: they wait for a human, as before
            def fail(b: dict) -> None:
                b.update(status="error", error="lab restarted while the build ran", finished=int(time.time()))
                for stage in b.get("stages", []):
                    stage["status"] = "error"
                    for step in stage.get("steps", []):
                        if step["status"] in ("pending", "running"):
                            step["status"] = "skipped" if step["status"] == "pending" else "error"
            self.store.update(repo, build["number"], fail)
            recipe = (build.get("params") or {}).get("RECIPE")
            if recipe:
                run = Run(repo, build["number"], {}, threading.Event(), recipe=recipe, server=self.cfg.abra_server)
                self.pool.submit(self.harness.teardown, run, lambda line, d=run.domain: log.info("cleanup %s: %s", d, line))

    # -- operations ------------------------------------------------------------------------------

    def _enqueue(self, repo: str, number: int) -> None:
        event = threading.Event()
        self.cancels[(repo, number)] = event

        def work() -> None:
            try:
                self.harness.run(repo, number, event)
            except Exception:  # never leave a build running forever
                log.exception("build %s#%s crashed", repo, number)
                self.store.update(repo, number, lambda b: b.update(status="error", error="harness crashed",
                                                                   finished=int(time.time())))
            finally:
                self.cancels.pop((repo, number), None)

        self.pool.submit(work)

    def create(self, repo: str, query: dict[str, str], parent: dict | None = None) -> dict:
        if repo != self.cfg.ci_repo:
            raise HTTPError(404, "Not Found")
        login = self.cfg.users.get("bot", "cc-ci-bot")
        if parent:
            fields = {k: v for k, v in parent.items()
                      if k not in ("id", "number", "status", "created", "updated", "started", "finished", "stages",
                                   "error")}
            fields["params"] = {**(parent.get("params") or {}),
                                **{k: v for k, v in query.items() if k != "access_token"}}
            fields["parent"] = parent["number"]
        else:
            branch = query.get("branch") or "main"
            commit = query.get("commit") or ""
            message = ""
            if not commit:
                try:
                    head = self.harness.gitea().branch_head(repo, branch)
                except (GiteaError, httpx.HTTPError) as exc:
                    raise HTTPError(500, f"cannot read {repo}@{branch} from Gitea: {exc}") from None
                if head is None:
                    raise HTTPError(404, f"branch {branch} not found")
                commit, message = head["id"], head.get("message") or ""
            fields = {
                "repo_id": 1, "trigger": login, "parent": 0, "event": "custom", "action": "", "error": "",
                "link": f"{self.cfg.gitea_url.rstrip('/')}/{repo}/commit/{commit}", "timestamp": 0, "title": "",
                "message": message.strip(), "before": commit, "after": commit, "ref": f"refs/heads/{branch}",
                "source_repo": "", "source": branch, "target": branch, "author_login": login,
                "author_name": login, "author_email": "", "author_avatar": "", "sender": login,
                "params": {k: v for k, v in query.items() if k not in RESERVED}, "cron": "", "deploy_to": "",
                "deploy_id": 0, "debug": False, "version": 1,
            }
        stale = self._stale_answer(repo, fields)
        build = self.store.create(repo, fields, status=self._initial_status())
        if build["status"] == "pending" and not self.cfg.has("drone-dead-runner"):
            self._enqueue(repo, build["number"])
        elif build["status"] == "blocked" and self.cfg.has("drone-declines-builds"):
            threading.Timer(max(self.cfg.build_seconds / 3, 0.5), self._decline, (repo, build["number"])).start()
        return stale or build

    def _initial_status(self) -> str:
        """``pending``; lab faults make Drone hold the stage for approval or for a stage it depends on."""
        if self.cfg.has("drone-blocks-builds") or self.cfg.has("drone-declines-builds"):
            return "blocked"
        if self.cfg.has("drone-waits-on-dependencies"):
            return "waiting_on_dependencies"
        return "pending"

    def _decline(self, repo: str, number: int) -> None:
        """What a maintainer's "decline" does to a blocked build (handler/api/repos/builds/stages/decline.go)."""
        def change(b: dict) -> None:
            if b["status"] == "blocked":
                b["status"] = b["stages"][0]["status"] = "declined"
        self.store.update(repo, number, change)

    def _stale_answer(self, repo: str, fields: dict) -> dict | None:
        """Mutant ``drone-answers-stale-build``: the trigger is answered with the recipe's previous build."""
        if not self.cfg.has("drone-answers-stale-build"):
            return None
        recipe = (fields.get("params") or {}).get("RECIPE")
        return next((b for b in self.store.list(repo) if (b.get("params") or {}).get("RECIPE") == recipe), None)

    def cancel(self, repo: str, number: int) -> dict:
        build = self.store.get(repo, number)
        if build is None:
            raise HTTPError(404, "Not Found")
        if build["status"] in TERMINAL:
            raise HTTPError(409, "Cannot cancel a build that has finished")
        event = self.cancels.get((repo, number))
        if event:
            event.set()
        if build["status"] in ("pending", "blocked", "waiting_on_dependencies") and not build.get("started"):
            # no runner has it: the worker will see the status and skip it (service/canceler)
            return self.store.update(repo, number, _cancel_queued)
        return self.store.get(repo, number) or build

class _Handler(BaseHTTPRequestHandler):
    drone: DroneService
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = (json.dumps(body) if content_type == "application/json" else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type + ("; charset=utf-8" if content_type == "text/html" else ""))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _authorised(self, query: dict[str, str]) -> bool:
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else query.get("access_token", "")
        return bool(token) and token == self.drone.cfg.tokens.get("drone")

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path.rstrip("/") or "/"
        try:
            if not path.startswith("/api/"):
                return self._page(path)
            if not self._authorised(query):
                raise HTTPError(401, "Unauthorized")
            self._api(self.command, path, query)
        except HTTPError as exc:
            self._send(exc.code, {"message": str(exc)})
        except Exception as exc:  # noqa: BLE001 - a lab bug must answer, not hang the client
            log.exception("drone: %s %s", self.command, self.path)
            self._send(500, {"message": f"{type(exc).__name__}: {exc}"})

    do_GET = do_POST = do_DELETE = do_HEAD = _dispatch  # noqa: N815

    def _page(self, path: str) -> None:
        """Drone's server answers every non-API path with its web app (handler/web: r.NotFound(HandleIndex)):
        the page renders builds client-side, so a 200 says nothing about whether a build exists."""
        self._send(200, WEB_APP, "text/html")

    def _api(self, method: str, path: str, query: dict[str, str]) -> None:
        d = self.drone
        if path == "/api/user" and method == "GET":
            login = d.cfg.users.get("bot", "cc-ci-bot")
            return self._send(200, {"id": 1, "login": login, "email": "", "machine": False, "admin": True,
                                    "active": True, "avatar": "", "syncing": False, "synced": 0, "created": 0,
                                    "updated": 0, "last_login": int(time.time())})
        m = re.fullmatch(REPO + r"(?P<rest>/.*)?", path)
        if not m:
            raise HTTPError(404, "Not Found")
        repo, rest = f"{m['o']}/{m['r']}", m["rest"] or ""
        if repo != d.cfg.ci_repo:
            raise HTTPError(404, "Not Found")
        if rest == "" and method == "GET":
            builds = d.store.list(repo)
            return self._send(200, {"id": 1, "namespace": m["o"], "name": m["r"], "slug": repo, "scm": "",
                                    "default_branch": "main", "active": True, "trusted": True,
                                    "counter": builds[0]["number"] if builds else 0})
        if rest == "/builds":
            if method == "GET":
                # handler/api/repos/builds/list.go: per_page outside 1..100 is 25; page 0 or 1 is the first
                page, per_page = _int(query.get("page"), 1), _int(query.get("per_page"), 25)
                per_page = per_page if 1 <= per_page <= 100 else 25
                offset = (page - 1) * per_page if page > 1 else 0
                return self._send(200, d.store.list(repo)[offset:offset + per_page])
            if method == "POST":
                return self._send(200, d.create(repo, query))
        bm = re.fullmatch(r"/builds/(?P<n>\d+)(?P<logs>/logs/(?P<stage>\d+)/(?P<step>\d+))?", rest)
        if bm:
            number = int(bm["n"])
            build = d.store.get(repo, number)
            if build is None:
                raise HTTPError(404, "Not Found")
            if bm["logs"] and method == "GET":
                stage = next((s for s in build["stages"] if s["number"] == int(bm["stage"])), None)
                step = next((s for s in (stage or {}).get("steps", []) if s["number"] == int(bm["step"])), None)
                if step is None:
                    raise HTTPError(404, "Not Found")
                return self._send(200, d.store.logs(repo, number, int(bm["stage"]), int(bm["step"])) or [])
            if not bm["logs"]:
                if method == "GET":
                    return self._send(200, build)
                if method == "POST":
                    return self._send(200, d.create(repo, query, parent=build))
                if method == "DELETE":
                    return self._send(200, d.cancel(repo, number))
        if rest.startswith("/builds"):
            raise HTTPError(405, "Method Not Allowed")
        raise HTTPError(404, "Not Found")


def _cancel_queued(b: dict) -> None:
    now = int(time.time())
    b.update(status="killed", finished=now, started=b.get("started") or now)
    for stage in b.get("stages", []):
        stage.update(status="skipped", started=stage.get("started") or now, stopped=now)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default
