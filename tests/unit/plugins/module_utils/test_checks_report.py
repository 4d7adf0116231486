# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verdict rules (named predicates) and the three report files."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import check_registry, checks, redaction, report
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CheckResult, Predicate, evaluate


@pytest.fixture(autouse=True)
def no_claims_modules(monkeypatch):
    """The verdict rules alone: no check's claims module adds predicates here (test_claims_*.py do)."""
    plain = {c.id: dataclasses.replace(c, claims=None) for c in check_registry.CHECKS}
    monkeypatch.setattr(check_registry, "_BY_ID", plain)


def ok(name: str, diagnosis: str = "x", **inputs) -> Predicate:
    return Predicate(name, True, diagnosis, inputs)


def bad(name: str, diagnosis: str, **inputs) -> Predicate:
    return Predicate(name, False, diagnosis, inputs)


def test_every_predicate_holding_is_pass_and_recorded() -> None:
    result = evaluate("V1", 100.0, [ok("V1.a", n=1)], {"pr": "u"}, now=112.34)
    assert (result.verdict, result.diagnosis, result.seconds) == ("PASS", None, 12.3)
    assert result.evidence == {"pr": "u", "predicates": [{"name": "V1.a", "ok": True, "diagnosis": "x",
                                                          "inputs": {"n": 1}}]}


def test_every_failing_diagnosis_once_in_order() -> None:
    result = evaluate("V2", 0, [bad("V2.a", "a"), ok("V2.b"), {"name": "V2.c", "ok": "False", "diagnosis": "c"},
                                bad("V2.d", "a")])
    assert result.verdict == "FAIL"
    assert result.diagnosis == "a; c"
    assert [p["ok"] for p in result.evidence["predicates"]] == [False, True, False, False]


def test_error_fails_with_its_first_line_and_skip_wins() -> None:
    assert evaluate("V3", 0, [ok("V3.a")], error="boom\ntrace").diagnosis == "boom"
    skipped = evaluate("V1", 0, [bad("V1.a", "x")], error="e", skip="no outsider")
    assert (skipped.verdict, skipped.diagnosis) == ("SKIP", "no outsider")


def test_a_check_that_asserts_nothing_cannot_pass() -> None:
    result = evaluate("V4", 0, [])
    assert (result.verdict, result.diagnosis) == ("FAIL", "the check recorded no predicate")


def test_a_predicate_of_another_check_or_unnamed_fails() -> None:
    for name in ("V2.a", "V1a", "V1.", "", "v1.a"):
        result = evaluate("V1", 0, [ok(name)])
        assert result.verdict == "FAIL" and "is not named V1.<claim>" in result.diagnosis, name


def test_expectations_still_work_as_numbered_predicates() -> None:
    expectations = [{"that": True, "diagnosis": "a"}, {"that": "no", "diagnosis": "b"},
                    {"that": False, "diagnosis": "c", "name": "V5.named"}]
    result = evaluate("V5", 0, [ok("V5.given")], expectations=expectations)
    assert [p["name"] for p in result.evidence["predicates"]] == ["V5.given", "V5.expectation_1",
                                                                  "V5.expectation_2", "V5.named"]
    assert (result.verdict, result.diagnosis) == ("FAIL", "b; c")


def test_inputs_made_json_safe_and_secrets_scrubbed() -> None:
    result = evaluate("V6", 0, [ok("V6.a", when={1, 2}, token="sekrit-value", nested=[{"t": "x sekrit-value"}])],
                      {"seen": "sekrit-value"}, scrub=lambda t: redaction.redact_text(t, ["sekrit-value"]))
    inputs = result.evidence["predicates"][0]["inputs"]
    assert inputs["token"] == "********" and inputs["nested"] == [{"t": "x ********"}]
    assert isinstance(inputs["when"], str) and result.evidence["seen"] == "********"
    failed = evaluate("V6", 0, [bad("V6.a", "the bridge sent sekrit-value")],
                      scrub=lambda t: redaction.redact_text(t, ["sekrit-value"]))
    assert failed.diagnosis == "the bridge sent ********"
    json.dumps(result.as_dict())


def test_unknown_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown check id 'V10'; known: V1, V2"):
        evaluate("V10", 0, [ok("V10.a")])


def test_store_and_load_round_trip(tmp_path) -> None:
    result = evaluate("V8a", 1.0, [ok("V8a.a")], {"k": [1, 2]}, now=3.0)
    checks.store(str(tmp_path), result)
    assert checks.load_all(str(tmp_path))["V8a"] == result


def test_reports_list_every_check_and_redact_secrets(tmp_path) -> None:
    results = {
        "V1": CheckResult("V1", "PASS", 4.0, {"pr": "http://g/pr/1", "note": "token abcdef123456"}, None, 1),
        "V2": CheckResult("V2", "FAIL", 2.5, {}, "status surface missing", 1),
    }
    paths = report.write_all(str(tmp_path), "lab", 0.0, 60.0, results, ["abcdef123456"])
    data = json.loads(open(paths["report.json"]).read())
    assert [c["id"] for c in data["checks"]] == list(checks.CHECK_IDS)
    by_id = {c["id"]: c for c in data["checks"]}
    assert by_id["V2"]["verdict"] == "FAIL" and by_id["V2"]["diagnosis"] == "status surface missing"
    assert by_id["CRON"]["verdict"] == "SKIP" and "not run" in by_id["CRON"]["diagnosis"]
    review = open(paths["REVIEW-5.md"]).read()
    assert "| V2 |" in review and "Overall: **FAIL** (failed: V2)" in review
    assert "abcdef123456" not in review
    # the evidence is in report.json and report.html (not REVIEW-5.md): redacted there
    for name in ("report.json", "report.html"):
        text = open(paths[name]).read()
        assert "abcdef123456" not in text and "token ********" in text
    suite = ET.parse(paths["junit.xml"]).getroot()
    assert suite.get("tests") == "11" and suite.get("failures") == "1"
    assert suite.find("testcase/failure").get("message") == "status surface missing"


def test_report_of_some_checks_only(tmp_path) -> None:
    results = {"V1": CheckResult("V1", "PASS", 1.0, {}, None, 1)}
    paths = report.write_all(str(tmp_path), "box", 0.0, 1.0, results, [], ["V1"])
    data = json.loads(open(paths["report.json"]).read())
    assert [c["id"] for c in data["checks"]] == ["V1"] and data["target"] == "box"


def test_a_run_stopped_early_is_overall_fail_with_its_reason(tmp_path) -> None:
    paths = report.write_all(str(tmp_path), "lab", 0.0, 1.0, {}, ["sekrit-token"], ["V1"],
                             error="GET http://g/api/v1/user: HTTP 401 (token sekrit-token rejected)")
    review = open(paths["REVIEW-5.md"]).read()
    assert "Overall: **FAIL**" in review and "stopped early: GET http://g/api/v1/user: HTTP 401" in review
    assert "sekrit-token" not in review
    assert json.loads(open(paths["report.json"]).read())["error"].startswith("GET http://g")


def test_a_run_that_stopped_early_is_a_junit_failure() -> None:
    checks_ = [CheckResult("V1", "PASS", 1.0, {}, None, 1)]
    clean = ET.fromstring(report.to_junit(checks_).split("?>", 1)[1])
    assert clean.get("failures") == "0" and clean.get("tests") == "1"
    stopped = ET.fromstring(report.to_junit(checks_, "V3 stopped: no answer within 60 s").split("?>", 1)[1])
    assert stopped.get("failures") == "1" and stopped.get("tests") == "2"
    assert stopped.find("testcase[@name='run completed']/failure").get("message").endswith("no answer within 60 s")


def test_a_report_file_that_cannot_be_written_leaves_the_others_and_says_why(tmp_path) -> None:
    (tmp_path / "REVIEW-5.md").mkdir()
    results = {"V1": CheckResult("V1", "PASS", 1.0, {}, None, 1)}
    with pytest.raises(report.ReportNotWritten) as caught:
        report.write_all(str(tmp_path), "lab", 0.0, 1.0, results, [], ("V1",))
    assert str(caught.value).startswith(f"cannot write {tmp_path}/REVIEW-5.md: Is a directory: remove or rename")
    assert set(caught.value.paths) == {"report.json", "report.html", "junit.xml"}
    assert (tmp_path / "junit.xml").exists() and json.loads((tmp_path / "report.json").read_text())["checks"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
