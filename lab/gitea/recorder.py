# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Records the lab Gitea's exchanges as JSON lines, for the contract test against Gitea's swagger.

Switched on by env ``CCCI_LAB_RECORD=<file.jsonl>`` when the lab daemon starts. One line per
exchange: who asked (login and User-Agent, never a token), method, path, query, the request's JSON
body, the status, the headers a client reads (Link, X-Total-Count, Location, Content-Type) and the
response's JSON body. Git smart HTTP and the small web pages are lab plumbing outside API v1: they
are recorded as ``kind`` git/web with their status only.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

HEADERS = ("Link", "X-Total-Count", "Location", "Content-Type")


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"_not_json": len(raw)}


class Recorder:
    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def api(self, method: str, path: str, query: dict[str, list[str]], req_headers: Any, body: bytes,
            resp: Any, user: dict[str, Any] | None) -> None:
        if self.path is None:
            return
        headers = {k: v for k, v in resp.headers.items() if k in HEADERS}
        if isinstance(resp.body, bytes):
            headers.setdefault("Content-Type", "application/octet-stream")
            resp_body: Any = {"_bytes": len(resp.body)}
        else:
            resp_body = None if resp.status == 204 else resp.body
        self._write({
            "kind": "api", "method": method, "path": path, "query": query, "status": resp.status,
            "login": (user or {}).get("login"), "agent": req_headers.get("User-Agent", ""),
            "request_type": req_headers.get("Content-Type", ""), "request": _json_or_none(body),
            "headers": headers, "response": resp_body,
        })

    def other(self, kind: str, method: str, path: str, status: int) -> None:
        self._write({"kind": kind, "method": method, "path": path, "status": status})
