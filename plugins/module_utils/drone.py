# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drone API client (FACTS.md section 3) and a build waiter that answers soon after a build ends.

The waiter spends requests where the answer is likely: from the build's ``started`` time and the
durations of recent finished builds it sleeps until shortly before the expected end, then polls
about once a second. A token bucket (one request per ``base_interval`` seconds, a burst of
``burst``) keeps its long-run request rate at or below a fixed ``base_interval`` poller's, so the
1 s polling near the end is paid for by the long sleep before it.

A box usually has one Drone runner, so a build may wait ``pending`` behind others: queued is
waiting, not running. The run timeout counts from the build's ``started``; the queue has its own
bound; a build held by Drone (``blocked``: needs approval; ``declined``) ends the wait at once,
``waiting_on_dependencies`` or a queue with nothing ahead (no runner takes the stage) after the
stall bound, each with a sentence naming the state.
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
RED_STATES = frozenset(("failure", "killed", "error", "skipped"))
# Drone states that are no run result: the verdict names them (upper case) instead of GREEN/RED
HELD = {
    "blocked": "its stage waits for approval in Drone (blocked)",
    "declined": "it was blocked for approval and declined in Drone",
    "waiting_on_dependencies": "its stage is waiting_on_dependencies in Drone (a stage it depends on never ran)",
}
FAILED_STEP = frozenset(("failure", "error"))


def is_terminal(status: str | None) -> bool:
    return (status or "") in TERMINAL


def verdict_of(status: str | None) -> str:
    """GREEN for success, RED for failure/killed/error/skipped, the state's name (BLOCKED, DECLINED,
    WAITING_ON_DEPENDENCIES) when Drone holds the build, PENDING while it is queued or running."""
    if status == "success":
        return "GREEN"
    if status in RED_STATES:
        return "RED"
    if status in HELD:
        return str(status).upper()
    return "PENDING"


def failed_steps(build: dict[str, Any]) -> list[str]:
    return [str(step.get("name")) for stage in build.get("stages") or [] for step in stage.get("steps") or []
            if step.get("status") in FAILED_STEP]


def build_lies(build: dict[str, Any]) -> list[str]:
    """Where Drone's record of a build contradicts itself (its status, its steps, its clock)."""
    if not build:
        return []
    number, status = build.get("number"), build.get("status")
    created, started, finished = (int(build.get(k) or 0) for k in ("created", "started", "finished"))
    lies = []
    if started and created and started < created:
        lies.append(f"Drone build #{number} started ({started}) before it was created ({created})")
    if status in TERMINAL and status != "declined" and started and finished and finished < started:
        lies.append(f"Drone build #{number} finished before it started (started {started}, finished {finished})")
    failed = failed_steps(build)
    if status == "success" and failed:
        lies.append(f"Drone reports build #{number} success but it has a failed step: {', '.join(failed)}")
    if status in TERMINAL:
        live = [str(step.get("name")) for stage in build.get("stages") or [] for step in stage.get("steps") or []
                if step.get("status") == "running"]
        if live:
            lies.append(f"Drone build #{number} ended {status} with step(s) still running: {', '.join(live)}")
    return lies


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

    def parse_build_url(self, url: str) -> tuple[str, int] | None:
        """``(repo, number)`` of a build page URL of this server, None for anything else."""
        prefix = self.server + "/"
        if not (url or "").startswith(prefix):
            return None
        parts = url[len(prefix):].split("?")[0].strip("/").split("/")
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        return f"{parts[0]}/{parts[1]}", int(parts[2])

    def find_build(self, repo: str, number: int) -> tuple[dict[str, Any] | None, int]:
        """``(build, HTTP status)``; the build is None when Drone does not know it (404)."""
        data, status = self.get(f"{self._repo_path(repo)}/builds/{int(number)}", accept=(200, 404))
        return (data if status == 200 else None), status

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


class WaitLimits:
    """How long a build may take: ``run`` seconds from its ``started``, ``queue`` seconds queued (pending,
    not started) behind other builds, ``stall`` seconds pending with no build ahead or
    ``waiting_on_dependencies``. The whole wait is bounded by ``queue + run``."""

    def __init__(self, run: float, queue: float | None = None, stall: float | None = None) -> None:
        self.run = float(run)
        self.queue = float(queue) if queue is not None else 3.0 * self.run
        self.stall = float(stall) if stall is not None else min(self.run, 120.0)


class BuildWaiter:
    """Poll a build until it is terminal, Drone holds it, or a limit passes.

    ``fetch()`` returns the build dict; ``ahead()`` (optional) the builds queued or running ahead of
    it (numbers, oldest first). ``expected`` is the expected run time in seconds (None when unknown).
    ``near`` is how long before the expected end fast polling starts. After ``wait()``, ``ended``
    says why it stopped (finished, blocked, declined, waiting_on_dependencies, stalled, queue_timeout,
    timeout) and ``queue`` what the build waited behind.
    """

    def __init__(self, fetch: Callable[[], dict[str, Any]], *, deadline: float | None = None,
                 limits: WaitLimits | None = None, ahead: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
                 expected: float | None = None, base_interval: float = 5.0, fast_interval: float = 1.0,
                 burst: int = 12, near: float | None = None,
                 progress: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None) -> None:
        clock = clock or time.time
        self.fetch = fetch
        self.ahead = ahead
        self.begin = clock()
        if limits is None:  # a plain deadline: the same bound for queue and run
            span = max(0.0, (deadline if deadline is not None else self.begin + 1800.0) - self.begin)
            limits = WaitLimits(span, span, span)
        self.limits = limits
        self.hard_deadline = deadline if deadline is not None else self.begin + limits.queue + limits.run
        self.expected = expected
        self.base_interval = base_interval
        self.fast_interval = fast_interval
        self.near = near
        self.progress = progress
        self.clock = clock
        self.sleep = sleep or time.sleep
        self.bucket = TokenBucket(base_interval, burst, clock)
        self.polls = 0
        self.ended = ""
        self.reason = ""
        self.queue: dict[str, Any] = {"seconds": 0.0, "behind": [], "note": ""}
        self._queued_since: float | None = None
        self._alone_since: float | None = None

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

    def _deadline(self, build: dict[str, Any], now: float) -> float:
        """When the wait must end, given what the build is doing now."""
        started = build.get("started") or 0
        if started and build.get("status") == "running":
            return min(self.hard_deadline, min(float(started), now) + self.limits.run)
        if self._alone_since is not None:
            return min(self.hard_deadline, self._alone_since + self.limits.stall)
        return min(self.hard_deadline, (self._queued_since or now) + self.limits.queue)

    def _queued(self, build: dict[str, Any], now: float) -> None:
        """Keep track of a pending build: what it waits behind, and since when nothing is ahead."""
        if self._queued_since is None:
            self._queued_since = now
        self.queue["seconds"] = round(now - self._queued_since, 1)
        ahead = None
        if build.get("status") == "pending" and self.ahead is not None:
            try:
                ahead = self.ahead(build)
            except Exception:  # the queue is evidence only: a failed look is no reason to stop
                ahead = None
        if ahead:
            numbers = [b.get("number") for b in ahead]
            running = [b.get("number") for b in ahead if b.get("status") == "running"]
            self.queue["behind"] = numbers
            self.queue["note"] = (f"queued behind build #{(running or numbers)[0]}"
                                  + (f" and {len(numbers) - 1} more" if len(numbers) > 1 else "")
                                  + f" for {self.queue['seconds']:.0f} s")
            self._alone_since = None
        elif ahead is not None or build.get("status") == "waiting_on_dependencies":
            if self._alone_since is None:
                self._alone_since = now

    def _end(self, build: dict[str, Any], now: float) -> str:
        """Why the wait ends now ("" = go on)."""
        status = build.get("status")
        number = build.get("number")
        if status in TERMINAL:
            if status == "declined":
                self.reason = f"build #{number} is declined: {HELD['declined']}"
                return "declined"
            return "finished"
        if status == "blocked":
            self.reason = f"build #{number} is blocked: {HELD['blocked']}"
            return "blocked"
        if now < self._deadline(build, now):
            return ""
        if status == "waiting_on_dependencies":
            self.reason = f"build #{number} still waiting_on_dependencies after {now - (self._alone_since or now):.0f} s: {HELD[status]}"
            return "waiting_on_dependencies"
        if status == "running":
            self.reason = (f"build #{number} still running {now - float(build.get('started') or now):.0f} s after it "
                           f"started (build timeout {self.limits.run:.0f} s)")
            return "timeout"
        if self._alone_since is not None and now - self._alone_since >= self.limits.stall - 1e-6:
            self.reason = (f"build #{number} pending for {now - (self._queued_since or now):.0f} s with no build ahead "
                           "of it: no runner takes its stage in Drone")
            return "stalled"
        self.reason = (f"build #{number} still queued after {now - (self._queued_since or now):.0f} s"
                       + (f", {self.queue['note']}" if self.queue["note"] else "")
                       + f" (queue bound {self.limits.queue:.0f} s)")
        return "queue_timeout"

    def wait(self) -> tuple[dict[str, Any], bool]:
        """``(last build seen, finished)``; ``ended``/``reason`` say why it stopped."""
        build: dict[str, Any] = {}
        while True:
            gap = self.bucket.wait_time()
            if gap > 0:
                # the rate limit: never later than the deadline, where one last look is taken
                self.sleep(min(gap, max(0.0, self._deadline(build, self.clock()) - self.clock())))
            self.bucket.take()
            build = self.fetch()
            self.polls += 1
            now = self.clock()
            if not (build.get("started") or 0) and build.get("status") not in TERMINAL:
                self._queued(build, now)
            elif self._queued_since is not None and not self.queue.get("done"):
                self.queue.update(seconds=round(now - self._queued_since, 1), done=True)
            self.ended = self._end(build, now)
            done = self.ended == "finished"
            if self.progress:
                self.progress(build, {"polls": self.polls, "now": now, "expected": self.expected,
                                      "done": done, "queue": dict(self.queue)})
            if self.ended:
                return build, done
            gap = min(self._desired_gap(build, now), self._deadline(build, now) - now)
            if gap > 0:
                self.sleep(gap)


def builds_ahead(client: "DroneClient", repo: str, build: dict[str, Any]) -> list[dict[str, Any]]:
    """The builds of ``repo`` queued or running ahead of ``build`` (older numbers), oldest first."""
    number = build.get("number") or 0
    page = client.list_builds(repo, 1, 100)
    return sorted((b for b in page if (b.get("number") or 0) < number and b.get("status") in ("pending", "running")),
                  key=lambda b: b.get("number") or 0)


def wait_for_build(client: DroneClient, repo: str, number: int, timeout: float | None = None, *,
                   limits: WaitLimits | None = None,
                   expected: float | None = None, progress: Callable[..., None] | None = None,
                   base_interval: float = 5.0, clock: Callable[[], float] | None = None,
                   sleep: Callable[[float], None] | None = None) -> tuple[dict[str, Any], bool, int]:
    """Wait for build ``number`` of ``repo``; ``(build, finished, polls)``. ``timeout`` alone bounds the
    whole wait; ``limits`` bounds queue and run apart (see WaitLimits)."""
    waiter = build_waiter(client, repo, number, timeout, limits=limits, expected=expected, progress=progress,
                          base_interval=base_interval, clock=clock, sleep=sleep)
    build, finished = waiter.wait()
    return build, finished, waiter.polls


def build_waiter(client: DroneClient, repo: str, number: int, timeout: float | None = None, *,
                 limits: WaitLimits | None = None, expected: float | None = None,
                 progress: Callable[..., None] | None = None, base_interval: float = 5.0,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None) -> BuildWaiter:
    clock = clock or time.time
    if expected is None:
        try:
            expected = client.expected_seconds(repo)
        except Exception:  # history is an optimisation only
            expected = None
    return BuildWaiter(lambda: client.get_build(repo, number),
                       deadline=clock() + timeout if timeout is not None and limits is None else None,
                       limits=limits, ahead=lambda build: builds_ahead(client, repo, build),
                       expected=expected, base_interval=base_interval, progress=progress, clock=clock, sleep=sleep)


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
