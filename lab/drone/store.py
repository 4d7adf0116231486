# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drone's builds and step logs, persisted to ``DIR/drone.json`` (reloaded on start).

One lock guards everything; readers get deep copies so the HTTP threads never see a build while
a worker thread is halfway through changing it.
"""
from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Build = dict[str, Any]
TERMINAL = frozenset({"success", "failure", "killed", "error", "skipped", "declined"})


def _key(repo: str, number: int, stage: int, step: int) -> str:
    return f"{repo}#{number}#{stage}#{step}"


class BuildStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._data: dict[str, Any] = {"seq": 0, "repos": {}, "logs": {}}
        if path.exists():
            self._data.update(json.loads(path.read_text()))

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self._data))
        os.replace(tmp, self.path)

    def meta(self, key: str) -> Any:
        with self._lock:
            return self._data.get("meta", {}).get(key)

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._data.setdefault("meta", {})[key] = value
            self._save()

    def _builds(self, repo: str) -> list[Build]:
        return self._data["repos"].setdefault(repo, [])

    def create(self, repo: str, fields: Build, status: str = "pending") -> Build:
        """A new build and its one stage, both ``status`` (Drone creates stages at trigger; steps come
        when a runner takes the stage)."""
        with self._lock:
            builds = self._builds(repo)
            self._data["seq"] += 1
            now = int(time.time())
            build = {**fields, "id": self._data["seq"], "number": (builds[-1]["number"] if builds else 0) + 1,
                     "status": status, "created": now, "updated": now, "started": 0, "finished": 0}
            build["stages"] = [{
                "id": build["id"], "repo_id": fields.get("repo_id", 1), "build_id": build["id"], "number": 1,
                "name": "harness", "kind": "pipeline", "type": "docker", "status": status, "errignore": False,
                "exit_code": 0, "machine": "", "os": "linux", "arch": "amd64", "started": 0, "stopped": 0,
                "created": now, "updated": now, "version": 1, "on_success": True, "on_failure": False,
                "depends_on": [], "labels": {},
            }]
            builds.append(build)
            self._save()
            return copy.deepcopy(build)

    def get(self, repo: str, number: int) -> Build | None:
        with self._lock:
            for build in self._builds(repo):
                if build["number"] == number:
                    return copy.deepcopy(build)
            return None

    def list(self, repo: str) -> list[Build]:
        """Newest first, without stages (Drone's list shape)."""
        with self._lock:
            return [{k: copy.deepcopy(v) for k, v in b.items() if k != "stages"} for b in reversed(self._builds(repo))]

    def unfinished(self) -> list[tuple[str, Build]]:
        with self._lock:
            return [(repo, copy.deepcopy(b)) for repo, bs in self._data["repos"].items()
                    for b in bs if b["status"] not in TERMINAL]

    def update(self, repo: str, number: int, change: Callable[[Build], None]) -> Build:
        """Apply ``change`` to the stored build under the lock, stamp ``updated``, persist."""
        with self._lock:
            build = next(b for b in self._builds(repo) if b["number"] == number)
            change(build)
            build["updated"] = int(time.time())
            self._save()
            return copy.deepcopy(build)

    def log(self, repo: str, number: int, stage: int, step: int, out: str, since: float) -> None:
        with self._lock:
            lines = self._data["logs"].setdefault(_key(repo, number, stage, step), [])
            lines.append({"pos": len(lines), "out": out if out.endswith("\n") else out + "\n",
                          "time": int(time.time() - since)})
            self._save()

    def logs(self, repo: str, number: int, stage: int, step: int) -> list[dict[str, Any]] | None:
        with self._lock:
            lines = self._data["logs"].get(_key(repo, number, stage, step))
            return copy.deepcopy(lines) if lines is not None else None
