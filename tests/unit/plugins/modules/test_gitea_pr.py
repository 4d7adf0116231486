# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""gitea_pr: idempotent open / close, the ledger, the guardrails; gitea_pr_info's fields."""
from __future__ import annotations

import json

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import OUTSIDER, gitea_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.modules import gitea_pr, gitea_pr_info

REPO = "recipe-maintainers/custom-html"
BUMP = {"compose.yml": "image: nginx:1.27.3\n"}


def present(**kw):
    args = dict(repo=REPO, head="ccci/bump", from_ref="main", files=BUMP, commit_message="bump nginx", title="bump")
    args.update(kw)
    return gitea_args(**args)


def test_present_creates_branch_commit_and_pr_then_is_idempotent(forge, monkeypatch):
    first = run_module(gitea_pr.main, present(), forge, monkeypatch)
    assert not first["failed"] and first["changed"] and first["pr_created"]
    assert first["branch"]["created"] and first["files_changed"] == ["compose.yml"]
    pr = first["pr"]
    assert pr["state"] == "open" and pr["merged"] is False and pr["head_ref"] == "ccci/bump"
    assert pr["base_ref"] == "main" and pr["user"] == "cc-ci-bot" and len(pr["head_sha"]) == 40
    assert set(pr) >= {"number", "state", "merged", "title", "html_url", "head_ref", "head_sha", "base_ref", "user"}
    again = run_module(gitea_pr.main, present(), forge, monkeypatch)
    assert again["changed"] is False and again["pr"]["number"] == pr["number"]
    assert again["files_changed"] == [] and not again["branch"]["created"]
    check = run_module(gitea_pr.main, present(), forge, monkeypatch, check_mode=True)
    assert check["changed"] is False
    assert len(forge.prs[REPO]) == 1


def test_check_mode_writes_nothing(forge, monkeypatch):
    result = run_module(gitea_pr.main, present(), forge, monkeypatch, check_mode=True)
    assert result["changed"] and result["pr"] is None and result["files_changed"] == ["compose.yml"]
    assert "ccci/bump" not in forge.repos[REPO]["branches"] and forge.prs[REPO] == {}
    assert not [m for m, _unused in forge.log if m in ("POST", "PUT", "PATCH", "DELETE")]


def test_changed_file_on_existing_pr_is_committed_and_reported(forge, monkeypatch):
    first = run_module(gitea_pr.main, present(), forge, monkeypatch)
    second = run_module(gitea_pr.main, present(files={"compose.yml": "image: nginx:1.27.4\n"}), forge, monkeypatch)
    assert second["changed"] and not second["pr_created"] and second["files_changed"] == ["compose.yml"]
    assert second["pr"]["number"] == first["pr"]["number"]
    assert second["pr"]["head_sha"] != first["pr"]["head_sha"]


def test_ledger_lines_are_written_before_creating(forge, monkeypatch, tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    run_module(gitea_pr.main, present(ledger=str(ledger)), forge, monkeypatch)
    lines = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert [(x["kind"], x["repo"]) for x in lines] == [("branch", REPO), ("pr", REPO), ("pr", REPO)]
    assert lines[0]["ref"] == "ccci/bump" and lines[1]["head"] == "ccci/bump"
    # before the create: no number yet; after it, the number the sweep finds the PR by (FACTS 2a)
    created = run_module(gitea_pr.main, present(ledger=str(ledger)), forge, monkeypatch)["pr"]
    assert "number" not in lines[1] and lines[2]["number"] == created["number"] and lines[2]["head"] == "ccci/bump"
    assert all(x["created_by"] == "ccci" and x["time"] for x in lines)
    # a PR that fails to be created is still in the ledger (written before the create)
    forge.add_pr(REPO, "ccci/other")  # branch exists, PR open -> closed below so a new create is attempted
    ledger2 = tmp_path / "l2.jsonl"
    denied = run_module(gitea_pr.main, gitea_args(repo=REPO, head="ccci/third", base="main", gitea_token=OUTSIDER,
                                                  ledger=str(ledger2)), forge, monkeypatch)
    assert denied["failed"] and "HTTP 403" in denied["msg"]
    assert json.loads(ledger2.read_text())["kind"] == "pr"


def test_close_then_close_again_and_delete_branch(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/close-me")
    args = gitea_args(repo=REPO, state="closed", number=pr["number"], delete_branch=True)
    check = run_module(gitea_pr.main, args, forge, monkeypatch, check_mode=True)
    assert check["changed"] and forge.prs[REPO][pr["number"]]["state"] == "open"
    closed = run_module(gitea_pr.main, args, forge, monkeypatch)
    assert closed["changed"] and closed["pr"]["state"] == "closed" and closed["branch_deleted"]
    assert "ccci/close-me" not in forge.repos[REPO]["branches"]
    again = run_module(gitea_pr.main, args, forge, monkeypatch)
    assert again["changed"] is False and again["pr"]["state"] == "closed" and not again["branch_deleted"]


def test_close_by_head_and_nothing_open(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/by-head")
    result = run_module(gitea_pr.main, gitea_args(repo=REPO, state="closed", head="ccci/by-head"), forge, monkeypatch)
    assert result["changed"] and result["pr"]["number"] == pr["number"]
    none = run_module(gitea_pr.main, gitea_args(repo=REPO, state="closed", head="ccci/by-head"), forge, monkeypatch)
    assert none["changed"] is False and none["pr"] is None


def test_merged_pr_fails_the_task(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/merged", state="closed", merged=True)
    result = run_module(gitea_pr.main, gitea_args(repo=REPO, state="closed", number=pr["number"]), forge, monkeypatch)
    assert result["failed"] and "reports merged: true" in result["msg"]


def test_refuses_to_commit_to_the_default_branch(forge, monkeypatch):
    result = run_module(gitea_pr.main, present(head="main", base="other"), forge, monkeypatch)
    assert result["failed"] and "refusing to commit" in result["msg"]
    assert not [m for m, _unused in forge.log if m in ("POST", "PUT")]


def test_unknown_pr_and_bad_token_fail_with_one_line(forge, monkeypatch):
    result = run_module(gitea_pr.main, gitea_args(repo=REPO, state="closed", number=99), forge, monkeypatch)
    assert result["failed"] and result["msg"].endswith(f"HTTP 404: pull request does not exist (no PR #99 in {REPO})")
    assert "\n" not in result["msg"]
    bad = run_module(gitea_pr.main, present(gitea_token="nope"), forge, monkeypatch)
    assert bad["failed"] and "(token rejected: check ccci_gitea_token)" in bad["msg"] and "nope" not in bad["msg"]


def test_pr_info_fields(forge, monkeypatch):
    pr = forge.add_pr(REPO, "ccci/info")
    forge.add_comment(REPO, pr["number"], "!testme")
    forge.add_status(REPO, pr["head"]["sha"], "pending", "http://drone.test/recipe-maintainers/cc-ci/1")
    result = run_module(gitea_pr_info.main, gitea_args(repo=REPO, number=pr["number"]), forge, monkeypatch)
    info = result["pr"]
    assert result["changed"] is False and info["merged"] is False and info["state"] == "open"
    assert info["files"] == ["compose.yml"] and info["commits"] == 1
    assert info["comments"][0]["body"] == "!testme" and info["comments"][0]["user"] == "cc-ci-bot"
    assert set(info["comments"][0]) >= {"id", "body", "user", "created_at", "html_url"}
    assert info["statuses"][0]["state"] == "pending" and info["statuses"][0]["context"] == "cc-ci/testme"
    assert info["combined_state"] == "pending"
    bare = forge.add_pr(REPO, "ccci/bare")
    result = run_module(gitea_pr_info.main, gitea_args(repo=REPO, number=bare["number"]), forge, monkeypatch)
    assert result["pr"]["combined_state"] == "" and result["pr"]["statuses"] == []
