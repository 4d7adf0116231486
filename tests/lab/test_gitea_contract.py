# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Gitea's answers against Gitea's swagger, in-process: a representative session of the
calls the collection, bridge, helper and agent make keeps the contract, and the validator bites
when a lab answer breaks it. The full run's recording is tests/integration/test_installed.py."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.tests.contract.gitea_swagger import GiteaContract, load

from lab import seed
from lab.config import LabConfig
from lab.gitea import GiteaService
from lab.gitea.api import GiteaApi, Response
from lab.gitea.maintainer import Maintainer
from lab.gitea.recorder import Recorder

TINY = "recipe-maintainers/custom-html-tiny"
UP = "coop-cloud/custom-html-tiny"


@pytest.fixture(scope="module")
def contract() -> GiteaContract:
    return GiteaContract()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[GiteaService, LabConfig, Path]]:
    cfg = LabConfig.new(tmp_path / "lab", max_response_items=2)
    svc = GiteaService(cfg)
    record = tmp_path / "gitea.jsonl"
    svc.recorder = Recorder(str(record))
    seed.seed_gitea(cfg, svc.store, svc.git_root)
    svc.start()
    yield svc, cfg, record
    svc.stop()


def session(svc: GiteaService, cfg: LabConfig) -> None:
    """What the collection, the bridge, the helper and the agent ask, in the order a run asks it."""
    bot = httpx.Client(base_url=f"{svc.url}/api/v1", headers={"Authorization": f"token {cfg.tokens['bot']}"})
    out = httpx.Client(base_url=f"{svc.url}/api/v1", headers={"Authorization": f"token {cfg.tokens['outsider']}"})
    with bot, out:
        bot.get("/version")
        bot.get("/user")
        bot.get("/orgs/recipe-maintainers/members/cc-ci-bot")
        bot.get("/orgs/recipe-maintainers/members/outsider")
        out.get("/orgs/recipe-maintainers/members/outsider")
        out.get("/orgs/recipe-maintainers/members/cc-ci-bot")
        out.get("/orgs/recipe-maintainers/public_members/cc-ci-bot")
        bot.get(f"/repos/{TINY}")
        bot.get(f"/repos/{TINY}/branches", params={"page": 1, "limit": 50})
        bot.get(f"/repos/{TINY}/tags", params={"page": 2, "limit": 50})
        main = bot.get(f"/repos/{TINY}/branches/main").json()["commit"]["id"]
        bot.get(f"/repos/{TINY}/git/commits/{main}")
        bot.get(f"/repos/{TINY}/contents/compose.yml", params={"ref": main})
        bot.get(f"/repos/{TINY}/contents", params={"ref": "main"})
        bot.get(f"/repos/{TINY}/raw/compose.yml", params={"ref": "main"})
        bot.post(f"/repos/{TINY}/branches", json={"new_branch_name": "ccci/contract", "old_ref_name": "main"})
        put = bot.put(f"/repos/{TINY}/contents/README.md", json={
            "content": base64.b64encode(b"contract\n").decode(), "message": "edit", "branch": "ccci/contract",
            "sha": bot.get(f"/repos/{TINY}/contents/README.md").json()["sha"]}).json()
        bot.post(f"/repos/{TINY}/contents/NEW.md", json={
            "content": base64.b64encode(b"new\n").decode(), "message": "add", "branch": "ccci/contract"})
        pr = bot.post(f"/repos/{TINY}/pulls", json={"head": "ccci/contract", "base": "main", "title": "t",
                                                    "body": "b"}).json()
        n, sha = pr["number"], put["commit"]["sha"]
        bot.get(f"/repos/{TINY}/pulls", params={"state": "all", "page": 1, "limit": 50})
        bot.get(f"/repos/{TINY}/pulls/{n}")
        bot.get(f"/repos/{TINY}/pulls/{n}/files", params={"page": 1, "limit": 50})
        bot.get(f"/repos/{TINY}/compare/main...{sha}")
        bot.get(f"/repos/{TINY}/commits/{sha}/status")
        c = out.post(f"/repos/{TINY}/issues/{n}/comments", json={"body": "!testme"}).json()
        bot.get(f"/repos/{TINY}/issues/{n}/comments", params={"since": "2000-01-01T00:00:00Z"})
        bot.patch(f"/repos/{TINY}/issues/comments/{c['id']}", json={"body": "edited"})
        bot.post(f"/repos/{TINY}/statuses/{sha}", json={"state": "pending", "context": "cc-ci/testme",
                                                        "target_url": "http://drone/1", "description": "d"})
        bot.get(f"/repos/{TINY}/commits/{sha}/statuses", params={"page": 1, "limit": 50})
        bot.get(f"/repos/{TINY}/commits/{sha}/status")
        bot.get(f"/repos/{TINY}/pulls/{n}/merge")
        bot.patch(f"/repos/{TINY}/pulls/{n}", json={"state": "closed"})
        bot.delete(f"/repos/{TINY}/branches/ccci/contract")
        bot.get(f"/repos/{TINY}/pulls/{n}")
        bot.get(f"/repos/{TINY}/pulls/99")
        bot.get(f"/repos/{TINY}/branches/nope")
    # A human merges upstream through Gitea's merge route (the V7 seed).
    Maintainer(cfg).merge_change(UP, "maintainer/contract", "Land a change", {"CHANGE.md": "x\n"})


def test_a_session_keeps_the_contract(lab, contract: GiteaContract) -> None:
    svc, cfg, record = lab
    session(svc, cfg)
    exchanges = load(record)
    report = contract.check_all(exchanges)
    assert report.checked >= 40
    assert "POST /repos/{owner}/{repo}/pulls/{index}/merge" in report.operations
    assert report.operations["GET /orgs/{org}/members/{username}"] == {204, 303, 404}
    assert [str(v) for v in report.violations] == []


def test_the_validator_bites(lab, contract: GiteaContract, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two realistic lies: a PR without ``merged``, and the membership redirect as a 302."""
    svc, cfg, record = lab
    real_pr_json = GiteaApi._pr_json

    def pr_without_merged(self, *args, **kwargs):
        data = real_pr_json(self, *args, **kwargs)
        data.pop("merged")
        return data

    monkeypatch.setattr(GiteaApi, "_pr_json", pr_without_merged)

    def redirect_302(req, org, login):
        return Response(302, b"", {"Location": f"/api/v1/orgs/{org}/public_members/{login}"})

    monkeypatch.setattr(svc.api, "routes", [(m, rx, redirect_302 if fn == svc.api.org_member else fn)
                                            for m, rx, fn in svc.api.routes])
    bot = httpx.Client(base_url=f"{svc.url}/api/v1", headers={"Authorization": f"token {cfg.tokens['bot']}"})
    with bot:
        assert bot.get(f"/repos/{TINY}/pulls", params={"state": "all"}).status_code == 200
        bot.post(f"/repos/{TINY}/branches", json={"new_branch_name": "ccci/bite", "old_ref_name": "main"})
        change = {"content": base64.b64encode(b"b\n").decode(), "branch": "ccci/bite", "message": "b"}
        bot.put(f"/repos/{TINY}/contents/BITE.md", json=change)
        assert bot.post(f"/repos/{TINY}/pulls", json={"head": "ccci/bite", "base": "main", "title": "b"}).status_code == 201
        assert bot.get("/orgs/recipe-maintainers/members/outsider").status_code == 302
    found = [str(v) for v in contract.check_all(load(record)).violations]
    assert any("POST /api/v1/repos/recipe-maintainers/custom-html-tiny/pulls → 201" in v
               and "'merged' is a required property" in v for v in found), found
    assert any("→ 302: status 302 not documented" in v for v in found), found


def test_the_validator_names_invented_fields_nulls_and_unknown_routes(contract: GiteaContract) -> None:
    def check(path: str, status: int, response, method: str = "GET", query=None) -> list[str]:
        return contract.check({"kind": "api", "method": method, "path": f"/api/v1{path}", "status": status,
                               "query": query or {}, "request": None, "response": response})

    # compare in 1.27 has no top-level files (FACTS.md §2a).
    assert any("'files' was unexpected" in e
               for e in check("/repos/o/r/compare/main...dev", 200, {"commits": [], "total_commits": 0, "files": []}))
    assert check("/repos/o/r/compare/main...dev", 200, {"commits": [], "total_commits": 0}) == []
    # A branch whose commit.verification is null (what the lab sent before) is not Gitea's shape.
    assert any("verification" in e for e in check("/repos/o/r/branches/main", 200, {"name": "main", "commit": {
        "id": "a", "message": "", "url": "", "author": None, "committer": None, "verification": None,
        "timestamp": "", "added": [], "removed": [], "modified": []}}))
    assert check("/repos/o/r/nonsense", 200, {}) == ["no such path in the swagger"]
    assert any("not declared" in e for e in check("/repos/o/r/pulls", 200, [], query={"per_page": ["5"]}))
    # The allow-list: an empty combined status says state "" in real Gitea.
    empty = {"state": "", "sha": "a", "total_count": 0, "statuses": [], "commit_url": "", "url": "",
             "repository": None}
    assert [e for e in check("/repos/o/r/commits/a/status", 200, empty) if "state" in e] == []
