# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger's one home: write before create, a reader that skips and reports what it cannot use,
compaction that keeps what was appended meanwhile; and the sweep that reads it (gitea_sweep)."""
from __future__ import annotations

import json

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger
from ansible_collections.coopcloud.cc_ci.plugins.modules import gitea_sweep
from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import (
    FakeForge,
    gitea_args,
    run_module,
)

REPO = "recipe-maintainers/custom-html"


def test_append_writes_one_json_line_before_create(tmp_path):
    path = tmp_path / "sub" / "ledger.jsonl"
    ledger.append(str(path), {"kind": "pr", "repo": REPO, "head": "ccci/x"})
    ledger.append(str(path), {"kind": "branch", "repo": REPO, "ref": "ccci/x"})
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["pr", "branch"]
    assert lines[0]["created_by"] == "ccci" and lines[0]["time"].endswith("Z")
    assert ledger.append(None, {"kind": "pr"}) is None


def test_reader_skips_and_reports_every_unusable_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b'{"kind": "branch", "repo": "a/b", "ref": "x"}\n'
                     b'[1,2,3]\n'
                     b'"just a string"\n'
                     b'{"kind": "branch", "repo": "a/b", "ref": "\xff\xfe"}\n'
                     b'\n'
                     b'{"kind": "pr", "rep')
    read = ledger.read(str(path))
    assert [e["ref"] for e in read.entries] == ["x"]
    assert read.skipped == ["line 2: a JSON list, not an object: skipped",
                            "line 3: a JSON str, not an object: skipped",
                            "line 4: not UTF-8 (byte 42): skipped",
                            "line 6: not JSON (cut short, e.g. by kill -9): skipped"]
    # the next write never glues onto the line a kill cut short
    ledger.append(str(path), {"kind": "branch", "repo": "a/b", "ref": "y"})
    assert [e["ref"] for e in ledger.read(str(path)).entries] == ["x", "y"]


def test_done_markers_and_compaction_keep_what_was_appended_since(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    ledger.append(path, {"kind": "deploy", "domain": "a"})
    ledger.append(path, {"kind": "deploy", "domain": "b"})
    ledger.mark_done(path, {"domain": "a"})
    read = ledger.read(path)
    assert [(e["domain"], e["done"]) for e in read.entries] == [("a", True), ("b", False)]
    ledger.append(path, {"kind": "deploy", "domain": "c"})  # appended after the read
    assert ledger.compact(path, read.mark, keep=[read.entries[1]]) is True
    assert [e["domain"] for e in ledger.read(path).entries] == ["b", "c"]
    # a mark from before a rewrite no longer matches: nothing is dropped twice
    assert ledger.compact(path, read.mark) is False
    assert [e["domain"] for e in ledger.read(path).entries] == ["b", "c"]
    assert ledger.compact(str(tmp_path / "none.jsonl"), {"lines": 1, "digest": "x"}) is False


def _pr(forge, repo, head, path):
    """A PR the run opened the way gitea_pr records it: before create, then with its number."""
    ledger.append(path, {"kind": "branch", "repo": repo, "ref": head})
    ledger.append(path, {"kind": "pr", "repo": repo, "head": head, "base": "main"})
    pr = forge.add_pr(repo, head)
    ledger.append(path, {"kind": "pr", "repo": repo, "head": head, "base": "main", "number": pr["number"]})
    return pr


def test_sweep_finds_prs_by_number_when_the_branch_is_gone(tmp_path, monkeypatch):
    forge = FakeForge()
    path = str(tmp_path / "ledger.jsonl")
    pr = _pr(forge, REPO, "ccci/v1", path)
    # real Gitea once the head branch is deleted (FACTS.md 2a)
    del forge.repos[REPO]["branches"]["ccci/v1"]
    pr["head"]["ref"] = f"refs/pull/{pr['number']}/head"
    result = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert not result["failed"] and result["closed"][0]["number"] == pr["number"]
    assert pr["state"] == "closed" and result["remaining"] == [] and result["errors"] == []
    assert not any("refs/pull" in b for b in result["deleted_branches"])


def test_gone_repo_pr_and_bad_lines_are_notes_and_the_sweep_goes_on(tmp_path, monkeypatch):
    forge = FakeForge()
    path = str(tmp_path / "ledger.jsonl")
    with open(path, "ab") as handle:
        handle.write(b'[1,2,3]\n\xff\n{"kind": "pr", "repo": "no-slash", "head": "x", "number": 3}\n')
    ledger.append(path, {"kind": "pr", "repo": "recipe-maintainers/gone", "head": "ccci/a", "number": 1})
    ledger.append(path, {"kind": "pr", "repo": REPO, "head": "ccci/b", "number": 99})
    mine = _pr(forge, REPO, "ccci/c", path)
    result = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert not result["failed"] and result["errors"] == []
    assert mine["state"] == "closed" and result["remaining"] == []
    assert len(result["ledger_skipped"]) == 2
    notes = " | ".join(result["notes"])
    assert "recipe-maintainers/gone" in notes and f"{REPO}#99 is gone" in notes and "no-slash" in notes


def test_a_clean_sweep_compacts_so_the_next_costs_what_is_open(tmp_path, monkeypatch):
    forge = FakeForge()
    path = str(tmp_path / "ledger.jsonl")
    for n in range(6):
        _pr(forge, REPO, f"ccci/run1-{n}", path)
    first = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert len(first["closed"]) == 6 and first["compacted"] is True
    assert ledger.read(path).entries == []
    _pr(forge, REPO, "ccci/run2", path)
    second = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert [c["number"] for c in second["closed"]] == [7]
    # one PR and one branch: read, close, delete, read back; never the six settled ones again
    assert second["lookups"] <= 7 < first["lookups"]


def test_an_unclean_sweep_keeps_the_ledger_and_check_mode_writes_nothing(tmp_path, monkeypatch):
    forge = FakeForge()
    path = str(tmp_path / "ledger.jsonl")
    pr = _pr(forge, REPO, "ccci/x", path)
    before = open(path, encoding="utf-8").read()
    check = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch, check_mode=True)
    assert check["closed"][0]["number"] == pr["number"] and pr["state"] == "open" and check["compacted"] is False
    forge.fail_next = [500] * 4  # the close is refused through every retry
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    result = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert result["errors"] and result["compacted"] is False
    assert open(path, encoding="utf-8").read() == before


def test_a_pr_without_its_number_is_found_by_its_branch(tmp_path, monkeypatch):
    forge = FakeForge()
    path = str(tmp_path / "ledger.jsonl")
    ledger.append(path, {"kind": "pr", "repo": REPO, "head": "ccci/killed", "base": "main"})
    pr = forge.add_pr(REPO, "ccci/killed")  # the run died before the create call's answer
    result = run_module(gitea_sweep.main, gitea_args(ledger=path), forge, monkeypatch)
    assert result["closed"][0]["number"] == pr["number"] and pr["state"] == "closed"
