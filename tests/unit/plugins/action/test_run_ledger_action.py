# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_ledger's action plugin writes and reads the ledger in the controller's worker, as the module would."""
from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.coopcloud.cc_ci.plugins.action import run_ledger as action
from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger


def run(args: dict, check_mode: bool = False) -> dict:
    task = MagicMock(args=args, async_val=0, check_mode=check_mode)
    plugin = action.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return plugin.run(task_vars={})


def test_present_is_appended_once_then_read_and_marked_done(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    entry = {"kind": "agent_run", "check": "V3", "repos": ["a/b"]}
    first = run({"path": path, "entry": entry})
    assert first["changed"] is True and first["entry"]["created_by"] == "ccci"
    assert run({"path": path, "entry": entry})["changed"] is False  # already open: not appended again
    assert [json.loads(x)["check"] for x in open(path, encoding="utf-8")] == ["V3"]
    read = run({"path": path, "state": "read", "match": {"check": "V3"}})
    assert [e["kind"] for e in read["open"]] == ["agent_run"]
    assert run({"path": path, "state": "absent", "match": {"check": "V3"}}, check_mode=True)["changed"] is True
    assert ledger.read(path).open  # check mode marked nothing
    assert run({"path": path, "state": "absent", "match": {"check": "V3"}})["changed"] is True
    assert not ledger.read(path).open


def test_bad_arguments_and_reserved_kinds_fail_with_one_line(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    with pytest.raises(AnsibleActionFail, match="state is present but all of the following are missing: entry"):
        run({"path": path})
    reserved = run({"path": path, "entry": {"kind": ledger.DONE}})
    assert reserved["failed"] and "reserved" in reserved["msg"]
    (tmp_path / "a-file").write_text("")
    unwritable = run({"path": str(tmp_path / "a-file" / "ledger.jsonl"), "entry": {"kind": "pr"}})
    assert unwritable["failed"] and "check the path (ccci_ledger)" in unwritable["msg"]
