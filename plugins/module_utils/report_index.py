# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The index of a run over several boxes: each box's verdicts, read back from the ``report.json`` that
``review_report`` wrote in ``<report_dir>/<box>/``, in ``index.md`` (REVIEW-5's form) and ``index.json``.

A box whose report is missing, unreadable or older than this run (a box that dropped out of the play
before its report) is listed as such, never as passed."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report import _ICON, overall, write_files


@dataclass
class BoxRow:
    """One box of the run: its verdicts, or why it has none."""
    name: str
    folder: str
    verdicts: dict[str, str] = field(default_factory=dict)
    diagnoses: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    missing: str | None = None

    @property
    def overall(self) -> str:
        return "FAIL" if self.missing else overall(list(self.verdicts.values()), self.error)


def read_box(report_dir: str, name: str, started: float) -> BoxRow:
    """The verdicts in ``<report_dir>/<name>/report.json``, or why there are none for this run."""
    folder = os.path.join(report_dir, name)
    path = os.path.join(folder, "report.json")
    row = BoxRow(name, folder)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        row.missing = f"no report: {path} was not written (the box left the run before its report)"
        return row
    except (OSError, ValueError) as exc:
        row.missing = f"report unreadable: {path}: {exc}"
        return row
    if float(data.get("started_epoch") or 0) < started - 1:
        row.missing = f"no report of this run: {path} is from {data.get('started')}"
        return row
    row.verdicts = {c["id"]: c["verdict"] for c in data.get("checks", [])}
    row.diagnoses = {c["id"]: c.get("diagnosis") or "" for c in data.get("checks", []) if c["verdict"] == "FAIL"}
    row.error = data.get("error")
    return row


def run_overall(rows: list[BoxRow]) -> str:
    """FAIL when a box failed (or has no report), PASS with SKIPs when a box skipped a check, else PASS."""
    boxes = [row.overall for row in rows]
    return "FAIL" if "FAIL" in boxes or not boxes else ("PASS with SKIPs" if "PASS with SKIPs" in boxes else "PASS")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(rows: list[BoxRow], started: float, finished: float) -> str:
    ids = list(dict.fromkeys(cid for row in rows for cid in row.verdicts))
    failed = [row.name for row in rows if row.overall == "FAIL"]
    out = ["# REVIEW-5 index — Phase 5 cold verification over several boxes", "",
           f"Overall: **{run_overall(rows)}**" + (f" (failed: {', '.join(failed)})" if failed else "")
           + f" — {len(rows)} boxes · {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))} → "
           f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(finished))}", ""]
    out += ["| Box | Overall | " + " | ".join(ids) + " | Report |", "|---|---|" + "---|" * len(ids) + "---|"]
    for row in rows:
        marks = [f"{_ICON.get(row.verdicts.get(cid, ''), '')} {row.verdicts.get(cid, '—')}".strip() for cid in ids]
        report = "—" if row.missing else f"[REVIEW-5.md]({row.name}/REVIEW-5.md)"
        out.append(f"| {_cell(row.name)} | {_ICON.get(row.overall.split()[0], '')} {row.overall} | "
                   + " | ".join(marks) + f" | {report} |")
    problems = []
    for row in rows:
        if row.missing:
            problems.append(f"- ❌ **{row.name}**: {_cell(row.missing)}")
        if row.error:
            problems.append(f"- ❌ **{row.name}**: the run stopped early: {_cell(row.error)}")
        problems += [f"- ❌ **{row.name}** {cid}: {_cell(why or 'failed')}" for cid, why in row.diagnoses.items()]
    if problems:
        out += ["", *problems]
    return "\n".join(out) + "\n"


def to_json(rows: list[BoxRow], started: float, finished: float) -> dict[str, Any]:
    return {"overall": run_overall(rows), "started_epoch": started, "finished_epoch": finished,
            "boxes": {row.name: {"overall": row.overall, "verdicts": row.verdicts, "failures": row.diagnoses,
                                 "error": row.error, "missing": row.missing,
                                 "report": None if row.missing else os.path.join(row.folder, "REVIEW-5.md")}
                      for row in rows}}


def write_index(report_dir: str, names: list[str], started: float) -> tuple[list[BoxRow], dict[str, str]]:
    """Read every box's report and write ``index.md`` and ``index.json`` in *report_dir*."""
    rows = [read_box(report_dir, name, started) for name in names]
    finished = time.time()
    files = {"index.md": to_markdown(rows, started, finished),
             "index.json": json.dumps(to_json(rows, started, finished), indent=2) + "\n"}
    return rows, write_files(report_dir, files)
