# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""gitea_file_info: a file at a branch's full SHA, of one repository or of several in one run."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import gitea_args, run_module

from ansible_collections.coopcloud.cc_ci.plugins.modules import gitea_file_info

MIRROR = "recipe-maintainers/custom-html"
UPSTREAM = "coop-cloud/custom-html"


def test_repos_reads_each_repository_at_its_own_sha_as_a_loop_would(forge, monkeypatch):
    newer = forge.commit({"compose.yml": "image: nginx:1.27.3\n"})
    forge.add_repo(UPSTREAM, {"main": newer})
    both = run_module(gitea_file_info.main, gitea_args(repos=[MIRROR, UPSTREAM], path="compose.yml"), forge,
                      monkeypatch)
    assert not both.get("failed"), both.get("msg")
    assert [r["item"] for r in both["results"]] == [MIRROR, UPSTREAM]
    assert both["results"][1] == {"item": UPSTREAM, "exists": True, "content": "image: nginx:1.27.3\n", "sha": newer}
    alone = run_module(gitea_file_info.main, gitea_args(repo=MIRROR, path="compose.yml"), forge, monkeypatch)
    assert {k: alone[k] for k in ("exists", "content", "sha")} == \
        {k: v for k, v in both["results"][0].items() if k != "item"}
    assert alone["sha"] != newer and alone["content"] == "image: nginx:1.26.2\n"


def test_a_missing_file_is_not_there_in_every_repository(forge, monkeypatch):
    result = run_module(gitea_file_info.main, gitea_args(repos=[MIRROR], path="nope.yml"), forge, monkeypatch)
    assert result["exists"] is False and result["results"][0]["exists"] is False
