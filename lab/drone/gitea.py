# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Drone and its harness read from Gitea, over HTTP only (FACTS §2 contents/branches)."""
from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx


class GiteaError(Exception):
    pass


class GiteaReader:
    def __init__(self, url: str, token: str, timeout: float = 15.0) -> None:
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        url = self.base + path
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        resp = httpx.get(url, params=params, timeout=self.timeout, headers=headers)
        if resp.status_code == 401 and self.token:
            # Gitea does not know Drone's token: the recipes and cc-ci are public, read them anonymously
            self.token = ""
            resp = httpx.get(url, params=params, timeout=self.timeout)
        return resp

    def _json(self, path: str, params: dict[str, str] | None = None, missing_ok: bool = False):
        resp = self._get(path, params)
        if resp.status_code == 404 and missing_ok:
            return None
        if resp.status_code != 200:
            try:
                msg = resp.json().get("message", resp.text)
            except ValueError:
                msg = resp.text
            raise GiteaError(f"GET {resp.request.url}: HTTP {resp.status_code}: {msg}")
        return resp.json()

    def branch_head(self, repo: str, branch: str) -> dict | None:
        """``{"id", "message"}`` of the branch head, None when the branch does not exist."""
        data = self._json(f"/repos/{repo}/branches/{quote(branch, safe='')}", missing_ok=True)
        return data["commit"] if data else None

    def _contents(self, repo: str, path: str, ref: str | None):
        url = f"/repos/{repo}/contents" + (f"/{quote(path)}" if path else "")
        return self._json(url, {"ref": ref} if ref else None, missing_ok=True)

    def listdir(self, repo: str, path: str, ref: str | None) -> list[dict] | None:
        """Entries of a directory at ``ref`` (None when it does not exist)."""
        data = self._contents(repo, path, ref)
        if data is None:
            return None
        if isinstance(data, dict):  # a file, not a directory
            return None
        return data

    def read(self, repo: str, path: str, ref: str | None) -> bytes | None:
        data = self._contents(repo, path, ref)
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data.get("content") or "")

    def tree(self, repo: str, ref: str | None) -> dict[str, bytes]:
        """Every file of ``repo`` at ``ref`` (the harness's clone), files fetched side by side."""
        paths: list[str] = []
        dirs = [""]
        while dirs:
            path = dirs.pop()
            entries = self.listdir(repo, path, ref)
            if entries is None:
                raise GiteaError(f"{repo}: no tree at {path or '/'} for ref {ref}")
            for entry in entries:
                if entry.get("type") == "dir":
                    dirs.append(entry["path"])
                elif entry.get("type") == "file":
                    paths.append(entry["path"])
        with ThreadPoolExecutor(max_workers=8) as pool:
            data = dict(zip(paths, pool.map(lambda p: self.read(repo, p, ref), paths)))
        return {p: d for p, d in data.items() if d is not None}
