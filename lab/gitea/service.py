# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Gitea as a service: one ThreadingHTTPServer on 127.0.0.1 serving API v1, git smart
HTTP and a few tiny HTML pages (so ``html_url`` links resolve)."""
from __future__ import annotations

import base64
import html
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lab import faults as lab_faults
from lab import mutants
from lab.config import LabConfig

from . import smart_http
from .api import GiteaApi, Request, Response
from .recorder import Recorder
from .store import Store

log = logging.getLogger("lab.gitea")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class GiteaService:
    def __init__(self, cfg: LabConfig, port: int = 0) -> None:
        self.cfg = cfg
        self.port = port
        self.state = Path(cfg.state_dir)
        self.git_root = self.state / "git"
        self.store = Store(self.state / "gitea.json")
        self.url = ""
        self.api = GiteaApi(self.store, self.git_root, lambda: self.url,
                            refuse_close=lambda full: cfg.has("cleanup-skips-cc-ci-pr") and full == cfg.ci_repo,
                            fake_close=lambda full: cfg.has("gitea-close-not-done"),
                            max_response_items=cfg.max_response_items)
        # CCCI_LAB_RECORD=<file.jsonl>: every exchange is appended there (the contract test reads it).
        self.recorder = Recorder(os.environ.get("CCCI_LAB_RECORD") or None)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> str:
        """Serve what ``store`` and ``git_root`` hold (the daemon seeds them first: lab/seed.py)."""
        self.git_root.mkdir(parents=True, exist_ok=True)
        self._server = self._bind()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.cfg.gitea_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="lab-gitea", daemon=True)
        self._thread.start()
        log.info("gitea on %s", self.url)
        return self.url

    def _bind(self) -> _Server:
        handler = _make_handler(self)
        if self.port:
            try:  # the previous run's port keeps URLs (and clones' remotes) stable across restarts
                return _Server(("127.0.0.1", self.port), handler)
            except OSError:
                log.info("port %s busy, taking a fresh one", self.port)
        return _Server(("127.0.0.1", 0), handler)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.store.save()

    # -- auth -----------------------------------------------------------------------------------
    def authenticate(self, headers: Any, query: dict[str, list[str]]) -> tuple[bool, dict[str, Any] | None]:
        """(ok, user): ok False when credentials were given but are wrong; user None = anonymous."""
        auth = headers.get("Authorization", "") or ""
        token = ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer"):
            token = value.strip()
        elif scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            # "user:token", or the token as the user name (Gitea accepts both)
            user = self.store.user_by_token(secret)
            if user is not None and login and user["login"].lower() != login.lower():
                user = None
            user = user or self.store.user_by_token(login)
            return (user is not None), user
        elif auth:
            return False, None
        token = token or (query.get("token") or query.get("access_token") or [""])[0]
        if not token:
            return True, None
        user = self.store.user_by_token(token)
        return (user is not None), user


def path_of(raw: str) -> str:
    return unquote(urlsplit(raw).path)


def _make_handler(svc: GiteaService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Gitea-lab"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), fmt % args)

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | dict[str, str]) -> None:
            self.send_response(status)
            items = headers.items() if isinstance(headers, dict) else headers
            for k, v in items:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            body = self._body()
            if path.startswith("/api/v1/") or path == "/api/v1":
                self._api(path[len("/api/v1"):] or "/", parts.query, query, body)
                return
            m = smart_http.match(path)
            if m:
                self._git(m, parts.query, body)
                return
            self._web(path)

        def _api(self, sub: str, raw_query: str, query: dict[str, list[str]], body: bytes) -> None:
            url = f"{svc.url}{self.path}"
            ok, user = svc.authenticate(self.headers, query)
            if not ok:
                resp = Response(401, {"message": "user does not exist", "url": url})
            else:
                resp = svc.api.dispatch(Request(self.command, sub, query, body, user, url))
                # A mutant that carries its own lie (lab/mutants: Rewrite) rewrites the routes it names.
                resp = Response(*mutants.answer("gitea", lab_faults.active(configured=svc.cfg.faults), self.command,
                                                sub, url, (resp.status, resp.body, resp.headers)))
            svc.recorder.api(self.command, path_of(self.path), query, self.headers, body, resp, user)
            headers = {**resp.headers}
            if isinstance(resp.body, bytes):
                payload = resp.body
                headers.setdefault("Content-Type", "application/octet-stream")
            elif resp.body is None or resp.status == 204:
                payload = b""
            else:
                payload = json.dumps(resp.body).encode()
                headers.setdefault("Content-Type", "application/json;charset=utf-8")
            self._send(resp.status, payload, headers)

        def _git(self, m: Any, raw_query: str, body: bytes) -> None:
            rec = svc.store.repo(f"{m['owner']}/{m['repo']}")
            if rec is None:
                self._send(404, b"Repository not found\n", {"Content-Type": "text/plain"})
                return
            ok, user = svc.authenticate(self.headers, {})
            remote_user = ""
            if smart_http.is_push(m["rest"], raw_query):
                if not ok or user is None:
                    self._send(401, b"Unauthorized\n", {"WWW-Authenticate": 'Basic realm="Gitea"',
                                                        "Content-Type": "text/plain"})
                    return
                if not svc.store.is_member(rec["owner"], user["login"]):
                    self._send(403, b"User permission denied for writing.\n", {"Content-Type": "text/plain"})
                    return
                remote_user = user["login"]
            elif not ok:
                self._send(401, b"Unauthorized\n", {"WWW-Authenticate": 'Basic realm="Gitea"'})
                return
            res = smart_http.run_backend(
                svc.git_root, rec["owner"], rec["name"], m["rest"], self.command, raw_query,
                self.headers.get("Content-Type", ""), self.headers.get("Content-Encoding", ""),
                body, remote_user, self.headers.get("Git-Protocol", ""))
            svc.recorder.other("git", self.command, path_of(self.path), res.status)
            self._send(res.status, res.body, res.headers)

        def _web(self, path: str) -> None:
            title = "Gitea (lab)" if path in ("", "/") else f"{path.strip('/')} - Gitea (lab)"
            page = (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
                    f"<body><h1>{html.escape(title)}</h1><p>cc-ci lab Gitea. API at "
                    f"<a href=\"/api/v1/version\">/api/v1</a>.</p></body></html>").encode()
            parts = [p for p in path.split("/") if p]
            known = not parts or (len(parts) >= 2 and svc.store.repo(f"{parts[0]}/{parts[1]}") is not None) \
                or (len(parts) == 1 and (svc.store.user(parts[0]) or svc.store.org(parts[0])))
            svc.recorder.other("web", self.command, path, 200 if known else 404)
            self._send(200 if known else 404, page, {"Content-Type": "text/html; charset=utf-8"})

        def _safe(self) -> None:
            try:
                self._handle()
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception as exc:  # a bug must show up as a 500 with the reason, not a hang
                log.exception("gitea handler failed")
                try:
                    self._send(500, json.dumps({"message": f"lab gitea: {exc}", "url": self.path}).encode(),
                               {"Content-Type": "application/json"})
                except OSError:
                    pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _safe

    return Handler
