# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_result: predicates, inputs judged by the claims module, the expectations alias, redaction."""
from __future__ import annotations

import dataclasses
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import check_registry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS
from ansible_collections.coopcloud.cc_ci.plugins.modules import check_result

# The tests of check_result's own rules use a check whose claims module is taken away (every check has
# one): only the predicates and expectations given to the task are judged.
NO_CLAIMS = "V7"


@pytest.fixture
def no_claims(monkeypatch) -> None:
    registry = {c.id: c for c in CHECKS}
    registry[NO_CLAIMS] = dataclasses.replace(registry[NO_CLAIMS], claims=None)
    monkeypatch.setattr(check_registry, "_BY_ID", registry)


def run_module(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        check_result.main()
    return json.loads(capsys.readouterr().out)


def stored(tmp_path, check_id: str) -> dict:
    return json.loads((tmp_path / "checks" / f"{check_id}.json").read_text())


def test_predicates_pass_and_are_stored(tmp_path, capsys, no_claims) -> None:
    # a check without a claims module (one with a module would judge its empty inputs too)
    out = run_module(dict(id=NO_CLAIMS, report_dir=str(tmp_path), started=1.0, predicates=[
        {"name": f"{NO_CLAIMS}.mirror_reconciled", "ok": True, "diagnosis": "the mirror drifted", "inputs": {"open": []}}]), capsys)
    assert out["verdict"] == "PASS" and out["predicates"][0]["name"] == f"{NO_CLAIMS}.mirror_reconciled"
    assert stored(tmp_path, NO_CLAIMS)["evidence"]["predicates"] == [
        {"name": f"{NO_CLAIMS}.mirror_reconciled", "ok": True, "diagnosis": "the mirror drifted", "inputs": {"open": []}}]


def test_v1_inputs_go_to_its_claims_module_and_secrets_are_redacted(tmp_path, capsys) -> None:
    out = run_module(dict(id="V1", report_dir=str(tmp_path), redact=["tok-123456"], inputs={
        "repo": "o/r tok-123456", "bot": {"outcome": "timeout", "seconds": 9}}), capsys)
    assert out["verdict"] == "FAIL"
    assert out["diagnosis"].startswith("the bot's !testme fired nothing within 9 s: bridge is not polling o/r ******** ")
    text = (tmp_path / "checks" / "V1.json").read_text()
    assert "tok-123456" not in text and "tok-123456" not in json.dumps(out)
    assert [p["name"] for p in stored(tmp_path, "V1")["evidence"]["predicates"]][:2] == [
        "V1.bot_testme_fires", "V1.known_green_head_is_green"]


def test_expectations_alias_and_no_predicate(tmp_path, capsys, no_claims) -> None:
    out = run_module(dict(id=NO_CLAIMS, report_dir=str(tmp_path), expectations=[
        {"that": True, "diagnosis": "a"}, {"that": False, "diagnosis": "the mirror drifted"}]), capsys)
    assert (out["verdict"], out["diagnosis"]) == ("FAIL", "the mirror drifted")
    assert [p["name"] for p in out["predicates"]] == [f"{NO_CLAIMS}.expectation_1", f"{NO_CLAIMS}.expectation_2"]
    empty = run_module(dict(id=NO_CLAIMS, report_dir=str(tmp_path)), capsys)
    assert (empty["verdict"], empty["diagnosis"]) == ("FAIL", "the check recorded no predicate")


def test_unknown_id_fails_the_task_with_the_known_ids(tmp_path, capsys) -> None:
    out = run_module(dict(id="V10", report_dir=str(tmp_path)), capsys)
    assert out["failed"] is True
    assert out["msg"].startswith("check_result: unknown check id 'V10'; known: V1, V2, V3")
    assert not (tmp_path / "checks").exists()
