# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""REVIEW-5.md, report.json and junit.xml from the stored check results."""
from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any
from xml.etree import ElementTree as ET

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CHECK_IDS, CheckResult
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import redact_text

TITLES = {check.id: check.title for check in CHECKS}
NOT_RUN = "not run: no result was recorded (the check was not part of this run or was interrupted)"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def ordered(results: dict[str, CheckResult], ids: list[str] | tuple[str, ...] = CHECK_IDS) -> list[CheckResult]:
    """The asked check ids, in plan order; one without a result counts as SKIP with the reason."""
    return [results.get(cid) or CheckResult(cid, "SKIP", 0.0, {}, NOT_RUN) for cid in CHECK_IDS if cid in ids]


def to_json(target: str, started: float, finished: float, checks: list[CheckResult],
            error: str | None = None) -> dict[str, Any]:
    return {
        "target": target,
        "started": _iso(started),
        "finished": _iso(finished),
        "error": error,
        "checks": [
            {"id": c.id, "verdict": c.verdict, "seconds": c.seconds, "evidence": c.evidence,
             "diagnosis": c.diagnosis}
            for c in checks
        ],
    }


def _evidence_lines(value: Any, indent: str = "") -> list[str]:
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{indent}- **{key}**:")
                lines.extend(_evidence_lines(item, indent + "  "))
            else:
                lines.append(f"{indent}- **{key}**: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                lines.append(f"{indent}-")
                lines.extend(_evidence_lines(item, indent + "  "))
            else:
                lines.append(f"{indent}- {_scalar(item)}")
    else:
        lines.append(f"{indent}- {_scalar(value)}")
    return lines


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return "—"
    text = str(value)
    return f"`{text}`" if "\n" not in text and len(text) < 200 else text.replace("\n", " ⏎ ")


def to_markdown(target: str, started: float, finished: float, checks: list[CheckResult],
                error: str | None = None) -> str:
    failed = [c.id for c in checks if c.verdict == "FAIL"]
    skipped = [c.id for c in checks if c.verdict == "SKIP"]
    overall = "FAIL" if failed or error else ("PASS with SKIPs" if skipped else "PASS")
    out = [
        "# REVIEW-5 — Phase 5 cold verification of the upgrade flow",
        "",
        f"- Target: `{target}`",
        f"- Started: {_iso(started)} — finished: {_iso(finished)} ({finished - started:.0f} s)",
        f"- Overall: **{overall}**" + (f" (failed: {', '.join(failed)})" if failed else ""),
    ]
    if error:
        out.append(f"- The run stopped early: {error}")
    out += [
        "",
        "| Check | What | Verdict | Seconds |",
        "|---|---|---|---|",
    ]
    out += [f"| {c.id} | {TITLES[c.id]} | **{c.verdict}** | {c.seconds:.1f} |" for c in checks]
    for check in checks:
        out += ["", f"## {check.id} — {TITLES[check.id]}", "", f"Verdict: **{check.verdict}**"]
        if check.diagnosis:
            label = "Reason" if check.verdict == "SKIP" else "Diagnosis"
            out += ["", f"{label}: {check.diagnosis}"]
        if check.evidence:
            out += ["", "Evidence:", ""] + _evidence_lines(check.evidence)
    return "\n".join(out) + "\n"


def to_junit(checks: list[CheckResult], error: str | None = None) -> str:
    """One testcase a check; a run that stopped early is one more, failed, testcase (so a CI that
    reads only junit never counts an interrupted run as green)."""
    failures = sum(c.verdict == "FAIL" for c in checks) + (1 if error else 0)
    suite = ET.Element("testsuite", name="cc-ci phase 5", tests=str(len(checks) + (1 if error else 0)),
                       failures=str(failures),
                       skipped=str(sum(c.verdict == "SKIP" for c in checks)),
                       time=f"{sum(c.seconds for c in checks):.1f}")
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname="phase5", name=f"{check.id} {TITLES[check.id]}",
                             time=f"{check.seconds:.1f}")
        if check.verdict == "FAIL":
            ET.SubElement(case, "failure", message=check.diagnosis or "failed").text = check.diagnosis
        elif check.verdict == "SKIP":
            ET.SubElement(case, "skipped", message=check.diagnosis or "skipped")
    if error:
        case = ET.SubElement(suite, "testcase", classname="phase5", name="run completed", time="0.0")
        ET.SubElement(case, "failure", message=f"the run stopped early: {error}").text = error
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


class ReportNotWritten(Exception):
    """Some report files could not be written; ``paths`` holds the ones that were."""

    def __init__(self, problems: list[str], paths: dict[str, str]) -> None:
        super().__init__("; ".join(problems))
        self.paths = paths


def write_all(report_dir: str, target: str, started: float, finished: float,
              results: dict[str, CheckResult], secrets: list[str],
              ids: list[str] | tuple[str, ...] = CHECK_IDS, error: str | None = None) -> dict[str, str]:
    """Write the three files; each one that can be written is, whatever happens to the others.
    Raises :class:`ReportNotWritten` naming each file that could not be written and why."""
    checks = ordered(results, ids)
    files = {
        "REVIEW-5.md": to_markdown(target, started, finished, checks, error),
        "report.json": json.dumps(to_json(target, started, finished, checks, error), indent=2, default=str) + "\n",
        "junit.xml": to_junit(checks, error),
    }
    paths: dict[str, str] = {}
    problems: list[str] = []
    try:
        os.makedirs(report_dir, exist_ok=True)
    except OSError as exc:
        raise ReportNotWritten([f"cannot create the report folder {report_dir}: {exc.strerror or exc}: "
                                "check ccci_report_dir"], paths) from exc
    for name, text in files.items():
        path = os.path.join(report_dir, name)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(redact_text(text, secrets))
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            problems.append(f"cannot write {path}: {exc.strerror or exc}: remove or rename what is there "
                            "(or set ccci_report_dir to another folder)")
            continue
        paths[name] = path
    if problems:
        raise ReportNotWritten(problems, paths)
    return paths
