# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The upstream maintainer: a person who lands a change upstream the way people do on Gitea,
through a PR merged with Gitea's own merge route (``POST .../pulls/{n}/merge``).

The collection never merges. Seeding a check that needs "a change merged upstream" (V7) asks this
lab user to do it: ``python -m lab.gitea merge-upstream --state DIR --repo O/R --branch B
--title T --file PATH TEXT ...``. It talks HTTP to the running lab Gitea with its own token (kept
in gitea.json, never handed to the collection), so the exchange is the real route, recorded like
any other. Prints the merged PR as JSON.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from lab.config import LabConfig
from lab.seed import MAINTAINER


class Maintainer:
    def __init__(self, cfg: LabConfig) -> None:
        db = json.loads((Path(cfg.state_dir) / "gitea.json").read_text())
        token = db["users"][MAINTAINER]["token"]
        self.http = httpx.Client(base_url=f"{cfg.gitea_url}/api/v1", timeout=30,
                                 headers={"Authorization": f"token {token}",
                                          "User-Agent": "lab-upstream-maintainer"})

    def _ok(self, resp: httpx.Response, *codes: int) -> Any:
        if resp.status_code not in codes:
            raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.json() if resp.content else None

    def merge_change(self, repo: str, branch: str, title: str, files: dict[str, str], body: str = "") -> dict[str, Any]:
        """Branch from the default branch, commit ``files``, open a PR, merge it, delete the branch."""
        default = self._ok(self.http.get(f"/repos/{repo}"), 200)["default_branch"]
        self._ok(self.http.post(f"/repos/{repo}/branches", json={"new_branch_name": branch, "old_ref_name": default}), 201)
        for path, text in files.items():
            cur = self.http.get(f"/repos/{repo}/contents/{path}", params={"ref": branch})
            change = {"content": base64.b64encode(text.encode()).decode(), "branch": branch,
                      "message": f"{title}: {path}"}
            if cur.status_code == 200:
                change["sha"] = cur.json()["sha"]
            self._ok(self.http.put(f"/repos/{repo}/contents/{path}", json=change), 200, 201)
        pr = self._ok(self.http.post(f"/repos/{repo}/pulls", json={"head": branch, "base": default, "title": title,
                                                                   "body": body}), 201)
        self._ok(self.http.post(f"/repos/{repo}/pulls/{pr['number']}/merge",
                                json={"do": "merge", "delete_branch_after_merge": True}), 200)
        return self._ok(self.http.get(f"/repos/{repo}/pulls/{pr['number']}"), 200)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.gitea", description="Lab Gitea people.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("merge-upstream", help="the upstream maintainer merges a change through a PR")
    p.add_argument("--state", required=True, help="the lab's state dir")
    p.add_argument("--repo", required=True, help="owner/name")
    p.add_argument("--branch", required=True, help="the maintainer's branch for the change")
    p.add_argument("--title", required=True)
    p.add_argument("--body", default="")
    p.add_argument("--file", nargs=2, action="append", metavar=("PATH", "TEXT"), required=True)
    args = parser.parse_args(argv)
    try:
        pr = Maintainer(LabConfig.load(args.state)).merge_change(args.repo, args.branch, args.title,
                                                                 dict(args.file), args.body)
    except (OSError, KeyError, ValueError, RuntimeError, httpx.HTTPError) as exc:
        print(f"merge-upstream: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({k: pr[k] for k in ("number", "html_url", "merged", "merge_commit_sha", "state")}))
    return 0
