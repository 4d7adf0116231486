# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry of checks: one list, plan order, exact ids, and everything else reads it."""
from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import pytest
import yaml

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import check_registry, checks, report
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS, Check, get, ids, select
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate

ROOT = Path(__file__).resolve().parents[4]


def test_plan_order_and_the_derived_lists() -> None:
    assert ids() == ("V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V8a", "V9", "CRON")
    assert checks.CHECK_IDS == ids()
    assert list(report.TITLES) == list(ids()) and report.TITLES["V8a"] == get("V8a").title


def test_every_entry_is_whole_and_its_role_exists() -> None:
    for check in CHECKS:
        assert check.title and check.reads and check.claim.endswith("."), check.id
        namespace, name, role = check.role.split(".")
        assert (namespace, name) == ("coopcloud", "cc_ci"), check.role
        assert (ROOT / "roles" / role / "tasks" / "main.yml").is_file(), check.role


def test_phases_make_v9_cleanup_and_cron_after() -> None:
    assert [c.id for c in CHECKS if c.phase == "cleanup"] == ["V9"]
    assert [c.id for c in CHECKS if c.phase == "after"] == ["CRON"]
    with pytest.raises(ValueError, match="phase 'later' is not one of checks, cleanup, after"):
        Check("X", "t", "r", "c.", "r", phase="later")


def test_get_is_exact_and_names_the_known_ids() -> None:
    assert get("V8a").role == "coopcloud.cc_ci.v8a_upgrader_agent"
    for wrong in ("v1", "V", "V10", "V1 ", None):
        with pytest.raises(ValueError, match=r"unknown check id .*; known: V1, V2, .*, CRON"):
            get(wrong)


def test_select_keeps_plan_order_and_a_string_is_one_id() -> None:
    assert [c.id for c in select(["CRON", "V1"])] == ["V1", "CRON"]
    assert [c.id for c in select("V8")] == ["V8"]  # never V8 and V8a
    assert select(None) == CHECKS
    with pytest.raises(ValueError, match="no check selected; name one or more of V1"):
        select([])
    with pytest.raises(ValueError, match="unknown check id 'V8A'"):
        select(["V1", "V8A"])


def test_claims_modules_expose_evaluate_returning_named_predicates() -> None:
    with_claims = [c for c in CHECKS if c.claims is not None]
    assert "V1" in [c.id for c in with_claims]
    for check in with_claims:
        assert check.claims_name in (f"claims/{check.id.lower()}.py", f"check_registry.py (_{check.id.lower()}_claims)")
        found = check.evaluate({})
        assert found and all(isinstance(p, Predicate) and p.name.startswith(check.id + ".") for p in found)
        # Over nothing read the check cannot pass (absence claims, "nothing was posted", may hold).
        assert not all(p.ok for p in found), f"{check.id}: every claim holds over nothing read"


def test_a_broken_claims_module_fails_the_check_naming_module_and_exception(monkeypatch) -> None:
    broken = types.ModuleType("ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims.v2")
    broken.evaluate = lambda inputs: [Predicate("V2.a", True, "x", {})] + [inputs["missing"]]
    registry = {c.id: c for c in CHECKS}
    registry["V2"] = dataclasses.replace(registry["V2"], claims=broken)
    monkeypatch.setattr(check_registry, "_BY_ID", registry)
    result = checks.evaluate("V2", 0, [Predicate("V2.given", True, "x", {})], inputs={})
    assert result.verdict == "FAIL"
    assert result.diagnosis == "the claims module claims/v2.py raised KeyError: 'missing'"
    assert result.evidence["predicates"][-1]["name"] == "V2.claims"
    broken.evaluate = lambda inputs: [{"name": "V2.a", "ok": True}]
    assert "returned dict, not Predicate" in checks.evaluate("V2", 0, inputs={}).diagnosis


def test_claims_written_beside_the_entry_judge_like_a_module(monkeypatch) -> None:
    """A small check's claims are a function in the registry (docs/ADDING-A-CHECK.md), named in messages by it."""
    def _v2_claims(inputs):
        return [Predicate("V2.seen", inputs.get("seen") is True, "the helper saw nothing", {})]

    registry = {c.id: c for c in CHECKS}
    registry["V2"] = dataclasses.replace(registry["V2"], claims=_v2_claims)
    monkeypatch.setattr(check_registry, "_BY_ID", registry)
    assert registry["V2"].claims_name == "check_registry.py (_v2_claims)"
    assert checks.evaluate("V2", 0, inputs={"seen": True}).verdict == "PASS"
    assert checks.evaluate("V2", 0, inputs={}).diagnosis == "the helper saw nothing"
    registry["V2"] = dataclasses.replace(registry["V2"], claims=lambda inputs: [inputs["missing"]])
    assert "raised KeyError: 'missing'" in checks.evaluate("V2", 0, inputs={}).diagnosis


def test_per_check_playbooks_are_thin_imports_named_after_their_role() -> None:
    found = {}
    for path in sorted((ROOT / "playbooks").glob("v*_*.yml")):
        if path.name == "verify_phase5.yml":
            continue
        (play,) = yaml.safe_load(path.read_text())
        assert play["ansible.builtin.import_playbook"] == "check.yml", path.name
        check = get(play["vars"]["ccci_check"])
        assert path.name == check.role.rsplit(".", 1)[1] + ".yml", path.name
        found[check.id] = path.name
    assert len(found) == 10
    (generic,) = yaml.safe_load((ROOT / "playbooks" / "check.yml").read_text())
    assert generic["ansible.builtin.import_playbook"] == "verify_phase5.yml"
    assert "ccci_check" in generic["vars"]["ccci_only"]


def test_hyphenated_playbooks_are_wrappers_of_the_fqcn_addressable_ones() -> None:
    """A collection playbook is addressed by an identifier (coopcloud.cc_ci.verify_phase5); the
    checkout keeps its hyphenated names (playbooks/verify-phase5.yml) as one import each."""
    wrappers = sorted((ROOT / "playbooks").glob("*-*.yml"))
    assert {p.name for p in wrappers} >= {"verify-phase5.yml", "install-cron.yml", "v1-testme-gate.yml"}
    assert len(wrappers) == 12
    for path in wrappers:
        (play,) = yaml.safe_load(path.read_text())
        assert set(play) == {"name", "ansible.builtin.import_playbook"}, path.name
        assert play["ansible.builtin.import_playbook"] == path.name.replace("-", "_"), path.name
        assert (ROOT / "playbooks" / play["ansible.builtin.import_playbook"]).is_file(), path.name
    for path in (ROOT / "playbooks").glob("*.yml"):
        assert path.stem.isidentifier() or path in wrappers, path.name


def test_one_list_of_check_ids_in_the_tree() -> None:
    """No second list of the ids: a file naming V1 … CRON in a row would be one."""
    allowed = {ROOT / "plugins/module_utils/check_registry.py"}
    offenders = []
    for folder in ("plugins", "roles", "playbooks", "molecule", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yml", ".yaml") and path not in allowed:
                text = path.read_text(encoding="utf-8")
                if all(f'"{cid}"' in text or f" {cid}," in text for cid in ("V3", "V5", "V7", "V8a")):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [str(Path(__file__).relative_to(ROOT))]
