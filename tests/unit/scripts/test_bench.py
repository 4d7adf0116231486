# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench's own-work split and real-box projection, on a timeline with known spans."""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def timeline() -> dict:
    """A 100 s run: 3 tasks; waits: a build (10-20, overlapping a bridge pickup 8-12), an agent run
    (30-60), a quiet window (62-65, lab poll 1 s, window 3 s), cron (70-95, lab offset 20 s), and an
    observed deploy inside the agent run (not a wait of the run's own)."""
    return {
        "start": 0.0, "end": 100.0,
        "builds": [{"number": 7, "recipe": "custom-html"}],
        "waits": [
            {"kind": "bridge", "start": 8.0, "end": 12.0, "fired": True},
            {"kind": "build", "start": 10.0, "end": 20.0, "build": 7},
            {"kind": "agent", "start": 30.0, "end": 60.0},
            {"kind": "deploy", "start": 40.0, "end": 50.0, "observed": True},
            {"kind": "bridge", "start": 62.0, "end": 65.0, "fired": False, "window": 3.0, "poll": 1.0},
            {"kind": "cron", "start": 70.0, "end": 95.0},
        ],
        "tasks": [
            {"name": "coopcloud.cc_ci.v1 : V1 | wait", "start": 5.0, "end": 22.0},
            {"name": "V4 | agent", "start": 25.0, "end": 66.0},
            {"name": "CRON | fire", "start": 68.0, "end": 96.0},
        ],
        "api": {"calls": 40, "seconds": 3.0, "in_wait": 2.0},
    }


def test_own_work_is_wall_minus_the_union_of_waits_with_its_top_items():
    own = bench.own_work(timeline(), 0.0, 100.0)
    # waits: 8-20 (12) + 30-60 (30) + 62-65 (3) + 70-95 (25) = 70; the deploy is inside the agent run
    assert own["own_work_seconds"] == 30.0
    assert own["own_work_parts"]["waits_by_kind"] == {"agent": 30.0, "bridge": 7.0, "build": 10.0, "cron": 25.0}
    top = {t["item"]: t["seconds"] for t in own["own_work_top"]}
    # tasks outside waits: V1 5-8 + 20-22 = 5; V4 25-30 + 60-62 + 65-66 = 8; CRON 68-70 + 95-96 = 3
    assert top["V1 | wait"] == 5.0 and top["V4 | agent"] == 8.0 and top["CRON | fire"] == 3.0
    assert top["between tasks (2 gaps: includes, templating, the strategy)"] == 5.0  # 22-25, 66-68
    assert top["ansible-playbook start-up, parsing and exit"] == 9.0  # 0-5, 96-100
    assert sum(top.values()) == own["own_work_seconds"]
    assert own["own_work_parts"]["api_outside_waits_seconds"] == 1.0


def test_the_projection_puts_each_counted_wait_at_its_real_duration():
    res = bench.project(timeline(), 30.0, lab_poll=1.0, lab_cron_offset=20.0, agent_s=600.0)
    parts = res["real_box_projection"]["parts_seconds"]
    assert parts == {"bridge pickups": 30.0, "builds": 61.0, "agent runs": 600.0,
                     "bridge quiet windows": 90.0, "cron": 3605.0}
    assert res["real_box_projection_seconds"] == 30.0 + 30 + 61 + 600 + 90 + 3605
    assert "A (the agent's run time, a parameter)" in res["real_box_projection_formula"]


def test_launcher_calls_keep_their_lab_time_and_the_wedge_window_is_the_boxs():
    tl = {"builds": [], "waits": [
        {"kind": "launcher", "start": 0.0, "end": 2.0, "verb": "fresh"},
        {"kind": "launcher", "start": 2.0, "end": 3.0, "exits": 1},
        {"kind": "launcher", "start": 3.0, "end": 13.0, "window": 10.0},
        {"kind": "launcher", "start": 13.0, "end": 20.0},  # waiting for a run to finish: an agent's run
        {"kind": "agent", "start": 20.0, "end": 21.0, "sample": 1.0},  # a probe watching the pane
        {"kind": "agent", "start": 21.0, "end": 22.0, "sample": 1.0},
    ]}
    parts = bench.project(tl, 5.0, lab_poll=1.0, lab_cron_offset=90.0, agent_s=600.0)["real_box_projection"]
    assert parts["parts_seconds"] == {"launcher calls and agent exits": 3.0, "wedge windows": 900.0,
                                      "launcher runs": 600.0, "probe windows": 4.0}


def test_from_report_needs_the_callbacks_task_spans(tmp_path):
    (tmp_path / "report.json").write_text('{"timeline": {"tasks": [], "waits": []}}')
    args = argparse.Namespace(poll_interval=1.0, cron_offset=90, agent_seconds=600.0)
    with pytest.raises(RuntimeError, match="callbacks_enabled"):
        bench.from_report(tmp_path, args)
