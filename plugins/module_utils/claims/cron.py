# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CRON's claims: one weekly entry, firing at completion + offset on the daemon's clock, with the
service's environment; the pre-check passes in cron's environment; the first fire is seen; the docs
state the schedule; a second install changes nothing.

``inputs`` (gathered by roles/completion_cron): ``entry`` (completion_cron's result), ``completion``
(when the entry was anchored, ISO 8601 or unix seconds), ``offset`` (seconds), ``root`` (the cc-ci
root the job line names), ``again`` (completion_cron run again in check mode after the fire:
``changed`` and ``crontab``, the crontab read back cold, secrets masked), ``precheck`` and ``fire``
(``enabled`` and the module's ``result``) and ``docs`` (``remaining`` lines of the skill and the memory
note that still state the placeholder, ``paths``). A missing input fails its claim, never passes it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor, cron_entry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig

# Cron's resolution: a computed T0 is completion + offset rounded up to the minute.
ANCHOR_SLACK = 60
NOT_WATCHED = "not watched (the pre-check failed)"


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    entry = inputs.get("entry") or {}
    read = _read_back(inputs)
    return [
        _one_entry(entry, read),
        _fires_at_completion_plus_offset(inputs, entry, read),
        _environment_from_unit(entry, read),
        _step("CRON.precheck_as_cron", inputs.get("precheck"), "pre-check failed in cron's environment",
              lambda r: bool(r.get("passed")), "not run (check mode)"),
        _step("CRON.first_fire_in_t0_minute", inputs.get("fire"), "first fire not observed",
              lambda r: r.get("fired_at") is not None and 0 <= float(r.get("gap_seconds") or 0) < 60, NOT_WATCHED),
        _step("CRON.first_fire_ran_upgrade_all", inputs.get("fire"), "first fire not observed",
              lambda r: bool(r.get("passed")), NOT_WATCHED),
        _docs_state_the_schedule(inputs.get("docs")),
        _idempotent(inputs.get("again"), read),
    ]


def _read_back(inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The entry as the crontab holds it after the fire: its job lines, schedule and variables."""
    text = dig(inputs, "again", "crontab")
    if not isinstance(text, str) or not dig(inputs, "entry", "schedule"):
        return None
    lines = text.split("\n")
    root = (inputs.get("root") or "").rstrip("/")
    found = cron_entry.locate(lines, cron_anchor.MARKER_ID, f"{root}/" if root else None)
    jobs = [lines[i] for i in found.job_indexes]
    env: dict[str, str] = {}
    for line in lines[:found.job_indexes[0]] if jobs else []:
        var = cron_entry.parse_var_line(line)
        if var is not None:
            env[var[0]] = var[1]
    return {"jobs": jobs, "schedule": " ".join(jobs[0].split()[:5]) if jobs else None, "env": env,
            "where": dig(inputs, "entry", "crontab") or "the crontab"}


def _one_entry(entry: dict[str, Any], read: dict[str, Any] | None) -> Predicate:
    jobs = (read or {}).get("jobs") or []
    if not entry.get("schedule"):
        diagnosis = "the weekly entry was not installed"
    elif read is None:
        diagnosis = "the crontab was not read back after the fire: how many entries it holds is unknown"
    else:
        diagnosis = (f"the {read['where']} holds {len(jobs)} ccci-upgrade-all job lines for this root, not one: "
                     + ("something added another, so /upgrade-all fires more than once a week: "
                        + " | ".join(j[:120] for j in jobs[1:]) if jobs else "something removed it, so it never fires"))
    return Predicate("CRON.one_entry", bool(entry.get("schedule")) and len(jobs) == 1, diagnosis,
                     {"schedule": entry.get("schedule"), "job_lines": len(jobs) if read else None})


def _fires_at_completion_plus_offset(inputs: dict[str, Any], entry: dict[str, Any],
                                     read: dict[str, Any] | None) -> Predicate:
    anchor = entry.get("anchor") or {}
    offset = _number(inputs.get("offset"))
    try:
        t0 = cron_anchor.parse_time(anchor["t0"]).astimezone(cron_anchor.zone(anchor["tz"]))
        completion = cron_anchor.parse_time(inputs["completion"])
    except (KeyError, TypeError, ValueError):
        return Predicate("CRON.fires_at_completion_plus_offset", False,
                         "no anchor to judge: the entry's T0, its timezone or the completion time is missing",
                         {"anchor": anchor, "completion": inputs.get("completion"), "offset": offset})
    gap = (t0 - completion).total_seconds()
    expected = cron_anchor.schedule_for(t0)
    held = (read or {}).get("schedule")
    problems = []
    # an anchor kept from an earlier install (marker, state file) answers to that install's completion
    if anchor.get("source") == "computed" and offset is not None and not (
            offset <= gap < offset + ANCHOR_SLACK or (anchor.get("moved") and gap >= offset)):
        problems.append(f"T0 {t0.isoformat()} is {gap:.0f} s after completion {completion.isoformat()}, not the "
                        f"offset {offset:.0f} s rounded up to the minute")
    if read is None or held is None:
        problems.append("the entry was not read back from the crontab: when it fires is unknown")
    elif held != expected:
        problems.append(f"the {read['where']} holds the job at '{held}' but T0 {t0.isoformat()} is '{expected}' on the "
                        f"daemon's clock ({anchor.get('tz')}): something rewrote the entry, it "
                        + _late(held, expected, t0))
    return Predicate("CRON.fires_at_completion_plus_offset", not problems, "; ".join(problems),
                     {"t0": anchor.get("t0"), "tz": anchor.get("tz"), "source": anchor.get("source"),
                      "completion": inputs.get("completion"), "offset": offset, "gap_seconds": round(gap, 1),
                      "expected_schedule": expected, "crontab_schedule": held})


def _late(held: str, expected: str, t0: datetime) -> str:
    """How far from T0 the held schedule fires, in words: ``fires 60 min late``."""
    try:
        minute, hour, _dom, _mon, dow = held.split()
        then = t0.replace(hour=int(hour), minute=int(minute))
        days = (int(dow) - t0.isoweekday() % 7) % 7
        late = round(((then - t0).total_seconds() / 60 + days * 24 * 60) % (7 * 24 * 60))
    except (ValueError, TypeError):
        return f"fires at '{held}' instead of '{expected}'"
    return f"fires {late} min late" if late <= 7 * 24 * 60 / 2 else f"fires {7 * 24 * 60 - late} min early"


def _environment_from_unit(entry: dict[str, Any], read: dict[str, Any] | None) -> Predicate:
    given = entry.get("env") or {}
    held = (read or {}).get("env") or {}
    lost = sorted(k for k in given if k not in held)
    changed = sorted(k for k in given if k in held and held[k] != given[k])
    ok = bool(given) and {"PATH", "HOME"} <= set(given) and read is not None and not lost and not changed
    if not given or read is None:
        diagnosis = ("the entry's environment was not read back from the crontab" if given
                     else "the entry was installed without the service's environment (no PATH, HOME)")
    else:
        diagnosis = (f"the {read['where']} no longer gives the job {', '.join(lost + changed)} as "
                     "cc-ci-loops.service does: something rewrote the entry's variable lines, so the job runs with "
                     "cron's defaults" if lost or changed else "the service's PATH or HOME is not in the entry")
    return Predicate("CRON.environment_from_unit", ok, diagnosis,
                     {"given": sorted(given), "held": sorted(held), "lost": lost, "changed": changed})


def _step(name: str, step: Any, what: str, held: Callable[[dict[str, Any]], bool], skipped: str) -> Predicate:
    """A claim on the pre-check's or the first fire's result; a step switched off holds, one skipped does not."""
    step = step or {}
    result = step.get("result") or {}
    if step.get("enabled") is False:
        return Predicate(name, True, "", {"enabled": False})
    ran = bool(result) and not result.get("skipped")
    ok = ran and held(result)
    why = result.get("diagnosis") or (skipped if result.get("skipped") else "not run")
    return Predicate(name, ok, f"{what}: {why}",
                     {k: result.get(k) for k in ("passed", "fired_at", "gap_seconds", "launcher_line", "launcher_rc",
                                                 "session_status", "summary", "found", "cached") if k in result})


def _docs_state_the_schedule(docs: Any) -> Predicate:
    docs = docs or {}
    remaining = docs.get("remaining")
    texts = [r.get("text") for r in remaining or [] if isinstance(r, dict)]
    return Predicate(
        "CRON.docs_state_the_schedule", remaining is not None and not texts,
        f"the superseded placeholder schedule is still stated in {' | '.join(texts)} ({', '.join(docs.get('paths') or [])})"
        if texts else "the skill's and the memory note's schedule were not written",
        {"remaining": texts, "paths": docs.get("paths")})


def _idempotent(again: Any, read: dict[str, Any] | None) -> Predicate:
    again = again or {}
    ok = again.get("changed") is False and read is not None
    return Predicate(
        "CRON.idempotent", ok,
        "installing again would change the crontab: what the daemon holds is no longer the entry as installed"
        if again.get("changed") else "the entry was not installed again (check mode) to prove a second run changes nothing",
        {"changed": again.get("changed")})


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
