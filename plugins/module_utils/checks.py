# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A check's verdict from what it observed, and its storage as ``<report_dir>/checks/<id>.json``."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

CHECK_IDS = ("V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V8a", "V9", "CRON")
VERDICTS = ("PASS", "FAIL", "SKIP")


@dataclass
class CheckResult:
    id: str
    verdict: str
    seconds: float
    evidence: dict[str, Any] = field(default_factory=dict)
    diagnosis: str | None = None
    recorded: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _truthy(value: Any) -> bool:
    # Ansible hands templated booleans over as strings when a task passes them through a dict.
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def evaluate(check_id: str, started: float | None, expectations: list[dict[str, Any]],
             evidence: dict[str, Any] | None = None, error: str | None = None,
             skip: str | None = None, now: float | None = None) -> CheckResult:
    """SKIP when told why; FAIL on an error or any unmet expectation (all their diagnoses); else PASS.

    A check with no expectation at all cannot pass: that would be a check that asserts nothing.
    """
    if check_id not in CHECK_IDS:
        raise ValueError(f"unknown check id {check_id!r}; expected one of {', '.join(CHECK_IDS)}")
    now = time.time() if now is None else now
    seconds = round(max(0.0, now - started), 1) if started else 0.0
    evidence = dict(evidence or {})
    if skip:
        return CheckResult(check_id, "SKIP", seconds, evidence, skip, now)
    if error:
        return CheckResult(check_id, "FAIL", seconds, evidence, str(error).strip().splitlines()[0], now)
    if not expectations:
        return CheckResult(check_id, "FAIL", seconds, evidence, "the check recorded no expectation", now)
    failed = [str(e.get("diagnosis") or "an expectation was not met") for e in expectations
              if not _truthy(e.get("that"))]
    if failed:
        return CheckResult(check_id, "FAIL", seconds, evidence, "; ".join(dict.fromkeys(failed)), now)
    return CheckResult(check_id, "PASS", seconds, evidence, None, now)


def store(report_dir: str, result: CheckResult) -> str:
    folder = os.path.join(report_dir, "checks")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{result.id}.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result.as_dict(), handle, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)
    return path


def load_all(report_dir: str) -> dict[str, CheckResult]:
    folder = os.path.join(report_dir, "checks")
    results: dict[str, CheckResult] = {}
    if not os.path.isdir(folder):
        return results
    for name in os.listdir(folder):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            data = json.load(handle)
        results[data["id"]] = CheckResult(**data)
    return results
