# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""gitea_testme: fired / ignored / rejected / partial, check mode, ledger."""
from __future__ import annotations

import json

import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import OUTSIDER, FakeBridge, both_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import result_surfaces
from ansible_collections.coopcloud.cc_ci.plugins.modules import gitea_testme

REPO = "recipe-maintainers/custom-html"


@pytest.fixture
def forge(clocked_forge):
    return clocked_forge(result_surfaces)


def post_testme(forge, monkeypatch, number, check_mode=False, **kw):
    args = both_args(repo=REPO, number=number, poll_interval=30)
    args.update(kw)
    return run_module(gitea_testme.main, args, forge, monkeypatch, check_mode=check_mode)


def test_member_testme_fires_and_ends_early(forge, monkeypatch, tmp_path):
    FakeBridge(forge)
    pr = forge.add_pr(REPO, "ccci/t")
    ledger = tmp_path / "ledger.jsonl"
    result = post_testme(forge, monkeypatch, pr["number"], ledger=str(ledger))
    assert not result["failed"] and result["changed"]
    assert result["outcome"] == "fired" and result["seconds"] < 90
    assert result["build"]["number"] == 1
    assert result["build"]["url"] == "http://drone.test/recipe-maintainers/cc-ci/1"
    assert result["build"]["params"]["REF"] == pr["head"]["sha"] == result["head_sha"]
    assert result["seen"]["status"] and result["seen"]["comment"] and result["seen"]["status_state"] == "pending"
    assert result["comment"]["id"] and result["comment"]["html_url"] and result["comment"]["created_at"]
    assert result["poster"] == {"login": "cc-ci-bot", "member": True, "org": "recipe-maintainers"}
    assert json.loads(ledger.read_text())["kind"] == "comment"


def test_outsider_is_rejected_after_the_window(forge, monkeypatch):
    FakeBridge(forge)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], gitea_token=OUTSIDER, poll_interval=1)
    assert result["outcome"] == "rejected" and result["build"] is None
    assert result["poster"]["member"] is False and result["seconds"] == pytest.approx(3.0)
    assert result["comment"]["user"] == "outsider"


def test_open_membership_gate_shows_as_fired_for_an_outsider(forge, monkeypatch):
    FakeBridge(forge, accept_outsiders=True)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], gitea_token=OUTSIDER, window=5)
    assert result["outcome"] == "fired" and result["poster"]["member"] is False


def test_bad_trigger_is_ignored(forge, monkeypatch):
    FakeBridge(forge)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], body="!testmexyz", window=4, interval=1)
    assert result["outcome"] == "ignored" and not any(v for k, v in result["seen"].items() if k in ("build", "status", "comment"))


def test_an_older_build_for_the_same_head_does_not_count(forge, monkeypatch):
    bridge = FakeBridge(forge)
    pr = forge.add_pr(REPO, "ccci/t")
    first = post_testme(forge, monkeypatch, pr["number"])
    bridge.finish(REPO, pr["number"], first["build"]["number"])
    forge.on_comment = None  # the bridge stops
    result = post_testme(forge, monkeypatch, pr["number"], window=3)
    assert result["outcome"] == "ignored" and result["build"] is None


def test_build_without_any_surface_is_partial(forge, monkeypatch):
    FakeBridge(forge, status=False, comment=False)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], window=3)
    assert result["outcome"] == "partial" and result["build"]["number"] == 1


def test_comment_only_bridge_still_fires(forge, monkeypatch):
    FakeBridge(forge, status=False)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], window=3)
    assert result["outcome"] == "fired" and not result["seen"]["status"] and result["seen"]["comment"]


def test_check_mode_posts_nothing(forge, monkeypatch):
    FakeBridge(forge)
    pr = forge.add_pr(REPO, "ccci/t")
    result = post_testme(forge, monkeypatch, pr["number"], check_mode=True)
    assert result["changed"] and result["outcome"] is None and result["comment"] is None
    assert forge.comments[(REPO, pr["number"])] == []


def test_unknown_pr_fails_with_one_line(forge, monkeypatch):
    result = post_testme(forge, monkeypatch, 42)
    assert result["failed"] and result["msg"].endswith(f"(no PR #42 in {REPO})")
