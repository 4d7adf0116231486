# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""gitea_prs_info: finding a run's PRs by number or by branch, also once their branches are gone."""
from __future__ import annotations

import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import FakeForge, gitea_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.modules import gitea_prs_info

REPO = "recipe-maintainers/custom-html"


@pytest.fixture
def forge(forge):
    forge.add_pr(REPO, "upgrade/1.27.3")
    forge.add_pr(REPO, "someone/else")
    closed = forge.add_pr(REPO, "upgrade/1.27.4", state="closed")
    forge.delete_head(REPO, closed["number"])  # Gitea: head.ref = refs/pull/3/head from now on
    return forge


def numbers(result):
    assert not result.get("failed"), result.get("msg")
    return [p["number"] for p in result["prs"]]


def test_head_prefix_finds_a_closed_pr_whose_branch_is_gone(forge, monkeypatch):
    result = run_module(gitea_prs_info.main, gitea_args(repo=REPO, head_prefix="upgrade/"), forge, monkeypatch)
    assert numbers(result) == [1, 3]
    gone = result["prs"][1]
    assert (gone["head_ref"], gone["branch_deleted"], gone["state"]) == ("upgrade/1.27.4", True, "closed")
    assert result["prs"][0]["branch_deleted"] is False


def test_numbers_find_prs_whatever_their_branch(forge, monkeypatch):
    result = run_module(gitea_prs_info.main, gitea_args(repo=REPO, numbers=[2, 3]), forge, monkeypatch)
    assert numbers(result) == [2, 3]
    both = run_module(gitea_prs_info.main, gitea_args(repo=REPO, numbers=[2], head_prefix="upgrade/"), forge,
                      monkeypatch)
    assert numbers(both) == [1, 2, 3]


def test_under_a_page_cap_every_pr_is_listed(monkeypatch):
    forge = FakeForge()
    forge.max_items = 20
    for i in range(43):
        forge.add_pr(REPO, f"upgrade/{i}")
    result = run_module(gitea_prs_info.main, gitea_args(repo=REPO, head_prefix="upgrade/"), forge, monkeypatch)
    assert numbers(result) == list(range(1, 44))


def test_repos_reads_each_repository_in_one_run_as_a_loop_would(forge, monkeypatch):
    other = "recipe-maintainers/cc-ci"
    forge.add_repo(other, {"main": forge.repos[REPO]["branches"]["main"]})
    forge.add_pr(other, "upgrade/tests")
    result = run_module(gitea_prs_info.main, gitea_args(repos=[REPO, other], head_prefix="upgrade/"), forge, monkeypatch)
    assert not result.get("failed"), result.get("msg")
    assert [r["item"] for r in result["results"]] == [REPO, other]
    assert [[p["number"] for p in r["prs"]] for r in result["results"]] == [[1, 3], [1]]
    # one repo alone answers as before
    alone = run_module(gitea_prs_info.main, gitea_args(repo=REPO, head_prefix="upgrade/"), forge, monkeypatch)
    assert alone["prs"] == result["results"][0]["prs"]


def test_repo_and_repos_are_exclusive(forge, monkeypatch):
    result = run_module(gitea_prs_info.main, gitea_args(repo=REPO, repos=[REPO]), forge, monkeypatch)
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_since_keeps_a_pr_opened_in_the_same_second_and_drops_the_one_before(monkeypatch):
    """Gitea stamps created_at to the second: a run noted at 12.6 s that opens its PR at once gets a
    PR stamped 12 s, and must still find it (a V8 run lost a candidate's PR to this)."""
    forge = FakeForge()
    forge.add_pr(REPO, "upgrade/older")
    forge.tick(1)
    forge.add_pr(REPO, "upgrade/ours")
    since = forge.now + 0.6
    result = run_module(gitea_prs_info.main, gitea_args(repo=REPO, since=since), forge, monkeypatch)
    assert numbers(result) == [2]
