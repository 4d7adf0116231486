# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The index of a run over several boxes, read back from each box's report.json."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report import ReportNotWritten
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report_index import write_index

STARTED = 1_800_000_000.0


def _box(report_dir, name, verdicts, started=STARTED, error=None, diagnoses=None):
    folder = report_dir / name
    folder.mkdir(parents=True)
    checks = [{"id": cid, "verdict": v, "diagnosis": (diagnoses or {}).get(cid)} for cid, v in verdicts.items()]
    (folder / "report.json").write_text(json.dumps({"started_epoch": started, "started": "then", "error": error,
                                                    "checks": checks}))


def test_each_box_a_row_with_its_verdicts_and_a_link(tmp_path):
    _box(tmp_path, "box-a", {"V1": "PASS", "V9": "PASS"})
    _box(tmp_path, "box-b", {"V1": "PASS", "V9": "SKIP"})
    rows, paths = write_index(str(tmp_path), ["box-a", "box-b"], STARTED)
    index = (tmp_path / "index.md").read_text()
    assert "Overall: **PASS with SKIPs**" in index and "2 boxes" in index
    assert "| Box | Overall | V1 | V9 | Report |" in index
    assert "| box-a | ✅ PASS | ✅ PASS | ✅ PASS | [REVIEW-5.md](box-a/REVIEW-5.md) |" in index
    assert "| box-b | ✅ PASS with SKIPs | ✅ PASS | ⏭️ SKIP | [REVIEW-5.md](box-b/REVIEW-5.md) |" in index
    data = json.loads((tmp_path / "index.json").read_text())
    assert data["overall"] == "PASS with SKIPs"
    assert data["boxes"]["box-a"]["verdicts"] == {"V1": "PASS", "V9": "PASS"}
    assert data["boxes"]["box-b"]["report"] == os.path.join(tmp_path, "box-b", "REVIEW-5.md")
    assert set(paths) == {"index.md", "index.json"} and [r.overall for r in rows] == ["PASS", "PASS with SKIPs"]


def test_a_failed_box_fails_the_index_with_its_diagnosis(tmp_path):
    _box(tmp_path, "box-a", {"V1": "PASS"})
    _box(tmp_path, "box-b", {"V1": "FAIL"}, diagnoses={"V1": "the bridge | fired on an outsider"})
    write_index(str(tmp_path), ["box-a", "box-b"], STARTED)
    index = (tmp_path / "index.md").read_text()
    assert "Overall: **FAIL** (failed: box-b)" in index
    assert "- ❌ **box-b** V1: the bridge \\| fired on an outsider" in index


def test_a_run_that_stopped_early_fails_its_box(tmp_path):
    _box(tmp_path, "box-a", {"V1": "PASS"}, error="stopped at: V2")
    rows = write_index(str(tmp_path), ["box-a"], STARTED)[0]
    assert rows[0].overall == "FAIL" and "the run stopped early: stopped at: V2" in (tmp_path / "index.md").read_text()


@pytest.mark.parametrize("case", ["missing", "stale", "unreadable"])
def test_a_box_without_a_report_of_this_run_is_never_passed(tmp_path, case):
    _box(tmp_path, "box-a", {"V1": "PASS"})
    if case == "stale":
        _box(tmp_path, "box-b", {"V1": "PASS"}, started=STARTED - 3600)
    elif case == "unreadable":
        (tmp_path / "box-b").mkdir()
        (tmp_path / "box-b" / "report.json").write_text("{half")
    rows = write_index(str(tmp_path), ["box-a", "box-b"], STARTED)[0]
    assert rows[1].overall == "FAIL" and rows[1].verdicts == {}
    index = (tmp_path / "index.md").read_text()
    assert "Overall: **FAIL** (failed: box-b)" in index and "| box-b | ❌ FAIL |" in index
    assert {"missing": "no report:", "stale": "no report of this run", "unreadable": "report unreadable"}[case] in index


def test_an_index_that_cannot_be_written_names_the_file(tmp_path):
    _box(tmp_path, "box-a", {"V1": "PASS"})
    (tmp_path / "index.md").mkdir()
    with pytest.raises(ReportNotWritten) as err:
        write_index(str(tmp_path), ["box-a"], STARTED)
    assert "index.md" in str(err.value) and set(err.value.paths) == {"index.json"}
