# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_ledger: append before create, idempotent, mark done, read; the sweep's format."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import run_ledger


def run_module(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        run_ledger.main()
    return json.loads(capsys.readouterr().out)


def test_append_idempotent_done_read(tmp_path, capsys):
    path = tmp_path / "state" / "ledger.jsonl"
    pr = {"kind": "pr", "repo": "recipe-maintainers/custom-html-tiny", "ref": "ccci/v3"}
    deploy = {"kind": "deploy", "domain": "custom-html-tiny-3.lab.local"}

    check = run_module(dict(path=str(path), entry=pr, _ansible_check_mode=True), capsys)
    assert check["changed"] is True and not path.exists()

    first = run_module(dict(path=str(path), entry=pr), capsys)
    assert first["changed"] is True and first["entry"]["time"].endswith("Z")
    line = json.loads(path.read_text().splitlines()[0])
    assert line == {**pr, "created_by": "ccci", "time": first["entry"]["time"]}  # flat, like gitea.ledger_append
    assert run_module(dict(path=str(path), entry=pr), capsys)["changed"] is False
    run_module(dict(path=str(path), entry=deploy), capsys)

    read = run_module(dict(path=str(path), state="read"), capsys)
    assert [e["kind"] for e in read["open"]] == ["pr", "deploy"] and read["changed"] is False

    done_check = run_module(dict(path=str(path), state="absent", match={"kind": "deploy"}, _ansible_check_mode=True),
                            capsys)
    assert done_check["changed"] is True and len(path.read_text().splitlines()) == 2
    done = run_module(dict(path=str(path), state="absent", match={"kind": "deploy"}), capsys)
    assert done["changed"] is True and done["matched"][0]["domain"] == deploy["domain"]
    assert run_module(dict(path=str(path), state="absent", match={"kind": "deploy"}), capsys)["changed"] is False

    read = run_module(dict(path=str(path), state="read", match={"kind": "deploy"}), capsys)
    assert read["entries"][0]["done"] is True and read["open"] == []
    # a done entry recorded again is a new resource
    assert run_module(dict(path=str(path), entry=deploy), capsys)["changed"] is True


def test_torn_line_and_missing_file(tmp_path, capsys):
    path = tmp_path / "ledger.jsonl"
    assert run_module(dict(path=str(path), state="read"), capsys)["entries"] == []
    path.write_text('{"kind": "branch", "repo": "a/b", "ref": "x"}\n{"kind": "pr", "rep')
    read = run_module(dict(path=str(path), state="read"), capsys)
    assert [e["kind"] for e in read["entries"]] == ["branch"]


def test_errors(tmp_path, capsys):
    res = run_module(dict(path=str(tmp_path / "l"), state="absent"), capsys)
    assert res["failed"] is True and "match" in res["msg"]
    res = run_module(dict(path=str(tmp_path / "l"), entry={"kind": "ledger_done"}), capsys)
    assert res["failed"] is True and "reserved" in res["msg"]
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = run_module(dict(path=str(blocker / "ledger.jsonl"), entry={"kind": "pr"}), capsys)
    assert res["failed"] is True and res["msg"].endswith("check the path (ccci_ledger)")
