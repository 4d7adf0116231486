# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drone API client (FACTS.md section 3) and a build waiter that answers soon after a build ends.

The waiter spends requests where the answer is likely: from the build's ``started`` time and the
durations of recent finished builds it sleeps until shortly before the expected end, then polls
about once a second. A token bucket (one request per ``base_interval`` seconds, a burst of
``burst``) keeps its long-run request rate at or below a fixed ``base_interval`` poller's, so the
1 s polling near the end is paid for by the long sleep before it.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiClient
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import split_repo

TERMINAL = frozenset(("success", "failure", "killed", "error", "skipped", "declined"))
RED_STATES = frozenset(("failure", "killed", "error", "skipped", "declined"))


def is_terminal(status: str | None) -> bool:
    return (status or "") in TERMINAL


def verdict_of(status: str | None) -> str:
    """GREEN for success, RED for any other terminal status, PENDING while not terminal."""
    if status == "success":
        return "GREEN"
    if status in RED_STATES:
        return "RED"
    return "PENDING"


def build_seconds(build: dict[str, Any]) -> float | None:
    started, finished = build.get("started") or 0, build.get("finished") or 0
    if started and finished and finished >= started:
        return float(finished - started)
    return None


def params_match(build: dict[str, Any], want: dict[str, Any]) -> bool:
    """True when every wanted param (compared as strings, None = don't care) equals the build's."""
    params = build.get("params") or {}
    for key, value in want.items():
        if value is None:
            continue
        if str(params.get(key, "")) != str(value):
            return False
    return True


class DroneClient(ApiClient):
    def __init__(self, url: str, token: str | None = None, *, token_name: str = "ccci_drone_token",
                 **kw: Any) -> None:
        base = url.rstrip("/")
        if base.endswith("/api"):
            base = base[: -len("/api")]
        super().__init__(base, token, auth_scheme="Bearer", token_name=token_name, **kw)
        self.server = base

    def _repo_path(self, repo: str) -> str:
        o, r = split_repo(repo)
        return f"/api/repos/{quote(o, safe='')}/{quote(r, safe='')}"

    def build_url(self, repo: str, number: int | str) -> str:
        return f"{self.server}/{repo}/{number}"

    def list_builds(self, repo: str, page: int = 1, per_page: int = 25) -> list[dict[str, Any]]:
        per_page = max(1, min(int(per_page), 100))
        data, dummy = self.get(f"{self._repo_path(repo)}/builds", params={"page": page, "per_page": per_page},
                               not_found=f"no Drone repo {repo}: check ccci_ci_repo and that it is activated")
        return list(data or [])

    def get_build(self, repo: str, number: int) -> dict[str, Any]:
        data, dummy = self.get(f"{self._repo_path(repo)}/builds/{int(number)}",
                               not_found=f"no build #{number} in Drone repo {repo}")
        return data

    def trigger_build(self, repo: str, params: dict[str, Any] | None = None, branch: str | None = None,
                      commit: str | None = None) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if branch:
            query["branch"] = branch
        if commit:
            query["commit"] = commit
        for key, value in (params or {}).items():
            query[key] = value
        data, dummy = self.post(f"{self._repo_path(repo)}/builds", params=query, accept=(200, 201),
                                not_found=f"no Drone repo {repo}")
        return data

    def step_logs(self, repo: str, number: int, stage: int, step: int) -> list[dict[str, Any]]:
        data, status = self.get(f"{self._repo_path(repo)}/builds/{int(number)}/logs/{int(stage)}/{int(step)}",
                                accept=(200, 404))
        return list(data or []) if status == 200 else []

    def find_builds(self, repo: str, params: dict[str, Any], after_number: int = 0,
                    per_page: int = 25) -> list[dict[str, Any]]:
        """Recent builds (first page, newest first) whose params match and number > after_number."""
        return [b for b in self.list_builds(repo, 1, per_page)
                if (b.get("number") or 0) > after_number and params_match(b, params)]

    def expected_seconds(self, repo: str, builds: list[dict[str, Any]] | None = None,
                         params: dict[str, Any] | None = None) -> float | None:
        """Median duration of recent finished successful-or-failed builds (same params if any)."""
        if builds is None:
            builds = self.list_builds(repo, 1, 25)
        finished = [b for b in builds if is_terminal(b.get("status")) and build_seconds(b)]
        if params:
            same = [b for b in finished if params_match(b, params)]
            finished = same or finished
        durations = [build_seconds(b) for b in finished[:10]]
        durations = [d for d in durations if d]
        return statistics.median(durations) if durations else None


class TokenBucket:
    """At most one request per ``interval`` seconds in the long run, bursts of ``burst``."""

    def __init__(self, interval: float, burst: int, clock: Callable[[], float], start_full: bool = False):
        self.interval = max(0.001, interval)
        self.burst = max(1, burst)
        self.clock = clock
        self.tokens = float(self.burst if start_full else 1)
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) / self.interval)
        self.stamp = now

    def wait_time(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.interval

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


class BuildWaiter:
    """Poll a build until it is terminal or ``deadline`` (clock time) passes.

    ``fetch()`` returns the build dict. ``expected`` is the expected run time in seconds (None when
    unknown). ``near`` is how long before the expected end fast polling starts.
    """

    def __init__(self, fetch: Callable[[], dict[str, Any]], *, deadline: float,
                 expected: float | None = None, base_interval: float = 5.0, fast_interval: float = 1.0,
                 burst: int = 12, near: float | None = None,
                 progress: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None) -> None:
        clock = clock or time.time
        self.fetch = fetch
        self.deadline = deadline
        self.expected = expected
        self.base_interval = base_interval
        self.fast_interval = fast_interval
        self.near = near
        self.progress = progress
        self.clock = clock
        self.sleep = sleep or time.sleep
        self.bucket = TokenBucket(base_interval, burst, clock)
        self.polls = 0

    def _desired_gap(self, build: dict[str, Any], now: float) -> float:
        """Seconds to wait before the next poll, before the rate limit."""
        started = build.get("started") or 0
        if not started or not self.expected:
            # queued, or no history: modest polling; the bucket holds the long-run rate
            return max(self.fast_interval, min(2.0, self.base_interval))
        margin = self.near if self.near is not None else max(2.0, 0.1 * self.expected)
        expected_end = started + self.expected
        if now < expected_end - margin:
            return expected_end - margin - now
        return self.fast_interval

    def wait(self) -> tuple[dict[str, Any], bool]:
        """``(last build seen, finished)``."""
        build: dict[str, Any] = {}
        while True:
            gap = self.bucket.wait_time()
            if gap > 0:
                # the rate limit: never later than the deadline, where one last look is taken
                self.sleep(min(gap, max(0.0, self.deadline - self.clock())))
            self.bucket.take()
            build = self.fetch()
            self.polls += 1
            now = self.clock()
            done = is_terminal(build.get("status"))
            if self.progress:
                self.progress(build, {"polls": self.polls, "now": now, "expected": self.expected,
                                      "done": done})
            if done:
                return build, True
            if now >= self.deadline:
                return build, False
            gap = min(self._desired_gap(build, now), self.deadline - now)
            if gap > 0:
                self.sleep(gap)


def wait_for_build(client: DroneClient, repo: str, number: int, timeout: float, *,
                   expected: float | None = None, progress: Callable[..., None] | None = None,
                   base_interval: float = 5.0, clock: Callable[[], float] | None = None,
                   sleep: Callable[[float], None] | None = None) -> tuple[dict[str, Any], bool, int]:
    """Wait for build ``number`` of ``repo``; ``(build, finished, polls)``."""
    clock = clock or time.time
    if expected is None:
        try:
            expected = client.expected_seconds(repo)
        except Exception:  # history is an optimisation only
            expected = None
    waiter = BuildWaiter(lambda: client.get_build(repo, number), deadline=clock() + timeout,
                         expected=expected, base_interval=base_interval, progress=progress,
                         clock=clock, sleep=sleep)
    build, finished = waiter.wait()
    return build, finished, waiter.polls


def drone_argument_spec() -> dict[str, Any]:
    from ansible.module_utils.basic import env_fallback

    return dict(
        drone_url=dict(type="str", required=True, fallback=(env_fallback, ["CCCI_DRONE_URL"])),
        drone_token=dict(type="str", required=True, no_log=True,
                         fallback=(env_fallback, ["CCCI_DRONE_TOKEN"])),
    )


def drone_from_module(module: Any, **kw: Any) -> DroneClient:
    p = module.params
    return DroneClient(p["drone_url"], p["drone_token"], timeout=p.get("timeout") or 30.0,
                       validate_certs=p.get("validate_certs", True), **kw)
