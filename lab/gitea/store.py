# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Gitea's database: users, orgs, repos, PRs, comments, statuses and ids.

Held in memory under one lock and written to ``<state>/gitea.json`` (temp + rename) after every
mutation, so a restarted lab serves the same PRs, comments and statuses. Content (commits,
branches, files) is not here: it lives in the bare git repos.
"""
from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def empty_db() -> dict[str, Any]:
    return {
        "seeded": False,
        "seq": {"user": 0, "repo": 0, "issue": 0, "comment": 0, "status": 0},
        "users": {},      # login -> {id, login, email, full_name, token, created}
        "orgs": {},       # name -> {id, name, full_name, description, members: [login]}
        "repos": {},      # "o/r" -> {id, owner, name, description, default_branch, created, updated, next_index}
        "pulls": {},      # "o/r" -> {str(index): pr record}
        "comments": {},   # str(id) -> comment record (with repo, issue)
        "statuses": {},   # "o/r" -> [status record]
        "merges": [],     # every merge through the API: {repo, number, user, sha, at}
    }


class Store:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.db = json.loads(self.path.read_text()) if self.path.exists() else empty_db()
        for key, value in empty_db().items():
            self.db.setdefault(key, value)

    @contextmanager
    def write(self) -> Iterator[dict[str, Any]]:
        """Mutate the db under the lock; persisted when the block ends without an exception."""
        with self.lock:
            yield self.db
            self.save()

    def save(self) -> None:
        with self.lock:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.db, indent=1, sort_keys=True))
            os.chmod(tmp, 0o600)
            tmp.replace(self.path)

    def next_id(self, kind: str) -> int:
        with self.lock:
            self.db["seq"][kind] = self.db["seq"].get(kind, 0) + 1
            return self.db["seq"][kind]

    # -- lookups (callers hold no lock: single dict reads are atomic enough for the lab) -------
    def user_by_token(self, token: str) -> dict[str, Any] | None:
        for user in self.db["users"].values():
            if token and user.get("token") == token:
                return user
        return None

    def user(self, login: str) -> dict[str, Any] | None:
        for name, user in self.db["users"].items():
            if name.lower() == (login or "").lower():
                return user
        return None

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        for user in self.db["users"].values():
            if email and user.get("email", "").lower() == email.lower():
                return user
        return None

    def org(self, name: str) -> dict[str, Any] | None:
        for key, org in self.db["orgs"].items():
            if key.lower() == (name or "").lower():
                return org
        return None

    def is_member(self, org: str, login: str) -> bool:
        rec = self.org(org)
        return bool(rec) and (login or "").lower() in [m.lower() for m in rec["members"]]

    def repo(self, full: str) -> dict[str, Any] | None:
        for key, repo in self.db["repos"].items():
            if key.lower() == full.lower():
                return repo
        return None
