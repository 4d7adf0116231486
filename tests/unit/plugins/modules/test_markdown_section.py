# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""markdown_section: the skill's Cron section replaced in place, exactly one left, headings in code
fences ignored, other lines untouched."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import markdown_section as ms

ROOT = Path(__file__).resolve().parents[4]
NEW = "## Cron\n\nWeekly `5 21 * * 1` (America/New_York), first fire T0 = 2026-11-23T21:05:00-05:00.\n"


def run(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        ms.main()
    return json.loads(capsys.readouterr().out)


def test_lab_skill_cron_section_replaced_in_place(tmp_path, capsys):
    skill = tmp_path / "SKILL.md"
    original = (ROOT / "lab/data/skills/upgrade-all/SKILL.md").read_text()
    assert "Sat 03:00 UTC" in original  # the lab starts as the box does: the placeholder schedule
    skill.write_text(original)
    res = run({"path": str(skill), "heading": r"Cron\b", "content": NEW, "forbid": ["Sat 03:00 UTC"]}, capsys)
    text = skill.read_text()
    assert res["changed"] is True and res["replaced"] == 1 and res["remaining"] == []
    assert text.count("## Cron") == 1 and "Sat 03:00 UTC" not in text and NEW.strip() in text
    assert text.startswith(original[:original.index("## Cron")])  # everything before it as it was
    assert "## PRs to review" in text  # a heading inside a code fence is not a section
    again = run({"path": str(skill), "heading": r"Cron\b", "content": NEW}, capsys)
    assert again["changed"] is False and skill.read_text() == text


def test_two_sections_and_old_markers_become_one(tmp_path, capsys):
    doc = tmp_path / "SKILL.md"
    doc.write_text("# Skill\n\n## Cron\n\nold Sat 03:00 UTC\n\n## Other\n\nkeep\n"
                   "<!-- BEGIN ccci-cron (managed by coopcloud.cc_ci completion_cron) -->\n## Cron — appended\n\nx\n"
                   "<!-- END ccci-cron (managed by coopcloud.cc_ci completion_cron) -->\n")
    res = run({"path": str(doc), "heading": r"Cron\b", "content": NEW, "forbid": ["Sat 03:00 UTC"],
               "strip_lines": [r"^<!-- (BEGIN|END) ccci-cron \(managed by coopcloud\.cc_ci completion_cron\) -->$"]}, capsys)
    assert res["replaced"] == 2 and res["remaining"] == []
    assert doc.read_text() == "# Skill\n\n" + NEW + "\n## Other\n\nkeep\n"


def test_placeholder_elsewhere_is_reported(tmp_path, capsys):
    doc = tmp_path / "note.md"
    doc.write_text("# Note\n\nRuns Sat 03:00 UTC.\n\n## Schedule\n\n- old\n")
    res = run({"path": str(doc), "heading": r"Schedule\b", "content": "## Schedule\n\n- new\n",
               "forbid": ["Sat 03:00 UTC"]}, capsys)
    assert res["remaining"] == [{"line": 3, "text": "Runs Sat 03:00 UTC."}]
    assert doc.read_text().endswith("## Schedule\n\n- new\n")


def test_missing_file_created_only_when_asked(tmp_path, capsys):
    res = run({"path": str(tmp_path / "m" / "note.md"), "heading": "Schedule", "content": "## Schedule\n"}, capsys)
    assert res["failed"] is True and "does not exist" in res["msg"]
    res = run({"path": str(tmp_path / "m" / "note.md"), "heading": "Schedule", "content": "## Schedule\n",
               "create": True}, capsys)
    assert res["changed"] is True and (tmp_path / "m" / "note.md").read_text() == "## Schedule\n"
