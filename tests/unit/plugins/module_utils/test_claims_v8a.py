# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8a's claims over what roles/v8a_upgrader_agent saw: a healthy launcher holds every claim, and each
lie of the launcher (the lab's mutants) fails its own predicate, judged by identities, not words."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v8a

RUN = ("python3", "/srv/cc-ci/bin/claude", "-p", "/upgrade-all")
DRY = ("python3", "/srv/cc-ci/bin/claude", "-p", "/upgrade-all --dry-run")


def agent(pid: int, argv: tuple[str, ...] = RUN) -> dict:
    return {"pid": pid, "start": pid * 10, "key": f"{pid}@{pid * 10}", "state": "S", "argv": list(argv)}


def brief(status: str, pane: int | None = None, agents: tuple = ()) -> dict:
    if status == "ABSENT":
        return {"status": "ABSENT", "session_id": None, "pane_id": None, "pane_pid": None, "pane_start": None,
                "agents": []}
    return {"status": status, "session_id": "$0", "session_created": 1, "pane_id": "%0", "pane_pid": pane,
            "pane_start": pane * 10, "agents": list(agents)}


def step(status: str, previous: dict, current: dict, said: str, **extra) -> dict:
    panes = [] if current["status"] == "ABSENT" else [
        {"pane_id": current["pane_id"], "pane_pid": current["pane_pid"], "pane_start": current["pane_start"]}]
    alive = {a["key"] for a in current.get("agents", [])}
    out = {"status": status, "previous": previous, "current": current, "panes": panes,
           "survivors": [a["key"] for a in previous.get("agents", []) if a["key"] in alive],
           "launcher_status": said, "launcher_status_stable": True, "error": None, "frozen": [], "in_flight": [],
           "summary_path": None, "pane_tail": ""}
    out.update(extra)
    return out


SUMMARY = "/srv/cc-ci/.cc-ci-logs/upgrades/upgrade-all-20261130T000000Z.md"
A, B, C, D, E = 100, 200, 400, 600, 800
HEALTHY = {
    "wedge_seconds": 10,
    "launcher": "/srv/cc-ci/cc-ci-plan/launch-upgrader.sh",
    "steps": {
        "clean": step("ABSENT", brief("ABSENT"), brief("ABSENT"), "stopped"),
        "dry_fresh": step("RUNNING", brief("ABSENT"), brief("RUNNING", A, (agent(A + 1, DRY),)), "cc-ci-upgrader RUNNING"),
        "dry_done": step("IDLE", brief("IDLE", A), brief("IDLE", A), "cc-ci-upgrader IDLE",
                         pane_tail="CANDIDATES: custom-html-tiny\nRESULT: DRY-RUN\ncc-ci-upgrader: idle"),
        "start_idle": step("RUNNING", brief("IDLE", A), brief("RUNNING", B, (agent(B + 1),)), "cc-ci-upgrader RUNNING"),
        "start_busy": step("RUNNING", brief("RUNNING", B, (agent(B + 1),)), brief("RUNNING", B, (agent(B + 1),)),
                           "cc-ci-upgrader RUNNING"),
        "run_done": step("IDLE", brief("RUNNING", B, (agent(B + 1),)), brief("IDLE", B), "cc-ci-upgrader IDLE",
                         summary_path=SUMMARY, pane_tail=f"## PRs to review\n- #3\nsummary: {SUMMARY}\nRESULT: DONE"),
        "wedge": step("WEDGED", brief("IDLE", B), brief("WEDGED", C, (agent(C + 1, DRY),)), "cc-ci-upgrader WEDGED",
                      frozen=[{"pid": C + 1, "command": " ".join(DRY)}]),
        "start_wedged": step("RUNNING", brief("WEDGED", C, (agent(C + 1, DRY),)), brief("RUNNING", D, (agent(D + 1),)),
                             "cc-ci-upgrader RUNNING"),
        "fresh_busy": step("RUNNING", brief("RUNNING", D, (agent(D + 1),)), brief("RUNNING", E, (agent(E + 1),)),
                           "cc-ci-upgrader RUNNING"),
        "stopped": step("ABSENT", brief("RUNNING", E, (agent(E + 1),)), brief("ABSENT"), "stopped"),
    },
}


def judged(inputs: dict) -> dict[str, tuple[bool, str]]:
    return {p.name: (p.ok, p.diagnosis) for p in v8a.evaluate(inputs)}


def lie(**steps) -> dict:
    inputs = copy.deepcopy(HEALTHY)
    inputs["steps"].update(steps)
    return inputs


def failing(inputs: dict) -> dict[str, str]:
    return {name: diag for name, (ok, diag) in judged(inputs).items() if not ok}


def test_a_healthy_launcher_holds_every_claim() -> None:
    got = judged(HEALTHY)
    assert set(got) == {"V8a.dry_run_idle_with_output", "V8a.idle_replaced", "V8a.busy_left_alone",
                        "V8a.run_completes_and_stays_idle", "V8a.summary_visible", "V8a.wedge_seeded",
                        "V8a.wedged_replaced", "V8a.fresh_restarts", "V8a.stop_stops", "V8a.default_mode",
                        "V8a.status_truthful"}
    assert failing(HEALTHY) == {}


def test_nothing_read_holds_nothing() -> None:
    assert not any(ok for ok, dummy in judged({}).values())


BUSY_B = brief("RUNNING", B, (agent(B + 1),))
WEDGED_C = brief("WEDGED", C, (agent(C + 1, DRY),))


@pytest.mark.parametrize("steps, claim, words", [
    # start kills a busy run: a new pane process and agent where the old ones were
    ({"start_busy": step("RUNNING", BUSY_B, brief("RUNNING", 300, (agent(301),)), "x")},
     "V8a.busy_left_alone", "the launcher kills busy runs"),
    # start keeps a wedged session: same pane, same stopped agent
    ({"start_wedged": step("WEDGED", WEDGED_C, WEDGED_C, "x")}, "V8a.wedged_replaced", "keeps wedged sessions"),
    # start leaves an idle session in place
    ({"start_idle": step("IDLE", brief("IDLE", A), brief("IDLE", A), "x")}, "V8a.idle_replaced",
     "does not replace idle sessions"),
    # start opens a second window beside the idle one
    ({"start_idle": step("RUNNING", brief("IDLE", A), brief("RUNNING", A, (agent(B + 1),)), "x",
                         panes=[{"pane_id": "%0", "pane_pid": A, "pane_start": A * 10},
                                {"pane_id": "%1", "pane_pid": B, "pane_start": B * 10}])},
     "V8a.idle_replaced", "second session beside the idle one"),
    # fresh leaves a running session alone
    ({"fresh_busy": step("RUNNING", brief("RUNNING", D, (agent(D + 1),)), brief("RUNNING", D, (agent(D + 1),)), "x")},
     "V8a.fresh_restarts", "fresh does not restart"),
    # a new pane, but the old agent runs on
    ({"fresh_busy": step("RUNNING", brief("RUNNING", D, (agent(D + 1),)), brief("RUNNING", E, (agent(E + 1),)), "x",
                         survivors=[agent(D + 1)["key"]])},
     "V8a.fresh_restarts", "still run"),
    # stop leaves the agent process running
    ({"stopped": step("ABSENT", brief("RUNNING", E, (agent(E + 1),)), brief("ABSENT"), "stopped",
                      survivors=[agent(E + 1)["key"]])}, "V8a.stop_stops", "stop does not stop the agent"),
    # the session self-terminates after its run
    ({"run_done": step("ABSENT", BUSY_B, brief("ABSENT"), "stopped", error="the session did not stay")},
     "V8a.run_completes_and_stays_idle", "the session did not stay after its run"),
    ({"dry_done": step("ABSENT", brief("ABSENT"), brief("ABSENT"), "stopped")},
     "V8a.dry_run_idle_with_output", "the session did not stay after the --dry-run"),
    # the run completes into another session than the one start left running
    ({"run_done": step("IDLE", BUSY_B, brief("IDLE", 300), "cc-ci-upgrader IDLE", summary_path=SUMMARY,
                       pane_tail=SUMMARY)}, "V8a.run_completes_and_stays_idle", "not the same"),
    # no summary in the finished pane
    ({"run_done": step("IDLE", BUSY_B, brief("IDLE", B), "cc-ci-upgrader IDLE", summary_path=None, pane_tail="x")},
     "V8a.summary_visible", "no upgrade-all-*.md"),
    # --with-tests passed to the agent
    ({"start_idle": step("RUNNING", brief("IDLE", A), brief("RUNNING", B, (agent(B + 1, RUN[:3] + (
        "/upgrade-all --with-tests",)),)), "x")}, "V8a.default_mode", "ran the agent with --with-tests"),
    # status says RUNNING for a dead agent
    ({"run_done": step("IDLE", BUSY_B, brief("IDLE", B), "cc-ci-upgrader RUNNING", summary_path=SUMMARY,
                       pane_tail=SUMMARY)}, "V8a.status_truthful", "status says RUNNING while the session is IDLE"),
    # a wedge that could not be seeded is never a pass
    ({"wedge": step("RUNNING", brief("IDLE", B), brief("RUNNING", C, (agent(C + 1, DRY),)), "x",
                    frozen=[{"pid": C + 1}], in_flight=[{"pid": 9}])}, "V8a.wedge_seeded", "could not seed a wedged"),
    # a busy run that ended before start looked: not a pass for "left alone"
    ({"start_busy": step("IDLE", brief("IDLE", B), brief("IDLE", B), "x")}, "V8a.busy_left_alone",
     "could not seed a busy run"),
    # the run ended during the probe, before the launcher was called: not a busy run either
    ({"start_busy": step("RUNNING", BUSY_B, brief("RUNNING", 300, (agent(301),)), "x", alive_at_action=[])},
     "V8a.busy_left_alone", "could not seed a busy run"),
])
def test_each_lie_fails_its_claim(steps, claim, words) -> None:
    bad = failing(lie(**steps))
    assert claim in bad, f"{claim} held under the lie: {judged(lie(**steps))[claim]}"
    assert words.replace("not the same", "did not complete into the same") in bad[claim]


def test_the_launchers_unknown_status_words_are_not_judged_but_a_known_lie_is() -> None:
    inputs = copy.deepcopy(HEALTHY)
    for entry in inputs["steps"].values():
        entry["launcher_status"] = "upgrader: ok"
    assert "V8a.status_truthful" in failing(inputs)  # nothing compared is not a pass
    inputs["steps"]["clean"]["launcher_status"] = "stopped"
    assert "V8a.status_truthful" not in failing(inputs)
    # an unstable moment (the run ended during the call) is not judged
    inputs["steps"]["run_done"].update(launcher_status="cc-ci-upgrader RUNNING", launcher_status_stable=False)
    assert "V8a.status_truthful" not in failing(inputs)
