"""drone_verdict: verdicts, both surfaces, agreement, timeouts."""
from __future__ import annotations


import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import FakeBridge, FakeClock, FakeForge, both_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import drone as drone_mu
from ansible_collections.coopcloud.cc_ci.plugins.modules import drone_verdict

REPO = "recipe-maintainers/custom-html"


@pytest.fixture
def forge(monkeypatch):
    f = FakeForge()
    clock = FakeClock(f)
    monkeypatch.setattr(drone_mu, "time", clock)
    monkeypatch.setattr(drone_verdict, "time", clock)
    f.clock = clock
    return f


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
