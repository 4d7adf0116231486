# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A check's verdict from what it observed, and its storage as ``<report_dir>/checks/<id>.json``."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import check_registry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate

__all__ = ["CHECK_IDS", "VERDICTS", "CheckResult", "Predicate", "evaluate", "load_all", "store"]

CHECK_IDS = check_registry.ids()
VERDICTS = ("PASS", "FAIL", "SKIP")
NO_PREDICATE = "the check recorded no predicate"


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


def as_predicate(check_id: str, raw: Predicate | Mapping[str, Any]) -> Predicate:
    """A predicate of this check; one not named ``<ID>.<claim>`` is a failing predicate saying so."""
    if not isinstance(raw, Predicate):
        raw = Predicate(str(raw.get("name") or ""), _truthy(raw.get("ok")), str(raw.get("diagnosis") or ""),
                        dict(raw.get("inputs") or {}))
    prefix = f"{check_id}."
    if not raw.name.startswith(prefix) or raw.name == prefix:
        return Predicate(raw.name, False, f"predicate {raw.name!r} is not named {prefix}<claim>: fix the "
                         f"check's role or claims module", dict(raw.inputs))
    return Predicate(raw.name, _truthy(raw.ok), raw.diagnosis or f"{raw.name} does not hold", dict(raw.inputs))


def from_expectations(check_id: str, expectations: Iterable[Mapping[str, Any]]) -> list[Predicate]:
    """The old ``expectations`` (``that``/``diagnosis``) as predicates ``<ID>.expectation_<n>`` unless named."""
    return [as_predicate(check_id, {"name": e.get("name") or f"{check_id}.expectation_{n}", "ok": e.get("that"),
                                    "diagnosis": e.get("diagnosis") or "an expectation was not met"})
            for n, e in enumerate(expectations, 1)]


def claims_of(check_id: str, inputs: Mapping[str, Any]) -> list[Predicate]:
    """The predicates of the check's claims (its module, or its function in the registry) over ``inputs``.

    A claims module that raises, or returns something other than predicates, is a failing predicate
    naming the module and the exception: a broken judge never passes a check.
    """
    check = check_registry.get(check_id)
    if check.claims is None:
        return []
    try:
        found = check.evaluate(dict(inputs))
        wrong = [p for p in found if not isinstance(p, Predicate)]
        if wrong:
            raise TypeError(f"evaluate() returned {type(wrong[0]).__name__}, not Predicate")
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any bug in a judge fails the check
        return [Predicate(f"{check_id}.claims", False,
                          f"the claims module {check.claims_name} raised {type(exc).__name__}: {exc}", {})]
    return [as_predicate(check_id, p) for p in found]


def json_safe(value: Any, scrub: Callable[[str], str] | None = None) -> Any:
    """``value`` as plain JSON types (anything else as its text), every string passed through ``scrub``."""
    plain = json.loads(json.dumps(value, default=str))
    if scrub is None:
        return plain

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return scrub(item)
        if isinstance(item, list):
            return [walk(i) for i in item]
        if isinstance(item, dict):
            return {scrub(k): walk(v) for k, v in item.items()}
        return item

    return walk(plain)


def evaluate(check_id: str, started: float | None, predicates: Iterable[Predicate | Mapping[str, Any]] = (),
             evidence: dict[str, Any] | None = None, error: str | None = None, skip: str | None = None,
             now: float | None = None, *, inputs: Mapping[str, Any] | None = None,
             expectations: Iterable[Mapping[str, Any]] = (),
             scrub: Callable[[str], str] | None = None) -> CheckResult:
    """The verdict from the check's predicates: the given ones, the old expectations, and its claims module's.

    SKIP when told why; FAIL on an error; FAIL when there is no predicate at all (a check that asserts
    nothing); FAIL when any predicate does not hold, with every failing diagnosis (in order, once);
    else PASS. The evidence gets ``predicates`` ({name, ok, diagnosis, inputs}), JSON-safe and
    passed through ``scrub`` (the report's redaction) like the rest of the evidence.
    """
    check_registry.get(check_id)
    now = time.time() if now is None else now
    seconds = round(max(0.0, now - started), 1) if started else 0.0
    evidence = dict(evidence or {})

    def result(verdict: str, diagnosis: str | None) -> CheckResult:
        if diagnosis and scrub:
            diagnosis = scrub(diagnosis)
        return CheckResult(check_id, verdict, seconds, json_safe(evidence, scrub), diagnosis, now)

    if skip:
        return result("SKIP", skip)
    judged = ([as_predicate(check_id, p) for p in predicates] + from_expectations(check_id, expectations)
              + claims_of(check_id, inputs or {}))
    evidence["predicates"] = [p.as_dict() for p in judged]
    if error:
        return result("FAIL", str(error).strip().splitlines()[0])
    if not judged:
        return result("FAIL", NO_PREDICATE)
    failed = [p.diagnosis for p in judged if not p.ok]
    if failed:
        return result("FAIL", "; ".join(dict.fromkeys(failed)))
    return result("PASS", None)


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
