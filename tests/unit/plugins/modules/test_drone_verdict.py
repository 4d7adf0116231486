# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""drone_verdict: verdicts, both surfaces, agreement, timeouts."""
from __future__ import annotations


import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import FakeBridge, both_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import drone as drone_mu
from ansible_collections.coopcloud.cc_ci.plugins.modules import drone_verdict

REPO = "recipe-maintainers/custom-html"


@pytest.fixture
def forge(clocked_forge):
    return clocked_forge(drone_mu, drone_verdict)


def started_run(forge, **bridge_kw):
    bridge = FakeBridge(forge, **bridge_kw)
    pr = forge.add_pr(REPO, "ccci/v")
    forge.add_comment(REPO, pr["number"], "!testme")
    bridge(REPO, pr["number"], forge.comments[(REPO, pr["number"])][-1])
    return bridge, pr


def verdict(forge, monkeypatch, **kw):
    return run_module(drone_verdict.main, both_args(**kw), forge, monkeypatch)


def test_green_with_both_surfaces_agreeing(forge, monkeypatch):
    bridge, pr = started_run(forge)
    forge.clock.at(forge.now + 45, lambda: bridge.finish(REPO, pr["number"], 1, "success"))
    result = verdict(forge, monkeypatch, repo=REPO, number=pr["number"])
    assert not result["failed"] and result["changed"] is False
    assert result["verdict"] == "GREEN" and result["agree"] is True and result["findings"] == []
    assert result["build_number"] == 1 and result["build_url"] == "http://drone.test/recipe-maintainers/cc-ci/1"
    assert result["durations"]["build_seconds"] == 45 and result["durations"]["waited_seconds"] >= 45
    assert result["surfaces"]["status"]["state"] == "success" and result["surfaces"]["comment"]["verdict"] == "GREEN"


def test_red_by_build_number(forge, monkeypatch):
    bridge, pr = started_run(forge)
    forge.clock.at(forge.now + 30, lambda: bridge.finish(REPO, pr["number"], 1, "failure"))
    result = verdict(forge, monkeypatch, build=1)
    assert result["verdict"] == "RED" and result["agree"] is True
    assert result["pr"] == {"repo": REPO, "number": pr["number"]} and result["sha"] == pr["head"]["sha"]


def test_missing_status_surface_is_a_finding_without_waiting_long(forge, monkeypatch):
    bridge, pr = started_run(forge, status=False)
    forge.clock.at(forge.now + 20, lambda: bridge.finish(REPO, pr["number"], 1, "success"))
    result = verdict(forge, monkeypatch, repo=REPO, number=pr["number"])
    assert result["verdict"] == "GREEN" and result["agree"] is False
    assert result["surfaces"]["present"] == ["comment"]
    assert any(f.startswith("status surface missing: the bridge posted a comment but no cc-ci/testme status")
               for f in result["findings"])
    assert result["durations"]["waited_seconds"] < 30


def test_surface_contradicting_drone_is_a_finding(forge, monkeypatch):
    bridge, pr = started_run(forge)

    def finish_wrong():
        bridge.finish(REPO, pr["number"], 1, "success")
        forge.builds["recipe-maintainers/cc-ci"][0]["status"] = "failure"

    forge.clock.at(forge.now + 10, finish_wrong)
    result = verdict(forge, monkeypatch, repo=REPO, number=pr["number"], surface_wait=6)
    assert result["verdict"] == "RED" and result["agree"] is False
    assert "the cc-ci/testme status says GREEN but Drone build #1 ended failure" in result["findings"]


def test_timeout_gives_pending(forge, monkeypatch):
    bridge, pr = started_run(forge)
    start = forge.now
    result = verdict(forge, monkeypatch, repo=REPO, number=pr["number"], timeout=60)
    assert result["verdict"] == "PENDING" and result["build_status"] == "running"
    assert forge.now - start == pytest.approx(60, abs=1)
    assert result["surfaces"]["verdict"] == "PENDING"


def test_no_build_for_the_head_times_out_pending(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/none")
    result = verdict(forge, monkeypatch, repo=REPO, number=pr["number"], timeout=20)
    assert result["verdict"] == "PENDING" and result["build_number"] is None
    assert result["findings"][0].startswith("no Drone build on recipe-maintainers/cc-ci")


def test_number_requires_repo(forge, monkeypatch):
    result = verdict(forge, monkeypatch, number=1)
    assert result["failed"] and "repo" in result["msg"]


# -- a box with one runner: queued builds, held builds, Drone's record against itself ---------------

def queued_run(forge, ahead_seconds):
    """A build of another PR runs for ``ahead_seconds``; ours waits pending behind it, then runs 30 s."""
    bridge, pr = started_run(forge)
    ahead = forge.builds["recipe-maintainers/cc-ci"][0]
    ahead["params"]["PR"] = "999"  # the build ahead is another PR's
    ours = forge.add_build({"RECIPE": "custom-html", "REPO": REPO, "PR": pr["number"], "REF": ahead["params"]["REF"]},
                           status="pending", started=0)
    t0 = forge.now

    def ahead_ends():
        ahead["status"], ahead["finished"] = "success", int(forge.now)
        ours["status"], ours["started"] = "running", int(forge.now)

    forge.clock.at(t0 + ahead_seconds, ahead_ends)
    forge.clock.at(t0 + ahead_seconds + 30, lambda: bridge.finish(REPO, pr["number"], ours["number"], "success"))
    return ours, t0


def test_queued_build_is_waiting_and_the_timeout_counts_from_its_start(forge, monkeypatch):
    ours, t0 = queued_run(forge, ahead_seconds=100)
    result = verdict(forge, monkeypatch, build=ours["number"], timeout=60, surface_wait=0)  # queued 100 s > timeout: fine
    assert result["verdict"] == "GREEN" and result["wait_ended"] == "finished"
    assert result["queue"]["behind"] == [1] and result["queue"]["note"].startswith("queued behind build #1 for ")
    assert result["queue"]["seconds"] >= 99
    assert forge.now - t0 == pytest.approx(130, abs=3)


def test_queue_has_its_own_bound(forge, monkeypatch):
    ours, t0 = queued_run(forge, ahead_seconds=1000)
    result = verdict(forge, monkeypatch, build=ours["number"], timeout=60, queue_timeout=120)
    assert result["verdict"] == "PENDING" and result["wait_ended"] == "queue_timeout"
    assert forge.now - t0 == pytest.approx(120, abs=3)
    assert any("still queued after" in f and "queued behind build #1" in f for f in result["findings"])


def test_running_too_long_is_a_timeout_from_the_start(forge, monkeypatch):
    bridge, pr = started_run(forge)
    result = verdict(forge, monkeypatch, build=1, timeout=40, queue_timeout=500)
    assert result["verdict"] == "PENDING" and result["wait_ended"] == "timeout"
    assert any("still running" in f and "build timeout 40 s" in f for f in result["findings"])


def test_dead_runner_stalls_instead_of_waiting_out_the_queue(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/dead")
    b = forge.add_build({"RECIPE": "custom-html", "REPO": REPO, "PR": pr["number"], "REF": "x"}, status="pending",
                        started=0)
    t0 = forge.now
    result = verdict(forge, monkeypatch, build=b["number"], timeout=600, stall_timeout=30)
    assert result["verdict"] == "PENDING" and result["wait_ended"] == "stalled"
    assert forge.now - t0 == pytest.approx(30, abs=3)
    assert any("no build ahead of it: no runner takes its stage in Drone" in f for f in result["findings"])


@pytest.mark.parametrize(("status", "verdict_word", "ended", "words", "waits"), [
    ("blocked", "BLOCKED", "blocked", "waits for approval in Drone", False),
    ("declined", "DECLINED", "declined", "declined in Drone", False),
    ("waiting_on_dependencies", "WAITING_ON_DEPENDENCIES", "waiting_on_dependencies", "waiting_on_dependencies", True),
])
def test_held_builds_end_the_wait_naming_the_state(forge, monkeypatch, status, verdict_word, ended, words, waits):
    pr = forge.add_pr(REPO, "ccci/held")
    b = forge.add_build({"RECIPE": "custom-html", "REPO": REPO, "PR": pr["number"], "REF": "x"}, status=status,
                        started=0)
    t0 = forge.now
    result = verdict(forge, monkeypatch, build=b["number"], timeout=600, stall_timeout=20)
    assert result["verdict"] == verdict_word and result["wait_ended"] == ended
    assert any(words in f for f in result["findings"])
    assert (forge.now - t0 == pytest.approx(20, abs=3)) if waits else forge.now - t0 < 1


@pytest.mark.parametrize(("change", "lie"), [
    (lambda b: b.update(finished=b["started"] - 7), "finished before it started"),
    (lambda b: b["stages"].append({"number": 1, "steps": [{"name": "deploy", "status": "failure"}]}),
     "Drone reports build #1 success but it has a failed step: deploy"),
])
def test_drone_contradicting_itself_is_a_lie(forge, monkeypatch, change, lie):
    bridge, pr = started_run(forge)
    b = forge.builds["recipe-maintainers/cc-ci"][0]

    def finish():
        bridge.finish(REPO, pr["number"], 1, "success")
        change(b)

    forge.clock.at(forge.now + 20, finish)
    result = verdict(forge, monkeypatch, build=1)
    assert result["verdict"] == "GREEN" and any(lie in x for x in result["lies"])


def test_a_consistent_build_has_no_lies(forge, monkeypatch):
    bridge, pr = started_run(forge)
    forge.clock.at(forge.now + 20, lambda: bridge.finish(REPO, pr["number"], 1, "failure"))
    assert verdict(forge, monkeypatch, build=1)["lies"] == []
