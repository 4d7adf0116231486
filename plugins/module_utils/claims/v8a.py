# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8a's claims: the launcher the weekly job runs treats each session state as the plan says.

``inputs`` (gathered by roles/v8a_upgrader_agent): ``steps``, one entry per action of
upgrader_session in order (``clean``, ``dry_fresh``, ``dry_done``, ``start_idle``, ``start_busy``,
``run_done``, ``wedge``, ``start_wedged``, ``fresh_busy``, ``stopped``), each with the probe's
``status``, ``previous`` and ``current`` (pane id, pane pid and start time, agent processes as
``pid@start`` with their argv), ``survivors`` (agents of before still alive after the action),
``alive_at_action`` (those alive the moment the launcher was called), ``finished_after_stop`` (run
summaries written after the stop returned), ``panes`` (every pane of the session after the action:
id, pid, start), ``summary_path``, ``pane_tail``, ``launcher_status`` (the launcher's own
``status`` words, compared, never believed) and ``error``; ``wedge_seconds``; ``launcher``.

Each state is seeded so that the launcher sees it as that state: idle = its own finished run,
busy = its own run in flight, wedged = its own run whose agent was stopped (SIGSTOP) and then was
quiet for ``wedge_seconds`` with nothing in flight. What the launcher did is read from identities.
A step that never ran is ``{}``: its claim fails, it never passes.
"""
from __future__ import annotations

import re
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate

LAUNCHER = "the launcher"


def _pane(brief: dict[str, Any]) -> str:
    if not brief or brief.get("status") == "ABSENT":
        return "no session"
    return f"pane {brief.get('pane_id') or '?'} (pid {brief.get('pane_pid') or '?'})"


def _keys(brief: dict[str, Any]) -> list[str]:
    return [str(a.get("key")) for a in (brief or {}).get("agents") or [] if a.get("key")]


def _same_pane(a: dict[str, Any], b: dict[str, Any]) -> bool:
    fields = ("session_id", "pane_id", "pane_pid", "pane_start")
    return bool(a) and bool(b) and a.get("status") != "ABSENT" and b.get("status") != "ABSENT" \
        and all(a.get(f) == b.get(f) for f in fields)


def _kept(brief: dict[str, Any], panes: list[dict[str, Any]]) -> bool:
    """Whether the pane of *brief* (id, pid and start: ids restart with a new tmux server) is still there."""
    return any(p.get("pane_id") == brief.get("pane_id") and p.get("pane_pid") == brief.get("pane_pid")
               and p.get("pane_start") == brief.get("pane_start") for p in panes or [])


def _agents_text(keys: list[str]) -> str:
    return ", ".join(keys) if keys else "none"


def _replaced(step: dict[str, Any], seeded: str, what: str, lie: str) -> tuple[bool, str]:
    """Whether the action replaced the seeded session: the old pane and agents are gone, a new agent runs."""
    prev, cur = step.get("previous") or {}, step.get("current") or {}
    if not step:
        return False, f"{what}: the step never ran"
    if prev.get("status") != seeded:
        article = "an" if seeded[0] in "AEIOU" else "a"
        return False, (f"{what}: could not seed {article} {seeded.lower()} session (it read {prev.get('status') or '?'} "
                       "before the action)")
    old_pane_kept = _kept(prev, step.get("panes") or [])
    survivors = step.get("survivors") or []
    new_agents = [k for k in _keys(cur) if k not in _keys(prev)]
    if step.get("error") and cur.get("status") in (None, "ABSENT"):
        return False, f"{what}: {LAUNCHER} failed and left no session ({step['error']})"
    if old_pane_kept and new_agents:
        return False, (f"{what}: {LAUNCHER} started a second session beside the {seeded.lower()} one "
                       f"({_pane(prev)} kept, agent {_agents_text(new_agents)} added): {lie}")
    if _same_pane(prev, cur) or old_pane_kept:
        return False, (f"{what}: {LAUNCHER} left it in place ({_pane(prev)}, agent(s) {_agents_text(_keys(prev))} "
                       f"{'still alive' if survivors else 'as before'}): {lie}")
    if survivors:
        return False, (f"{what}: {LAUNCHER} replaced the pane but agent process(es) {_agents_text(survivors)} of the "
                       f"{seeded.lower()} session still run: {lie}")
    if not new_agents and cur.get("status") != "IDLE":
        return False, f"{what}: no new agent after the action ({cur.get('status') or '?'}): {lie}"
    return True, ""


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    steps: dict[str, Any] = inputs.get("steps") or {}
    wedge_seconds = inputs.get("wedge_seconds", "?")

    def step(key: str) -> dict[str, Any]:
        return steps.get(key) or {}

    preds: list[Predicate] = []

    # -- the cheap dry run: completes and stays idle with its output -----------------------------
    dry = step("dry_done")
    dry_ok = dry.get("status") == "IDLE" and bool((dry.get("pane_tail") or "").strip())
    if dry.get("status") == "ABSENT":
        dry_diag = (f"the session did not stay after the --dry-run: {LAUNCHER}'s session was gone once its agent "
                    "ended (it must stay idle with its output)")
    else:
        dry_diag = (f"the --dry-run session did not finish idle with its output visible (status "
                    f"{dry.get('status') or '?'}{'; ' + dry['error'] if dry.get('error') else ''})")
    preds.append(Predicate("V8a.dry_run_idle_with_output", dry_ok, dry_diag,
                           {"status": dry.get("status"), "pane": _pane(dry.get("current") or {}),
                            "pane_tail_chars": len(dry.get("pane_tail") or "")}))

    # -- idle -> replaced ------------------------------------------------------------------------
    s = step("start_idle")
    ok, diag = _replaced(s, "IDLE", "start against a finished, idle session",
                         "the launcher does not replace idle sessions")
    preds.append(Predicate("V8a.idle_replaced", ok, diag,
                           {"before": s.get("previous"), "after": s.get("current"), "panes": s.get("panes"),
                            "survivors": s.get("survivors")}))

    # -- busy -> left alone ----------------------------------------------------------------------
    s = step("start_busy")
    prev, cur = s.get("previous") or {}, s.get("current") or {}
    prev_agents = _keys(prev)
    if not s:
        ok, diag = False, "start while busy: the step never ran"
    elif prev.get("status") != "RUNNING" or not prev_agents or \
            (s.get("alive_at_action") is not None and set(prev_agents) - set(s["alive_at_action"])):
        ok, diag = False, (f"start while busy: could not seed a busy run (the run {LAUNCHER} started read "
                           f"{prev.get('status') or '?'} with agent(s) {_agents_text(prev_agents)})")
    else:
        lost = [k for k in prev_agents if k not in _keys(cur)]
        ok = _same_pane(prev, cur) and not lost and len(s.get("panes") or []) == 1
        diag = (f"start while a run was in flight replaced it ({_pane(prev)} → {_pane(cur)}"
                f"{'; agent(s) ' + _agents_text(lost) + ' gone' if lost else ''}): the launcher kills busy runs")
    preds.append(Predicate("V8a.busy_left_alone", ok, diag, {"before": prev, "after": cur}))

    # -- the run completes and stays idle, its summary visible -----------------------------------
    done, started = step("run_done"), step("start_idle")
    if done.get("status") == "ABSENT":
        ok, diag = False, (f"the session did not stay after its run: {LAUNCHER}'s session was gone once the agent "
                           f"ended ({_pane((started.get('current') or {}))} vanished); it must stop and stay idle")
    else:
        ok = done.get("status") == "IDLE" and _same_pane(done.get("current") or {}, started.get("current") or {})
        diag = (f"the run did not complete into the same, idle session (status {done.get('status') or '?'}, "
                f"{_pane(done.get('current') or {})} vs the started {_pane(started.get('current') or {})}"
                f"{'; ' + done['error'] if done.get('error') else ''})")
    preds.append(Predicate("V8a.run_completes_and_stays_idle", ok, diag,
                           {"status": done.get("status"), "after": done.get("current"),
                            "started": started.get("current")}))

    summary = done.get("summary_path")
    tail = done.get("pane_tail") or ""
    why = ("not in the pane" if summary else "no upgrade-all-*.md written by the run" if done.get("status") == "IDLE"
           else "the session never went idle, so none was read")
    shown = bool(summary) and (summary.rsplit("/", 1)[-1] in tail or "PRs to review" in tail)
    preds.append(Predicate(
        "V8a.summary_visible", done.get("status") == "IDLE" and shown,
        f"the finished session does not show its summary (summary file {summary or 'none'}; "
        f"{why})",
        {"summary_path": summary, "pane_tail_chars": len(tail)}))

    # -- wedged: seeded by the rule, then replaced -----------------------------------------------
    w = step("wedge")
    seeded = w.get("status") == "WEDGED" and bool(w.get("frozen")) and not w.get("in_flight")
    preds.append(Predicate(
        "V8a.wedge_seeded", seeded,
        f"could not seed a wedged session through {LAUNCHER} (status {w.get('status') or '?'}, stopped "
        f"{len(w.get('frozen') or [])} process(es), quiet {w.get('seconds_since_change')} s of {wedge_seconds} s"
        f"{'; ' + w['error'] if w.get('error') else ''})",
        {"status": w.get("status"), "frozen": w.get("frozen"), "in_flight": w.get("in_flight"),
         "seconds_since_change": w.get("seconds_since_change"), "wedge_seconds": wedge_seconds}))
    s = step("start_wedged")
    ok, diag = _replaced(s, "WEDGED", "start against a wedged session", "the launcher keeps wedged sessions")
    if not ok and "left it in place" in diag:
        diag = (f"start against a wedged session left it alone ({_pane(s.get('previous') or {})}, stopped agent(s) "
                f"{_agents_text(_keys(s.get('previous') or {}))}): the launcher keeps wedged sessions")
    preds.append(Predicate("V8a.wedged_replaced", ok, diag,
                           {"before": s.get("previous"), "after": s.get("current"), "survivors": s.get("survivors")}))

    # -- fresh always restarts (also a busy run) -------------------------------------------------
    s = step("fresh_busy")
    prev, cur = s.get("previous") or {}, s.get("current") or {}
    if not s:
        ok, diag = False, "fresh while busy: the step never ran"
    elif not _keys(prev):
        ok, diag = False, (f"fresh while busy: could not seed a busy run (it read {prev.get('status') or '?'} with no "
                           "agent)")
    else:
        ok, diag = _replaced(s, prev.get("status") or "RUNNING", "fresh against a running session",
                             "the launcher's fresh does not restart")
    preds.append(Predicate("V8a.fresh_restarts", ok, diag,
                           {"before": prev, "after": cur, "survivors": s.get("survivors")}))

    # -- stop stops the session and its agent ----------------------------------------------------
    s = step("stopped")
    prev = s.get("previous") or {}
    survivors = s.get("survivors") or []
    late = s.get("finished_after_stop") or []
    if not s:
        ok, diag = False, "stop: the step never ran"
    elif s.get("status") != "ABSENT":
        ok, diag = False, f"stop left the session there ({s.get('status')}, {_pane(s.get('current') or {})})"
    elif survivors:
        ok, diag = False, (f"stop left the agent process(es) {_agents_text(survivors)} running after the session "
                           "was gone: the launcher's stop does not stop the agent")
    elif late:
        ok, diag = False, (f"stop left the agent process(es) {_agents_text(s.get('alive_at_action') or [])} to carry "
                           f"their run to its end: {late[0].get('path')} was written {late[0].get('seconds_after_stop')} s "
                           "after the stop returned: the launcher's stop does not stop the agent")
    elif not _keys(prev):
        ok, diag = False, f"stop: could not seed a busy session to stop (it read {prev.get('status') or '?'})"
    else:
        ok, diag = True, ""
    preds.append(Predicate("V8a.stop_stops", ok, diag,
                           {"before": prev, "status": s.get("status"), "survivors": survivors,
                            "finished_after_stop": late}))

    # -- the weekly run is DEFAULT mode ----------------------------------------------------------
    argvs = []
    for entry in steps.values():
        for brief in ((entry or {}).get("previous") or {}, (entry or {}).get("current") or {}):
            for agent in brief.get("agents") or []:
                line = " ".join(agent.get("argv") or [])
                if line and line not in argvs:
                    argvs.append(line)
    with_tests = [a for a in argvs if re.search(r"(^|\s)--with-tests(\s|=|$)", a)]
    not_upgrade_all = [a for a in argvs if "/upgrade-all" not in a]
    preds.append(Predicate(
        "V8a.default_mode", bool(argvs) and not with_tests and not not_upgrade_all,
        (f"{LAUNCHER} ran the agent with --with-tests ({with_tests[0]}): the weekly run must be /upgrade-all in "
         "DEFAULT mode" if with_tests else
         f"{LAUNCHER} ran something other than /upgrade-all ({not_upgrade_all[0]})" if not_upgrade_all else
         "no agent process of the launcher was ever seen"),
        {"agent_argv": argvs}))

    # -- the launcher's status words agree with what tmux and /proc show -------------------------
    words = {"stopped": "ABSENT", "idle": "IDLE", "running": "RUNNING", "wedged": "WEDGED"}
    wrong = []
    judged = 0
    for key, entry in steps.items():
        said = (entry or {}).get("launcher_status") or ""
        seen = (entry or {}).get("status")
        found = [words[w] for w in re.findall(r"\b(stopped|idle|running|wedged)\b", said.lower())]
        if not found or not entry.get("launcher_status_stable") or seen not in words.values():
            continue
        judged += 1
        claim = found[-1]
        # an agent alive (RUNNING or WEDGED) vs none (IDLE) vs no session (ABSENT): the launcher's clock for
        # "wedged" may differ from ours, the presence of a session and an agent may not
        alive = {"RUNNING", "WEDGED"}
        if claim != seen and not (claim in alive and seen in alive):
            wrong.append(f"{key}: status says {claim} while the session is {seen} ({_pane(entry.get('current') or {})}, "
                         f"agent(s) {_agents_text(_keys(entry.get('current') or {}))})")
    preds.append(Predicate(
        "V8a.status_truthful", judged > 0 and not wrong,
        f"{LAUNCHER}'s status lies: {'; '.join(wrong)}" if wrong else
        f"{LAUNCHER}'s status was never compared (no step with a known word, e.g. 'stopped', in its output)",
        {"judged": judged, "wrong": wrong}))
    return preds
