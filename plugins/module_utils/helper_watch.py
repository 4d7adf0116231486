# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When a testme helper's wait has nothing left to wait for.

The helper polls the PR head's ``cc-ci/testme`` status until a final one or ``MAX_WAIT``. The bridge
posts that status once the build ends, within its grace (two polls plus its slack). So once the
build the helper waits on has been seen ended for the grace and the helper still polls, the status
is not coming: waiting out ``MAX_WAIT`` would only repeat what is already known. Runs on the box
(standard library and Ansible's module_utils only), reading Drone's build list.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ansible.module_utils.urls import open_url

__all__ = ["BuildWatch", "drone_builds"]

# Drone's terminal build states (FACTS.md section 3; module_utils/drone.py holds the same set).
TERMINAL = frozenset(("success", "failure", "killed", "error", "skipped", "declined"))


def drone_builds(url: str, token: str, ci_repo: str, timeout: float = 10.0) -> Callable[[], list[dict[str, Any]]]:
    """A reader of the newest page of builds of ``ci_repo`` (a failed read gives no builds: it never stops a wait)."""
    endpoint = f"{url.rstrip('/')}/api/repos/{ci_repo}/builds?per_page=25"

    def fetch() -> list[dict[str, Any]]:
        try:
            with open_url(endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except Exception:  # noqa: BLE001 (network fault, bad JSON: no evidence, keep waiting)
            return []
        return data if isinstance(data, list) else []

    return fetch


class BuildWatch:
    """Watches the build a helper run waits on: with ``post`` the build its own ``!testme`` started
    (newer than every build at the start), else also any build of the head ``sha``. ``look()`` gives
    a reason once the newest such build has been seen ended for ``grace`` seconds."""

    def __init__(self, fetch: Callable[[], list[dict[str, Any]]], *, repo: str, pr: int, post: bool,
                 grace: float, sha: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch, self.repo, self.pr, self.post, self.sha = fetch, repo, str(pr), post, sha
        self.grace, self.clock = grace, clock
        self.floor = max((b.get("number") or 0 for b in fetch()), default=0)
        self.ended_at: dict[int, float] = {}

    def _ours(self, build: dict[str, Any]) -> bool:
        params = build.get("params") or {}
        if str(params.get("PR")) != self.pr or params.get("REPO") != self.repo:
            return False
        if (build.get("number") or 0) > self.floor:
            return True
        return not self.post and bool(self.sha) and params.get("REF") == self.sha

    def look(self) -> str | None:
        ours = [b for b in self.fetch() if self._ours(b)]
        if not ours:
            return None
        build = max(ours, key=lambda b: b.get("number") or 0)
        if build.get("status") not in TERMINAL:
            return None
        number = build.get("number") or 0
        since = self.clock() - self.ended_at.setdefault(number, self.clock())
        if since < self.grace:
            return None
        return (f"Drone build #{number} ended {build.get('status')} and {since:.0f} s later (the bridge's grace: "
                f"two polls and its slack, {self.grace:g} s) the helper was still waiting for its result: stopped")
