# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Gitea on loopback over real bare git repos: codes, shapes and content from git."""
from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lab import seed
from lab.config import LabConfig
from lab.gitea import GiteaService
from lab.gitea.objects import combine

TINY = "recipe-maintainers/custom-html-tiny"
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@lab.local",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@lab.local"}


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> LabConfig:
    return LabConfig.new(tmp_path_factory.mktemp("gitea"))


@pytest.fixture(scope="module")
def gitea(cfg: LabConfig) -> Iterator[GiteaService]:
    svc = GiteaService(cfg)
    seed.seed_gitea(cfg, svc.store, svc.git_root)
    svc.start()
    yield svc
    svc.stop()


def client(svc: GiteaService, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.Client(base_url=svc.url + "/api/v1", headers=headers, timeout=10)


@pytest.fixture(scope="module")
def bot(gitea: GiteaService, cfg: LabConfig) -> Iterator[httpx.Client]:
    with client(gitea, cfg.tokens["bot"]) as c:
        yield c


@pytest.fixture(scope="module")
def outsider(gitea: GiteaService, cfg: LabConfig) -> Iterator[httpx.Client]:
    with client(gitea, cfg.tokens["outsider"]) as c:
        yield c


def outsider_of(cfg: LabConfig) -> httpx.Client:
    url = f"http://127.0.0.1:{cfg.gitea_url.rsplit(':', 1)[1]}/api/v1"
    return httpx.Client(base_url=url, headers={"Authorization": f"token {cfg.tokens['outsider']}"}, timeout=10)


def bare_sha(cfg: LabConfig, repo: str, ref: str) -> str:
    return git("--git-dir", f"{cfg.state_dir}/git/{repo}.git", "rev-parse", ref).stdout.strip()


def put_file(c: httpx.Client, repo: str, path: str, text: str, branch: str, **extra: Any) -> httpx.Response:
    cur = c.get(f"/repos/{repo}/contents/{path}", params={"ref": branch})
    body = {"content": base64.b64encode(text.encode()).decode(), "branch": branch, "message": f"edit {path}",
            **extra}
    if cur.status_code == 200:
        body["sha"] = cur.json()["sha"]
    return c.put(f"/repos/{repo}/contents/{path}", json=body)


def make_branch_with_change(c: httpx.Client, repo: str, branch: str, text: str = "changed\n") -> str:
    assert c.post(f"/repos/{repo}/branches", json={"new_branch_name": branch, "old_ref_name": "main"}).status_code == 201
    r = put_file(c, repo, "README.md", text, branch)
    assert r.status_code == 200, r.text
    return r.json()["commit"]["sha"]


# -- seeded content -------------------------------------------------------------------------------
def test_seeded_mirrors_share_upstream_commits(bot: httpx.Client, cfg: LabConfig) -> None:
    for recipe, version, image in (("custom-html-tiny", "1.0.2+2.38.0", "joseluisq/static-web-server:2.38.0"),
                                   ("custom-html", "1.1.0+1.26.2", "nginx:1.26.2")):
        up = bot.get(f"/repos/coop-cloud/{recipe}/branches/main").json()["commit"]["id"]
        mirror = bot.get(f"/repos/recipe-maintainers/{recipe}/branches/main").json()["commit"]["id"]
        assert up == mirror == bare_sha(cfg, f"recipe-maintainers/{recipe}", "main")
        assert version in [t["name"] for t in bot.get(f"/repos/recipe-maintainers/{recipe}/tags").json()]
        compose = base64.b64decode(bot.get(f"/repos/recipe-maintainers/{recipe}/contents/compose.yml").json()["content"]).decode()
        assert f"image: {image}" in compose
        assert f"coop-cloud.${{STACK_NAME}}.version={version}" in compose
        for f in (".env.sample", "abra.sh", "README.md", f"release/{version}"):
            assert bot.get(f"/repos/recipe-maintainers/{recipe}/contents/{f}").status_code == 200, f
    tests = bot.get("/repos/recipe-maintainers/cc-ci/contents/tests/custom-html/test_version_header.json").json()
    assert b'"server_header": "nginx/1.26.2"' in base64.b64decode(tests["content"])
    listing = bot.get("/repos/recipe-maintainers/cc-ci/contents/tests/custom-html-tiny").json()
    assert sorted(e["name"] for e in listing) == ["test_health.json", "test_serves_index.json"]


def test_repo_user_and_commit_endpoints(bot: httpx.Client, cfg: LabConfig) -> None:
    assert bot.get("/user").json()["login"] == "cc-ci-bot"
    repo = bot.get(f"/repos/{TINY}").json()
    assert (repo["default_branch"], repo["mirror"], repo["full_name"]) == ("main", False, TINY)
    sha = bare_sha(cfg, TINY, "main")
    commit = bot.get(f"/repos/{TINY}/git/commits/{sha[:10]}").json()
    assert commit["sha"] == sha and "1.0.2+2.38.0" in commit["commit"]["message"]
    assert bot.get(f"/repos/{TINY}/git/commits/{'0' * 40}").status_code == 404
    r = bot.post(f"/repos/{TINY}/mirror-sync")
    assert (r.status_code, r.json()["message"]) == (400, "Repository is not a mirror")


# -- auth and membership --------------------------------------------------------------------------
def test_bad_token_is_401(gitea: GiteaService) -> None:
    with client(gitea, "nope") as c:
        r = c.get(f"/repos/{TINY}")
        assert r.status_code == 401 and r.json()["message"] == "user does not exist" and "url" in r.json()
    with client(gitea, None) as c:
        assert c.get("/user").status_code == 401
        assert c.get(f"/repos/{TINY}").status_code == 200  # public repo: anonymous read


def test_other_auth_forms(gitea: GiteaService, cfg: LabConfig) -> None:
    with client(gitea, None) as c:
        assert c.get("/user", params={"token": cfg.tokens["outsider"]}).json()["login"] == "outsider"
        assert c.get("/user", auth=("cc-ci-bot", cfg.tokens["bot"])).json()["login"] == "cc-ci-bot"
        assert c.get("/user", auth=("outsider", cfg.tokens["bot"])).status_code == 401
        assert c.get("/user", params={"token": "nope"}).status_code == 401


def test_membership_and_write_gate(bot: httpx.Client, outsider: httpx.Client) -> None:
    # routers/api/v1/org/member.go IsMember: a member asking gets 204/404 ...
    assert bot.get("/orgs/recipe-maintainers/members/cc-ci-bot").status_code == 204
    assert bot.get("/orgs/recipe-maintainers/members/outsider").status_code == 404
    assert bot.get("/orgs/recipe-maintainers/members/nobody").status_code == 404
    # ... a non-member asking about themselves 404, about someone else 303 to the public list,
    r = outsider.get("/orgs/recipe-maintainers/members/outsider")
    assert r.status_code == 404
    r = outsider.get("/orgs/recipe-maintainers/members/cc-ci-bot")
    assert r.status_code == 303 and r.headers["Location"] == "/api/v1/orgs/recipe-maintainers/public_members/cc-ci-bot"
    # ... where a private membership (Gitea's default) is not shown.
    assert outsider.get("/orgs/recipe-maintainers/public_members/cc-ci-bot").status_code == 404
    assert bot.get(f"/repos/{TINY}/collaborators/outsider").status_code == 404
    assert bot.get(f"/repos/{TINY}/collaborators/nobody").status_code == 422
    r = outsider.post(f"/repos/{TINY}/branches", json={"new_branch_name": "x", "old_ref_name": "main"})
    assert r.status_code == 403


# -- branches, contents, PRs ----------------------------------------------------------------------
def test_pr_lifecycle(bot: httpx.Client, cfg: LabConfig) -> None:
    head = make_branch_with_change(bot, TINY, "lab-test/pr")
    assert head == bare_sha(cfg, TINY, "lab-test/pr")
    assert bot.post(f"/repos/{TINY}/branches", json={"new_branch_name": "lab-test/pr"}).status_code == 409
    assert bot.get(f"/repos/{TINY}/branches/lab-test/pr").json()["commit"]["id"] == head

    r = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/pr", "base": "main", "title": "t", "body": "b"})
    assert r.status_code == 201, r.text
    pr = r.json()
    assert pr["head"]["sha"] == head and pr["head"]["ref"] == "lab-test/pr"
    assert pr["base"]["ref"] == "main" and pr["base"]["sha"] == bare_sha(cfg, TINY, "main")
    assert (pr["state"], pr["merged"], pr["mergeable"], pr["user"]["login"]) == ("open", False, True, "cc-ci-bot")
    assert pr["html_url"].endswith(f"/{TINY}/pulls/{pr['number']}") and pr["closed_at"] is None
    dup = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/pr", "base": "main", "title": "again"})
    assert dup.status_code == 409 and "message" in dup.json()
    files = bot.get(f"/repos/{TINY}/pulls/{pr['number']}/files").json()
    assert [(f["filename"], f["status"]) for f in files] == [("README.md", "changed")]

    # A user without write access may not merge: 405, as Gitea answers.
    assert outsider_of(cfg).post(f"/repos/{TINY}/pulls/{pr['number']}/merge", json={"do": "merge"}).status_code == 405
    closed = bot.patch(f"/repos/{TINY}/pulls/{pr['number']}", json={"state": "closed"})
    assert closed.status_code == 201
    assert (closed.json()["state"], closed.json()["merged"]) == ("closed", False)
    assert closed.json()["closed_at"]
    assert bare_sha(cfg, TINY, "main") == pr["base"]["sha"]  # nothing landed on main


def test_no_changes_is_422(bot: httpx.Client) -> None:
    assert bot.post(f"/repos/{TINY}/branches", json={"new_branch_name": "lab-test/same"}).status_code == 201
    r = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/same", "base": "main", "title": "t"})
    assert r.status_code == 422
    assert bot.delete(f"/repos/{TINY}/branches/lab-test/same").status_code == 204
    assert bot.get(f"/repos/{TINY}/branches/lab-test/same").status_code == 404
    assert bot.delete(f"/repos/{TINY}/branches/lab-test/same").status_code == 404


def test_put_new_branch_and_create(bot: httpx.Client, cfg: LabConfig) -> None:
    body = {"content": base64.b64encode(b"hello\n").decode(), "branch": "main",
            "new_branch": "lab-test/new", "message": "add hello"}
    r = bot.put(f"/repos/{TINY}/contents/hello.txt", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["commit"]["sha"] == bare_sha(cfg, TINY, "lab-test/new")
    assert bare_sha(cfg, TINY, "main") != r.json()["commit"]["sha"]  # main untouched
    stale = {**body, "branch": "lab-test/new", "sha": "0" * 40}
    stale.pop("new_branch")
    assert bot.put(f"/repos/{TINY}/contents/hello.txt", json=stale).status_code == 422
    cmp = bot.get(f"/repos/{TINY}/compare/main...lab-test/new").json()
    assert cmp["total_commits"] == 1 and cmp["commits"][0]["sha"] == r.json()["commit"]["sha"]


def test_pr_list_pagination(bot: httpx.Client) -> None:
    repo = "recipe-maintainers/custom-html"
    for i in range(3):
        make_branch_with_change(bot, repo, f"lab-test/page{i}", f"page {i}\n")
        assert bot.post(f"/repos/{repo}/pulls", json={"head": f"lab-test/page{i}", "base": "main",
                                                      "title": f"p{i}"}).status_code == 201
    r = bot.get(f"/repos/{repo}/pulls", params={"state": "open", "limit": 2})
    assert r.headers["X-Total-Count"] == "3" and len(r.json()) == 2 and 'rel="next"' in r.headers["Link"]
    assert [p["number"] for p in r.json()] == [3, 2]
    r2 = bot.get(f"/repos/{repo}/pulls", params={"state": "open", "limit": 2, "page": 2})
    assert [p["number"] for p in r2.json()] == [1]
    assert len(bot.get(f"/repos/{repo}/pulls", params={"limit": 500}).json()) == 3  # capped, not refused
    assert bot.get(f"/repos/{repo}/pulls", params={"state": "closed"}).json() == []


# -- comments -------------------------------------------------------------------------------------
def test_comments(bot: httpx.Client, outsider: httpx.Client) -> None:
    make_branch_with_change(bot, TINY, "lab-test/comments")
    n = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/comments", "base": "main", "title": "c"}).json()["number"]
    r = outsider.post(f"/repos/{TINY}/issues/{n}/comments", json={"body": "looks good"})
    assert r.status_code == 201
    c = r.json()
    assert c["user"]["login"] == "outsider" and c["body"] == "looks good"
    assert c["html_url"].endswith(f"/pulls/{n}#issuecomment-{c['id']}") and c["created_at"] and c["updated_at"]
    mine = bot.post(f"/repos/{TINY}/issues/{n}/comments", json={"body": "cc-ci: run started"}).json()
    edited = bot.patch(f"/repos/{TINY}/issues/comments/{mine['id']}", json={"body": "### cc-ci results: PASS"})
    assert edited.status_code == 200 and edited.json()["body"] == "### cc-ci results: PASS"
    assert outsider.patch(f"/repos/{TINY}/issues/comments/{mine['id']}", json={"body": "x"}).status_code == 403
    listed = bot.get(f"/repos/{TINY}/issues/{n}/comments").json()
    assert [x["id"] for x in listed] == [c["id"], mine["id"]]
    assert bot.get(f"/repos/{TINY}/issues/{n}/comments", params={"since": "2999-01-01T00:00:00Z"}).json() == []
    assert bot.get(f"/repos/{TINY}/issues/{n}/comments", params={"before": "2000-01-01T00:00:00Z"}).json() == []
    assert len(bot.get(f"/repos/{TINY}/issues/{n}/comments", params={"since": c["created_at"]}).json()) == 2
    with httpx.Client(base_url=str(bot.base_url)) as anon:
        assert anon.post(f"/repos/{TINY}/issues/{n}/comments", json={"body": "x"}).status_code == 401


# -- statuses -------------------------------------------------------------------------------------
def test_statuses_and_combined(bot: httpx.Client, outsider: httpx.Client) -> None:
    sha = make_branch_with_change(bot, TINY, "lab-test/status")
    combined = bot.get(f"/repos/{TINY}/commits/{sha}/status").json()
    assert (combined["state"], combined["total_count"], combined["statuses"]) == ("", 0, [])
    r = bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "pending", "context": "cc-ci/testme",
                                                        "target_url": "http://drone/x/1", "description": "d"})
    assert r.status_code == 201
    st = r.json()
    assert st["status"] == "pending" and "state" not in st and st["context"] == "cc-ci/testme"
    assert st["creator"]["login"] == "cc-ci-bot" and st["target_url"] == "http://drone/x/1"
    assert bot.get(f"/repos/{TINY}/commits/lab-test/status/status").json()["state"] == "pending"
    bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "success", "context": "cc-ci/testme"})
    bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "warning", "context": "other"})
    combined = bot.get(f"/repos/{TINY}/commits/{sha}/status").json()
    assert (combined["state"], combined["sha"], combined["total_count"]) == ("success", sha, 2)
    listed = bot.get(f"/repos/{TINY}/commits/{sha}/statuses").json()
    assert [s["status"] for s in listed] == ["warning", "success", "pending"]  # newest first, all kept
    bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "error", "context": "third"})
    assert bot.get(f"/repos/{TINY}/commits/{sha}/status").json()["state"] == "failure"
    assert bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "bogus"}).status_code == 422
    assert outsider.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "success"}).status_code == 403


def test_combine_rules() -> None:
    assert combine([]) == ""
    assert combine(["success", "skipped", "warning"]) == "success"
    assert combine(["success", "pending"]) == "pending"
    assert combine(["pending", "failure"]) == "failure"
    assert combine(["success", "error"]) == "failure"


# -- raw quirk ------------------------------------------------------------------------------------
def test_raw_falls_back_for_short_ref(bot: httpx.Client, cfg: LabConfig) -> None:
    sha = make_branch_with_change(bot, TINY, "lab-test/raw", "on the branch\n")
    assert bot.get(f"/repos/{TINY}/raw/README.md", params={"ref": sha}).text == "on the branch\n"
    assert bot.get(f"/repos/{TINY}/raw/README.md", params={"ref": "lab-test/raw"}).text == "on the branch\n"
    main_text = bot.get(f"/repos/{TINY}/raw/README.md", params={"ref": "main"}).text
    assert main_text.startswith("# custom-html-tiny")
    # The box's quirk: a short SHA silently reads the default branch.
    assert bot.get(f"/repos/{TINY}/raw/README.md", params={"ref": sha[:8]}).text == main_text
    assert bot.get(f"/repos/{TINY}/contents/README.md", params={"ref": "no-such-ref"}).status_code == 404


# -- git over HTTP --------------------------------------------------------------------------------
def test_git_clone_and_push_move_pr_head(bot: httpx.Client, gitea: GiteaService, cfg: LabConfig,
                                         tmp_path: Path) -> None:
    make_branch_with_change(bot, TINY, "lab-test/push")
    n = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/push", "base": "main", "title": "p"}).json()["number"]
    work = tmp_path / "wc"
    git("clone", "-q", f"{gitea.url}/{TINY}.git", str(work))
    git("checkout", "-q", "lab-test/push", cwd=work)
    (work / "compose.yml").write_text((work / "compose.yml").read_text().replace("2.38.0", "2.39.0"))
    git("commit", "-qam", "bump static-web-server to 2.39.0", cwd=work)
    new_sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()

    anon = git("push", "origin", "lab-test/push", cwd=work, check=False)
    assert anon.returncode != 0  # 401: git asks for credentials, none available
    host = gitea.url.removeprefix("http://")
    stranger = git("push", f"http://outsider:{cfg.tokens['outsider']}@{host}/{TINY}.git", "lab-test/push",
                   cwd=work, check=False)
    assert stranger.returncode != 0 and "403" in stranger.stderr
    ok = git("push", f"http://cc-ci-bot:{cfg.tokens['bot']}@{host}/{TINY}.git", "lab-test/push", cwd=work,
             check=False)
    assert ok.returncode == 0, ok.stderr
    pr = bot.get(f"/repos/{TINY}/pulls/{n}").json()
    assert pr["head"]["sha"] == new_sha
    assert {f["filename"] for f in bot.get(f"/repos/{TINY}/pulls/{n}/files").json()} == {"README.md", "compose.yml"}


def test_push_without_auth_gets_401(gitea: GiteaService) -> None:
    r = httpx.get(f"{gitea.url}/{TINY}.git/info/refs", params={"service": "git-receive-pack"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    assert httpx.get(f"{gitea.url}/{TINY}.git/info/refs", params={"service": "git-upload-pack"}).status_code == 200


# -- Gitea's shapes and behaviours the checks rely on (FACTS.md §2a) ------------------------------
def test_pr_head_ref_after_the_branch_is_deleted(bot: httpx.Client, cfg: LabConfig) -> None:
    head = make_branch_with_change(bot, TINY, "lab-test/gone", "gone\n")
    n = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/gone", "base": "main", "title": "g"}).json()["number"]
    assert bot.patch(f"/repos/{TINY}/pulls/{n}", json={"state": "closed"}).status_code == 201
    assert bot.delete(f"/repos/{TINY}/branches/lab-test/gone").status_code == 204
    pr = bot.get(f"/repos/{TINY}/pulls/{n}").json()
    # services/convert/pull.go: the ref turns into the PR's own ref; the label keeps the name.
    assert (pr["head"]["ref"], pr["head"]["label"], pr["head"]["sha"]) == (f"refs/pull/{n}/head", "lab-test/gone", head)
    listed = [p for p in bot.get(f"/repos/{TINY}/pulls", params={"state": "closed", "limit": 50}).json()
              if p["number"] == n]
    assert listed[0]["head"]["ref"] == f"refs/pull/{n}/head"


def test_merge_through_gitea_route(bot: httpx.Client, cfg: LabConfig) -> None:
    head = make_branch_with_change(bot, TINY, "lab-test/merge", "merged\n")
    base_before = bare_sha(cfg, TINY, "main")
    pr = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/merge", "base": "main", "title": "m"}).json()
    n = pr["number"]
    assert (pr["merged"], pr["merged_at"], pr["merge_commit_sha"], pr["merged_by"]) == (False, None, None, None)
    assert bot.get(f"/repos/{TINY}/pulls/{n}/merge").status_code == 404
    stale = bot.post(f"/repos/{TINY}/pulls/{n}/merge", json={"do": "merge", "head_commit_id": "0" * 40})
    assert stale.status_code == 409
    assert bot.post(f"/repos/{TINY}/pulls/{n}/merge", json={"do": "squash"}).status_code == 405
    r = bot.post(f"/repos/{TINY}/pulls/{n}/merge", json={"do": "merge", "delete_branch_after_merge": True})
    assert r.status_code == 200 and r.content == b""
    merged = bot.get(f"/repos/{TINY}/pulls/{n}").json()
    main = bare_sha(cfg, TINY, "main")
    assert merged["merged"] is True and merged["state"] == "closed" and merged["merged_at"] and merged["closed_at"]
    assert merged["merge_commit_sha"] == main != base_before
    assert merged["merged_by"]["login"] == "cc-ci-bot"
    # A real two-parent merge commit on the base branch; the head branch deleted as asked.
    parents = git("--git-dir", f"{cfg.state_dir}/git/{TINY}.git", "rev-list", "--parents", "-n1", main).stdout.split()
    assert parents[1:] == [base_before, head]
    assert merged["head"]["ref"] == f"refs/pull/{n}/head" and merged["head"]["label"] == "lab-test/merge"
    assert bot.get(f"/repos/{TINY}/pulls/{n}/merge").status_code == 204
    assert [f["filename"] for f in bot.get(f"/repos/{TINY}/pulls/{n}/files").json()] == ["README.md"]
    # Merged once: 405 again; a merged PR cannot be reopened.
    assert bot.post(f"/repos/{TINY}/pulls/{n}/merge", json={"do": "merge"}).status_code == 405
    assert bot.patch(f"/repos/{TINY}/pulls/{n}", json={"state": "open"}).status_code == 409


def test_merge_refusals(bot: httpx.Client, cfg: LabConfig) -> None:
    make_branch_with_change(bot, TINY, "lab-test/closed-merge", "closed\n")
    body = {"head": "lab-test/closed-merge", "base": "main", "title": "c"}
    n = bot.post(f"/repos/{TINY}/pulls", json=body).json()["number"]
    bot.patch(f"/repos/{TINY}/pulls/{n}", json={"state": "closed"})
    assert bot.post(f"/repos/{TINY}/pulls/{n}/merge", json={"do": "merge"}).status_code == 404  # closed
    # Two branches changing the same line: the second merge conflicts (409), main keeps the first.
    make_branch_with_change(bot, TINY, "lab-test/c1", "one\n")
    make_branch_with_change(bot, TINY, "lab-test/c2", "two\n")
    n1 = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/c1", "base": "main", "title": "1"}).json()["number"]
    n2 = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/c2", "base": "main", "title": "2"}).json()["number"]
    assert bot.post(f"/repos/{TINY}/pulls/{n1}/merge", json={"do": "merge"}).status_code == 200
    assert bot.get(f"/repos/{TINY}/pulls/{n2}").json()["mergeable"] is False
    assert bot.post(f"/repos/{TINY}/pulls/{n2}/merge", json={"do": "merge"}).status_code == 409


def test_full_shapes(bot: httpx.Client, cfg: LabConfig) -> None:
    repo = bot.get(f"/repos/{TINY}").json()
    owner = repo["owner"]  # a full User, also for an org
    assert owner["login"] == "recipe-maintainers" and {"email", "is_admin", "visibility", "created"} <= set(owner)
    assert "username" not in owner and "username" not in bot.get("/user").json()
    branch = bot.get(f"/repos/{TINY}/branches/main").json()
    assert branch["commit"]["verification"]["reason"] == "gpg.error.not_signed_commit"
    cmp = bot.get(f"/repos/{TINY}/compare/1.0.0+2.36.0...main").json()
    assert set(cmp) == {"commits", "total_commits"}  # no top-level files in 1.27
    assert cmp["commits"][0]["files"] and cmp["commits"][0]["stats"]["total"] >= 1
    make_branch_with_change(bot, TINY, "lab-test/shape", "shape\n")
    pr = bot.post(f"/repos/{TINY}/pulls", json={"head": "lab-test/shape", "base": "main", "title": "s",
                                                "body": "one"}).json()
    assert pr["content_version"] == 0 and pr["requested_reviewers"] == []
    edited = bot.patch(f"/repos/{TINY}/pulls/{pr['number']}", json={"body": "two"}).json()
    assert edited["content_version"] == 1
    contents = bot.get(f"/repos/{TINY}/contents/compose.yml").json()
    assert contents["last_commit_sha"] and contents["last_committer_date"]


def test_page_cap_and_link_headers(cfg: LabConfig, tmp_path_factory: pytest.TempPathFactory) -> None:
    capped = LabConfig.new(tmp_path_factory.mktemp("gitea-cap"), max_response_items=2)
    svc = GiteaService(capped)
    seed.seed_gitea(capped, svc.store, svc.git_root)
    svc.start()
    try:
        with client(svc, capped.tokens["bot"]) as c:
            assert c.get("/settings/api").json()["max_response_items"] == 2
            r = c.get(f"/repos/{TINY}/branches", params={"limit": 50})
            assert len(r.json()) == 1 and r.headers["X-Total-Count"] == "1" and "Link" not in r.headers
            r = c.get(f"/repos/{TINY}/tags", params={"limit": 50})
            total = int(r.headers["X-Total-Count"])
            assert total > 2 and len(r.json()) == 2  # capped at MAX_RESPONSE_ITEMS, not refused
            links = httpx.Response(200, headers={"Link": r.headers["Link"]}).links
            nxt = httpx.URL(links["next"]["url"])
            assert (nxt.params["page"], nxt.params["limit"]) == ("2", "50")  # the query as asked, page+1
            assert httpx.URL(links["last"]["url"]).params["page"] == str(-(-total // 2))
            seen, url = [], f"/repos/{TINY}/tags?limit=50"
            while url:
                page = c.get(url)
                seen += [t["name"] for t in page.json()]
                url = page.links.get("next", {}).get("url")
            assert len(seen) == total == len(set(seen))
    finally:
        svc.stop()
