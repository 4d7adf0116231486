# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small JSON-over-HTTP client (urllib) for Gitea, Drone and the registry."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ApiError(Exception):
    def __init__(self, method: str, url: str, code: int, message: str) -> None:
        super().__init__(f"{method} {url}: HTTP {code}: {message}")
        self.code = code


class Api:
    def __init__(self, base: str, auth: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.auth = auth

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 204),
             params: dict[str, Any] | None = None, raw: bool = False) -> tuple[Any, int]:
        url = path if path.startswith("http") else self.base + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        data = None
        headers = {"Accept": "application/json"}
        if self.auth:
            headers["Authorization"] = self.auth
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                code, payload = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            code, payload = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise ApiError(method, url, 0, str(getattr(err, "reason", err))) from None
        if code not in ok:
            try:
                message = json.loads(payload).get("message") or payload.decode(errors="replace")[:200]
            except (ValueError, AttributeError):
                message = payload.decode(errors="replace")[:200]
            raise ApiError(method, url, code, message)
        if raw:
            return payload, code
        if not payload:
            return None, code
        try:
            return json.loads(payload), code
        except ValueError:
            return payload.decode(errors="replace"), code

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)[0]


class Gitea(Api):
    def __init__(self, url: str, token: str) -> None:
        super().__init__(url.rstrip("/") + "/api/v1", f"token {token}" if token else None)
        self.web = url.rstrip("/")

    def pulls(self, repo: str, state: str = "open") -> list[dict]:
        out, page = [], 1
        while True:
            batch = self.get(f"/repos/{repo}/pulls", params={"state": state, "page": page, "limit": 50}) or []
            out.extend(batch)
            if len(batch) < 50:
                return out
            page += 1

    def branch_sha(self, repo: str, branch: str) -> str | None:
        data, code = self.call("GET", f"/repos/{repo}/branches/{urllib.parse.quote(branch, safe='')}", ok=(200, 404))
        return data["commit"]["id"] if code == 200 else None

    def raw(self, repo: str, path: str, sha: str) -> str | None:
        """File content at a full commit SHA (a short or unknown ref would fall back to main)."""
        data, code = self.call("GET", f"/repos/{repo}/raw/{urllib.parse.quote(path)}", params={"ref": sha},
                               ok=(200, 404), raw=True)
        return data.decode() if code == 200 else None

    def comment(self, repo: str, number: int, body: str) -> dict:
        return self.call("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})[0]

    def close(self, repo: str, number: int) -> None:
        self.call("PATCH", f"/repos/{repo}/pulls/{number}", {"state": "closed"})
