# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""drone_builds_info: a BUILD= link is checked through Drone's API (its web app answers any page)."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import (
    DRONE, DRONE_TOKEN, FakeForge, run_module,
)

from ansible_collections.coopcloud.cc_ci.plugins.modules import drone_builds_info

CI = "recipe-maintainers/cc-ci"


def linked(monkeypatch, forge: FakeForge, links: list[dict]) -> list[dict]:
    args = {"drone_url": DRONE, "drone_token": DRONE_TOKEN, "repo": CI, "limit": 1, "with_steps": False,
            "links": links}
    result = run_module(drone_builds_info.main, args, forge, monkeypatch)
    assert not result["failed"], result
    return result["linked"]


def test_links_are_judged_by_the_api(monkeypatch) -> None:
    forge = FakeForge()
    ours = forge.add_build({"PR": 7, "REF": "a" * 40}, status="success", finished=forge.now + 5)
    other = forge.add_build({"PR": 3, "REF": "b" * 40}, status="failure", finished=forge.now + 5)
    want = {"PR": "7", "REF": "a" * 40}
    good, stale, missing, foreign = linked(monkeypatch, forge, [
        {"url": f"{DRONE}/{CI}/{ours['number']}", "params": want, "label": "BUILD= on the green head"},
        {"url": f"{DRONE}/{CI}/{other['number']}", "params": want, "label": "BUILD= on the green head"},
        {"url": f"{DRONE}/{CI}/99", "params": want, "label": "BUILD= on the green head"},
        {"url": "https://elsewhere.test/x/y/1", "params": want, "label": "BUILD= on the red head"},
    ])
    assert good["exists"] and good["problem"] is None and good["status"] == "success"
    assert stale["exists"] and stale["problem"] == (
        f"BUILD= on the green head is Drone build #{other['number']} on {CI}, which ran for PR=3, REF=bbbbbbbbbbbb, "
        "not this PR's head (PR=7, REF=aaaaaaaaaaaa)")
    assert not missing["exists"] and "names no build Drone's API knows (no build #99" in missing["problem"]
    assert foreign["repo"] is None and foreign["problem"].startswith("BUILD= on the red head (https://elsewhere.test")


def test_no_url_is_a_problem_not_a_crash(monkeypatch) -> None:
    (entry,) = linked(monkeypatch, FakeForge(), [{"url": "", "params": {}, "label": "BUILD= on the red head"}])
    assert entry["problem"] == f"BUILD= on the red head (none) is no build page of {DRONE}"


def test_since_keeps_a_build_created_in_the_same_second_and_drops_the_one_before(monkeypatch) -> None:
    """Drone stamps ``created`` to the second: a build created in the second a run was noted in is the run's."""
    forge = FakeForge()
    forge.add_build({"PR": 1}, status="success")
    forge.tick(1)
    ours = forge.add_build({"PR": 2}, status="running")
    args = {"drone_url": DRONE, "drone_token": DRONE_TOKEN, "repo": CI, "limit": 1, "with_steps": False,
            "since": forge.now + 0.6}
    result = run_module(drone_builds_info.main, args, forge, monkeypatch)
    assert not result["failed"], result
    assert [b["number"] for b in result["builds"]] == [ours["number"]]
