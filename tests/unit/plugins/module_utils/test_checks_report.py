"""The verdict rules and the three report files."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import checks, report
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CheckResult, evaluate


def test_all_expectations_met_is_pass() -> None:
    result = evaluate("V1", 100.0, [{"that": True, "diagnosis": "x"}], {"pr": "u"}, now=112.34)
    assert (result.verdict, result.diagnosis, result.seconds) == ("PASS", None, 12.3)


def test_every_unmet_expectation_is_in_the_diagnosis() -> None:
    result = evaluate("V2", 0, [{"that": False, "diagnosis": "a"}, {"that": True, "diagnosis": "b"},
                                {"that": "False", "diagnosis": "c"}])
    assert result.verdict == "FAIL"
    assert result.diagnosis == "a; c"


def test_error_fails_with_its_first_line_and_skip_wins() -> None:
    assert evaluate("V3", 0, [{"that": True, "diagnosis": "x"}], error="boom\ntrace").diagnosis == "boom"
    skipped = evaluate("V1", 0, [{"that": False, "diagnosis": "x"}], error="e", skip="no outsider")
    assert (skipped.verdict, skipped.diagnosis) == ("SKIP", "no outsider")


def test_a_check_that_asserts_nothing_cannot_pass() -> None:
    assert evaluate("V4", 0, []).verdict == "FAIL"


def test_unknown_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown check id"):
        evaluate("V10", 0, [{"that": True, "diagnosis": "x"}])


def test_store_and_load_round_trip(tmp_path) -> None:
    result = evaluate("V8a", 1.0, [{"that": True, "diagnosis": "x"}], {"k": [1, 2]}, now=3.0)
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
    assert "abcdef123456" not in review and "********" in review
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
