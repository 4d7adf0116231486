# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""REVIEW-5.md for people (rendered with a CommonMark + GFM-table renderer), report.html, the link
rule, the predicates, and the timeline's data and drawing."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import report, timeline
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CHECK_IDS, CheckResult

FIXTURE = Path(__file__).parent / "fixtures" / "full_run.json"


def full_run() -> dict[str, CheckResult]:
    return {c["id"]: CheckResult(**c) for c in json.loads(FIXTURE.read_text())["checks"]}


def window(results: dict[str, CheckResult]) -> tuple[float, float]:
    return (min(r.recorded - r.seconds for r in results.values()) - 3,
            max(r.recorded for r in results.values()) + 3)


def builds_of(results: dict[str, CheckResult]) -> list[dict]:
    """A Drone build per build URL of the evidence, inside its check's window."""
    out = []
    for r in results.values():
        numbers = sorted({int(n) for n in re.findall(r"/cc-ci/(\d+)\b", json.dumps(r.evidence))})
        for i, n in enumerate(numbers):
            created = r.recorded - r.seconds + 1 + i * 3
            out.append({"number": n, "status": "success" if n % 2 else "failure", "created": int(created),
                        "started": int(created) + 1, "finished": int(created) + 3,
                        "params": {"REPO": "recipe-maintainers/custom-html-tiny", "PR": "1"}})
    return out


def render(tmp_path, results, **kw):
    started, finished = window(results)
    checks = report.ordered(results)
    data = timeline.collect(started, finished, checks, kw.pop("builds", builds_of(results)), kw.pop("records", []))
    paths = report.write_all(str(tmp_path), "lab", started, finished, results, kw.pop("secrets", []),
                             timeline=data, svg=timeline.svg(data), **kw)
    return paths, data


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first table, as a GFM renderer sees them."""
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(markdown)
    rows, row, in_body, cell = [], None, False, None
    for tok in tokens:
        if tok.type == "tbody_open":
            in_body = True
        elif tok.type == "tbody_close":
            break
        elif in_body and tok.type == "tr_open":
            row = []
        elif in_body and tok.type == "tr_close":
            rows.append(row)
        elif in_body and tok.type == "inline" and row is not None:
            row.append(tok.content)
    return rows


def test_a_passing_full_run_reads_in_at_most_200_lines_with_a_table_row_per_check(tmp_path):
    paths, _data = render(tmp_path, full_run())
    review = Path(paths["REVIEW-5.md"]).read_text()
    assert len(review.splitlines()) <= 200
    rows = table_rows(review)
    assert [r[0] for r in rows] == list(CHECK_IDS)
    assert all("PASS" in r[2] for r in rows)
    assert review.splitlines()[2].startswith("Overall: **PASS** — 11 checks: 11 PASS")
    # no raw dict dumps: no JSON/Python mapping, no transcript text, no evidence keys listing
    assert not re.search(r"\{['\"]", review) and "summary_head" not in review and "Evidence:" not in review
    html = MarkdownIt("commonmark").enable("table").render(review)
    assert html.count("<tr>") == len(CHECK_IDS) + 1
    for name in ("report.html", "report.json", "timeline.svg"):
        assert f'href="{name}"' in html


def test_each_check_has_its_claim_predicates_and_3_to_8_links(tmp_path):
    results = full_run()
    paths, _data = render(tmp_path, results)
    review = Path(paths["REVIEW-5.md"]).read_text()
    sections = dict(re.findall(r"^## (\S+) — .*?\n(.*?)(?=^## |\Z)", review, re.S | re.M))
    assert list(sections) == list(CHECK_IDS)
    for cid, body in sections.items():
        assert "Claim: " in body, cid
        held = [p["name"].split(".", 1)[1] for p in results[cid].evidence["predicates"]]  # shown without "V1."
        assert f"- ✅ held: {', '.join(f'`{n}`' for n in held)}" in body, cid
        links = re.findall(r"\]\((http[^)]+)\)", body.split("Links: ", 1)[-1]) if "Links: " in body else []
        if cid in ("V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8"):
            assert 3 <= len(links) <= 8, (cid, links)


def test_a_failing_check_leads_with_its_diagnosis_and_the_predicate_that_failed(tmp_path):
    results = full_run()
    v2 = results["V2"]
    preds = [dict(p) for p in v2.evidence["predicates"]]
    preds[4] = {"name": "V2.pending_read", "ok": False, "inputs": {"verdict": "GREEN", "max_wait": 1},
                "diagnosis": "the helper said GREEN with MAX_WAIT=1 on a running build"}
    results["V2"] = CheckResult("V2", "FAIL", v2.seconds, dict(v2.evidence, predicates=preds),
                                "the helper said GREEN with MAX_WAIT=1 on a running build", v2.recorded)
    paths, _data = render(tmp_path, results)
    review = Path(paths["REVIEW-5.md"]).read_text()
    lines = review.splitlines()
    assert lines[2].startswith("Overall: **FAIL** (failed: V2)")
    assert lines[4] == "- ❌ **V2**: the helper said GREEN with MAX\\_WAIT=1 on a running build"
    body = review.split("## V2 — ", 1)[1].split("\n## ", 1)[0].splitlines()
    assert body[2].startswith("❌ **FAIL** in ") and "**diagnosis:** the helper said GREEN" in body[2]
    failed = next(i for i, line in enumerate(body) if line.startswith("- ❌ `pending_read`"))
    held = next(i for i, line in enumerate(body) if line.startswith("- ✅ held:"))
    assert failed < held and "`pending_read`" not in body[held]
    assert '"max_wait": 1' in body[failed]
    assert [r[0] for r in table_rows(review)] == list(CHECK_IDS)


def test_checks_without_predicates_fall_back_to_the_diagnosis(tmp_path):
    results = {"V1": CheckResult("V1", "FAIL", 3.0, {"pr": "http://g/o/r/pulls/1"}, "bridge fired on prefix", 10.0)}
    paths = report.write_all(str(tmp_path), "lab", 0.0, 20.0, results, [], ["V1"])
    review = Path(paths["REVIEW-5.md"]).read_text()
    assert "**diagnosis:** bridge fired on prefix" in review and "held:" not in review
    assert "timeline.svg" not in review and not (tmp_path / "timeline.svg").exists()


def test_predicates_read_as_the_checks_record_them():
    got = report.predicates_of({"predicates": [{"name": "a", "ok": "false"}, {"name": "b", "ok": True},
                                               {"ok": True}, "junk"]})
    assert [(p.name, p.ok) for p in got] == [("a", False), ("b", True)]


def test_the_link_rule_explicit_first_then_ranked_round_robin():
    evidence = {
        "zz_other": "https://example.org/docs/x",
        "builds": ["http://d/o/cc-ci/7", "http://d/o/cc-ci/8", "http://d/o/cc-ci/9"],
        "comment": "http://g/o/r/pulls/5#issuecomment-3",
        "pr": "http://g/o/r/pulls/5 (closed)",
        "other_pr": "http://g/o/r/pulls/6",
        "summary": "/srv/cc-ci/.cc-ci-logs/upgrades/upgrade-all-1.md",
        "transcript": "/tmp/t.log",
        "links": [{"label": "the run's PR", "url": "http://g/o/r/pulls/6"}, "http://d/o/cc-ci/9"],
        "predicates": [{"name": "x", "ok": True, "inputs": {"u": "http://not/a/link/1"}}],
    }
    links = report.choose_links(evidence)
    assert [(link.kind, link.label) for link in links] == [
        ("pr", "the run's PR"), ("build", "build #9"),
        ("pr", "PR r#5"), ("build", "build #7"), ("comment", "comment #3 on r#5"), ("summary", "summary"),
        ("url", "x"), ("build", "build #8")]
    assert links[2].url == "http://g/o/r/pulls/5"  # the URL, not the words after it
    assert len(report.choose_links(evidence, limit=3)) == 3
    assert all("not/a/link" not in link.url for link in links)


def test_titles_and_claims_come_from_the_check_registry(tmp_path):
    paths, _data = render(tmp_path, full_run())
    review = Path(paths["REVIEW-5.md"]).read_text()
    for check in CHECKS:
        assert f"## {check.id} — {check.title}" in review
        assert f"Claim: {report._md_inline(check.claim)}" in review


def test_report_html_is_the_review_plus_the_timeline_and_the_full_evidence(tmp_path):
    results = full_run()
    paths, data = render(tmp_path, results, secrets=["cc-ci-bot"])
    page = Path(paths["report.html"]).read_text()
    assert page.count('<tr id="row-') == len(CHECK_IDS)
    assert page.count('<g class="bar" data-kind="build"') == len(data["builds"]) > 10
    assert page.count('<g class="bar" data-kind="check"') == len(CHECK_IDS)
    assert page.count("<summary>Full evidence</summary>") == len(CHECK_IDS)
    assert "cc-ci-bot" not in page and "********" in page  # redacted in the evidence too
    review = Path(paths["REVIEW-5.md"]).read_text()
    for url in re.findall(r"\]\((http[^)]+)\)", review):
        assert f'href="{url}"' in page
    assert "<script" not in page and "<script" not in Path(paths["timeline.svg"]).read_text()


def test_the_timeline_has_a_bar_per_check_and_build_the_waits_and_the_cron_marks():
    results = full_run()
    started, finished = window(results)
    t0 = results["CRON"].evidence["t0"]
    records = [
        {"ev": "end", "span": "1", "kind": "agent", "what": "the agent: /recipe-upgrade x", "start": started + 5,
         "end": started + 20, "outcome": "ok"},
        {"ev": "begin", "span": "2", "kind": "cron", "what": "first fire", "t": started + 30},
        {"ev": "progress", "span": "2", "kind": "cron", "t": started + 40, "text": "waiting"},
        {"ev": "end", "kind": "deploy", "what": "sandbox s", "start": started + 6, "end": started + 9,
         "observed": True},
        {"ev": "task", "name": "V1 | x", "check": "V1", "start": started, "end": started + 1, "status": "ok"},
        {"ev": "api", "calls": 3, "seconds": 0.2, "in_wait": 0.1},
        {"ev": "api", "calls": 2, "seconds": 0.1, "in_wait": 0.0},
    ]
    data = timeline.collect(started, finished, report.ordered(results), builds_of(results), records)
    assert [w["kind"] for w in data["waits"]] == ["agent", "deploy", "cron"]
    assert data["waits"][2]["outcome"] == "unfinished" and data["waits"][2]["end"] == started + 40
    assert data["api"] == {"calls": 5, "seconds": 0.3, "in_wait": 0.1} and len(data["tasks"]) == 1
    assert [m["label"] for m in data["marks"]] == ["cron T0", "first fire seen"]
    assert data["marks"][0]["t"] == timeline.epoch(t0)
    drawing = timeline.svg(data)
    assert drawing.count('data-kind="check"') == 11 and drawing.count('data-kind="build"') == len(data["builds"])
    assert drawing.count('data-kind="wait"') == 3 and drawing.count('data-kind="mark"') == 2
    assert "queued" in drawing and drawing.startswith("<svg")


@pytest.mark.parametrize("value,expected", [("2026-11-30T03:18:00+00:00", 1796008680.0),
                                            ("2026-11-30T03:18:00Z", 1796008680.0), (17.5, 17.5),
                                            ("", None), ("soon", None), (0, None), (True, None)])
def test_epoch_reads_numbers_and_iso_times(value, expected):
    assert timeline.epoch(value) == expected


def test_numbered_expectations_are_counted_not_listed(tmp_path):
    preds = [{"name": "V3.expectation_1", "ok": True}, {"name": "V3.expectation_2", "ok": True},
             {"name": "V3.pr_opened", "ok": True},
             {"name": "V3.expectation_3", "ok": False, "diagnosis": "the PR was merged"}]
    results = {"V3": CheckResult("V3", "FAIL", 3.0, {"predicates": preds}, "the PR was merged", 10.0)}
    paths = report.write_all(str(tmp_path), "lab", 0.0, 20.0, results, [], ["V3"])
    review = Path(paths["REVIEW-5.md"]).read_text()
    assert "- ✅ held: `pr_opened`, 2 expectations" in review
    assert "- ❌ `expectation_3` — the PR was merged" in review
    assert "held: <code>pr_opened</code>, 2 expectations" in Path(paths["report.html"]).read_text()
