# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""DroneClient and the build waiter."""
from __future__ import annotations

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import drone as drone_mu
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import (
    BuildWaiter, DroneClient, build_seconds, is_terminal, params_match, verdict_of, wait_for_build,
)

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import DRONE, DRONE_TOKEN, FakeClock, FakeForge

CI = "recipe-maintainers/cc-ci"


def drone(forge, token=DRONE_TOKEN):
    return DroneClient(DRONE, token, transport=forge.transport(), sleep=lambda s: None)


def test_terminal_states_and_verdicts():
    for status in ("success", "failure", "killed", "error", "skipped", "declined"):
        assert is_terminal(status)
    for status in ("pending", "running", "blocked", "waiting_on_dependencies", None):
        assert not is_terminal(status)
    assert verdict_of("success") == "GREEN"
    assert verdict_of("failure") == verdict_of("error") == verdict_of("killed") == "RED"
    assert verdict_of("running") == "PENDING"


def test_list_get_trigger_and_url():
    forge = FakeForge()
    d = drone(forge)
    b = d.trigger_build(CI, {"RECIPE": "custom-html", "PR": 3, "REF": "abc"}, branch="main")
    assert b["params"] == {"RECIPE": "custom-html", "PR": "3", "REF": "abc"}
    assert d.get_build(CI, b["number"])["number"] == 1
    d.list_builds(CI, per_page=500)
    assert "per_page=100" in forge.log[-1][1]
    assert d.build_url(CI, 7) == f"{DRONE}/{CI}/7"
    assert DroneClient(DRONE + "/api/").build_url(CI, 1) == f"{DRONE}/{CI}/1"


def test_bearer_auth_and_errors():
    forge = FakeForge()
    with pytest.raises(ApiError) as err:
        drone(forge, "wrong").list_builds(CI)
    assert "HTTP 401: Unauthorized (token rejected: check ccci_drone_token)" in str(err.value)
    with pytest.raises(ApiError) as err:
        drone(forge).get_build(CI, 42)
    assert str(err.value) == f"GET {DRONE}/api/repos/{CI}/builds/42: HTTP 404: Not Found (no build #42 in Drone repo {CI})"


def test_step_logs_absent_is_empty():
    def handler(request):
        if request.url.path.endswith("/logs/1/2"):
            return httpx.Response(200, json=[{"pos": 0, "out": "ok\n", "time": 1}])
        return httpx.Response(404, json={"message": "not found"})

    d = DroneClient(DRONE, DRONE_TOKEN, transport=httpx.MockTransport(handler))
    assert d.step_logs(CI, 1, 1, 2)[0]["out"] == "ok\n"
    assert d.step_logs(CI, 1, 1, 3) == []


def test_params_match_and_expected_seconds():
    forge = FakeForge()
    for seconds in (40, 50, 45, 200):
        forge.add_build({"RECIPE": "custom-html" if seconds < 100 else "big"}, status="success",
                        started=forge.now, finished=forge.now + seconds)
    forge.add_build({"RECIPE": "custom-html"}, status="running")
    d = drone(forge)
    assert d.expected_seconds(CI, params={"RECIPE": "custom-html"}) == 45
    assert d.expected_seconds(CI) == 47.5
    assert params_match({"params": {"PR": "3"}}, {"PR": 3, "REF": None})
    assert not params_match({"params": {"PR": "3"}}, {"PR": 4})
    assert build_seconds({"started": 10, "finished": 55}) == 45


def simulate(expected, actual, waiter_kw=None, fixed=None):
    """A build that starts at t=2 and takes ``actual`` s; returns (latency, polls)."""
    forge = FakeForge()
    clock = FakeClock(forge)
    t0 = forge.now
    build = {"number": 1, "status": "pending", "started": 0}

    def fetch():
        now = forge.now
        if now >= t0 + 2:
            build["started"] = t0 + 2
            build["status"] = "running"
        if now >= t0 + 2 + actual:
            build["status"] = "success"
            build["finished"] = t0 + 2 + actual
        return dict(build)

    if fixed:
        polls = 0
        while True:
            polls += 1
            if fetch()["status"] == "success":
                return forge.now - (t0 + 2 + actual), polls
            clock.sleep(fixed)
    waiter = BuildWaiter(fetch, deadline=t0 + 600, expected=expected, clock=clock.time, sleep=clock.sleep,
                         **(waiter_kw or {}))
    result, finished = waiter.wait()
    assert finished and result["status"] == "success"
    return forge.now - (t0 + 2 + actual), waiter.polls


@pytest.mark.parametrize("actual", [41, 45, 47.3, 52, 61])
def test_waiter_answers_sooner_than_a_fixed_poller_without_more_requests(actual):
    latency, polls = simulate(45, actual)
    fixed_latency, fixed_polls = simulate(None, actual, fixed=5.0)
    if actual <= 45 * 1.2:  # near the expected end: about a second, where a 5 s poller averages 2.5 s
        assert latency <= 1.5
    assert latency <= 5.0
    assert polls <= fixed_polls + 1


def test_waiter_without_history_keeps_the_fixed_pollers_rate():
    latency, polls = simulate(None, 300)
    assert polls <= 300 / 5 + 12 + 2
    assert latency <= 5.0


def test_waiter_times_out_at_the_deadline_with_the_last_build():
    forge = FakeForge()
    clock = FakeClock(forge)
    start = forge.now
    seen = []
    waiter = BuildWaiter(lambda: {"number": 1, "status": "running", "started": start}, deadline=start + 30,
                         expected=None, clock=clock.time, sleep=clock.sleep,
                         progress=lambda b, info: seen.append(info["polls"]))
    build, finished = waiter.wait()
    assert not finished and build["status"] == "running"
    assert forge.now == pytest.approx(start + 30)
    assert seen == list(range(1, waiter.polls + 1))


def test_wait_for_build_uses_drone_history(monkeypatch):
    forge = FakeForge()
    clock = FakeClock(forge)
    monkeypatch.setattr(drone_mu, "time", clock)
    for _unused in range(3):
        forge.add_build({"RECIPE": "x"}, status="success", started=forge.now, finished=forge.now + 45)
    b = forge.add_build({"RECIPE": "x"}, status="running", started=forge.now)

    def finish():
        b["status"], b["finished"] = "failure", int(forge.now)

    clock.at(forge.now + 46, finish)
    build, finished, polls = wait_for_build(drone(forge), CI, b["number"], 600)
    assert finished and build["status"] == "failure"
    assert polls <= 46 / 5  # a fixed 5 s poller needs 10
    assert forge.now - (b["started"] + 46) <= 1.5
