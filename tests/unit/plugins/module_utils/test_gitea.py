# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""GiteaClient against the in-memory fake (FACTS.md section 2 shapes)."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import gitea as gitea_mu
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import BOT, GITEA, OUTSIDER

REPO = "recipe-maintainers/custom-html"
PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def gitea(forge, token=BOT):
    return GiteaClient(GITEA, token, transport=forge.transport(), sleep=lambda s: None)


def test_no_merge_anywhere_in_plugins():
    offenders = [str(p) for p in PLUGINS.rglob("*.py") if "/merge" in p.read_text(encoding="utf-8")]
    assert offenders == []
    assert not [name for name in dir(GiteaClient) if "merge" in name.lower()]


def test_user_and_membership(forge):
    g = gitea(forge)
    assert g.get_user()["login"] == "cc-ci-bot"
    assert g.is_org_member("recipe-maintainers", "cc-ci-bot") is True
    assert g.is_org_member("recipe-maintainers", "outsider") is False


def test_bad_token_is_one_line_with_hint(forge):
    with pytest.raises(ApiError) as err:
        gitea(forge, "wrong").get_user()
    assert str(err.value) == (f"GET {GITEA}/api/v1/user: HTTP 401: user does not exist "
                              "(token rejected: check ccci_gitea_token)")


def test_unknown_pr_is_one_line_404(forge):
    with pytest.raises(ApiError) as err:
        gitea(forge).get_pr(REPO, 99)
    assert str(err.value) == (f"GET {GITEA}/api/v1/repos/{REPO}/pulls/99: HTTP 404: pull request does not exist "
                              f"(no PR #99 in {REPO})")
    assert err.value.status == 404


def test_branch_create_existing_and_delete(forge):
    g = gitea(forge)
    main_sha = g.branch_sha(REPO, "main")
    assert len(main_sha) == 40
    branch, created = g.create_branch(REPO, "ccci/x", "main")
    assert created and branch["commit"]["id"] == main_sha
    branch, created = g.create_branch(REPO, "ccci/x", "main")
    assert not created and branch["commit"]["id"] == main_sha
    assert g.delete_branch(REPO, "ccci/x") is True
    assert g.delete_branch(REPO, "ccci/x") is False
    assert g.get_branch(REPO, "ccci/x") is None


def test_file_read_at_full_sha_and_write(forge):
    g = gitea(forge)
    f = g.get_file(REPO, "compose.yml", "main")
    assert f["text"] == "image: nginx:1.26.2\n" and f["commit_sha"] == g.branch_sha(REPO, "main")
    asked = [u for m, u in forge.log if "/contents/compose.yml" in u]
    assert asked[-1].endswith("ref=" + f["commit_sha"])  # never a short ref (the box's raw fallback)
    assert g.get_file(REPO, "nope.txt", "main") is None
    g.create_branch(REPO, "ccci/y", "main")
    g.put_file(REPO, "compose.yml", "image: nginx:1.27.3\n", "bump", branch="ccci/y", sha=f["sha"])
    g.put_file(REPO, "new.txt", "hello", "add", branch="ccci/y")
    assert g.get_file(REPO, "compose.yml", "ccci/y")["text"] == "image: nginx:1.27.3\n"
    assert g.get_file(REPO, "new.txt", "ccci/y")["text"] == "hello"
    assert g.get_file(REPO, "compose.yml", "main")["text"] == "image: nginx:1.26.2\n"


def test_unknown_ref_is_a_404(forge):
    with pytest.raises(ApiError) as err:
        gitea(forge).get_file(REPO, "compose.yml", "no-such-branch")
    assert "HTTP 404" in str(err.value) and "no branch, tag or commit no-such-branch" in str(err.value)


def test_create_pr_409_finds_the_open_one(forge):
    g = gitea(forge)
    existing = forge.add_pr(REPO, "ccci/z")
    pr, created = g.create_pr(REPO, "ccci/z", "main", "again")
    assert not created and pr["number"] == existing["number"]


def test_close_pr_accepts_201_and_200(forge):
    g = gitea(forge)
    pr = forge.add_pr(REPO, "ccci/c")
    assert g.close_pr(REPO, pr["number"])["state"] == "closed"  # the fake answers 201, like Gitea

    def answer_200(request):
        return httpx.Response(200, json={"number": 1, "state": "closed"})

    g200 = GiteaClient(GITEA, BOT, transport=httpx.MockTransport(answer_200))
    assert g200.close_pr(REPO, 1)["state"] == "closed"


def test_statuses_read_the_status_field_newest_first(forge):
    g = gitea(forge)
    sha = g.branch_sha(REPO, "main")
    forge.add_status(REPO, sha, "pending", "http://drone.test/recipe-maintainers/cc-ci/1")
    forge.tick(5)
    forge.add_status(REPO, sha, "success", "http://drone.test/recipe-maintainers/cc-ci/1")
    statuses = g.list_statuses(REPO, sha)
    assert [s["state"] for s in statuses] == ["success", "pending"]
    assert all("status" in s for s in statuses)


def test_combined_status_is_empty_string_without_statuses(forge):
    g = gitea(forge)
    sha = g.branch_sha(REPO, "main")
    assert g.combined_status(REPO, sha)["state"] == ""
    forge.add_status(REPO, sha, "failure")
    assert g.combined_status(REPO, sha)["state"] == "failure"


def test_comments_post_list_edit(forge):
    g = gitea(forge)
    pr = forge.add_pr(REPO, "ccci/k")
    c = g.post_comment(REPO, pr["number"], "!testme")
    assert c["user"]["login"] == "cc-ci-bot"
    g.edit_comment(REPO, c["id"], "edited")
    assert [x["body"] for x in g.list_comments(REPO, pr["number"])] == ["edited"]
    assert gitea(forge, OUTSIDER).post_comment(REPO, pr["number"], "!testme")["user"]["login"] == "outsider"


def test_pr_list_paginates(forge):
    g = gitea(forge)
    for i in range(55):
        forge.add_pr(REPO, f"b{i}")
    assert len(g.list_prs(REPO)) == 55
    assert g.find_open_pr(REPO, "b54", "main")["number"] == 55


def test_pr_list_under_a_page_cap_of_20(forge):
    forge.max_items = 20
    g = gitea(forge)
    for i in range(45):
        forge.add_pr(REPO, f"b{i}")
    assert sorted(p["number"] for p in g.list_prs(REPO)) == list(range(1, 46))
    pages = [httpx.URL(u).params.get("page") for m, u in forge.log if m == "GET" and "/pulls?" in u]
    assert pages == ["1", "2", "3"]  # 20 + 20 + 5: two "short" pages of a limit=50 list read on


def test_membership_follows_gitea_303(forge):
    # A member asks: 204 / 404.
    assert gitea(forge).is_org_member("recipe-maintainers", "outsider") is False
    # A non-member asks about itself: 404, no redirect.
    assert gitea(forge, OUTSIDER).is_org_member("recipe-maintainers", "outsider") is False
    # A non-member asks about someone else: 303 to the public list; a public member is a member ...
    forge.public_members["recipe-maintainers"] = {"cc-ci-bot"}
    assert gitea(forge, OUTSIDER).is_org_member("recipe-maintainers", "cc-ci-bot") is True
    # ... a private membership cannot be told: the error names the token.
    forge.public_members["recipe-maintainers"] = set()
    with pytest.raises(ApiError) as err:
        gitea(forge, OUTSIDER).is_org_member("recipe-maintainers", "cc-ci-bot")
    assert err.value.status == 303
    assert "the token's user is not a member of recipe-maintainers" in str(err.value)
    assert "check ccci_gitea_token: it must be the token of the bot" in str(err.value)


def test_set_status_and_compare_and_files(forge):
    g = gitea(forge)
    pr = forge.add_pr(REPO, "ccci/s")
    g.set_status(REPO, pr["head"]["sha"], "pending", target_url="http://d/1")
    assert g.list_statuses(REPO, pr["head"]["sha"])[0]["context"] == "cc-ci/testme"
    assert g.compare(REPO, "main", "ccci/s")["total_commits"] == 1
    assert g.pr_files(REPO, pr["number"])[0]["filename"] == "compose.yml"


def test_parse_time_and_split_repo():
    assert gitea_mu.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert gitea_mu.parse_time("2024-01-01T01:00:00+01:00") == 1704067200.0
    assert gitea_mu.parse_time("") is None
    with pytest.raises(ValueError):
        gitea_mu.split_repo("just-a-name")
