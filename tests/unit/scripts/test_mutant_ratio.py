# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/mutant_ratio.py: each target's time under a mutant against its healthy time, worst first."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("mutant_ratio", ROOT / "scripts" / "mutant_ratio.py")
mutant_ratio = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutant_ratio)


def files(tmp_path: Path, v4_under_mutant: float) -> list[str]:
    (tmp_path / "mutants.json").write_text(json.dumps({"mutants": [
        {"name": "bridge-no-status", "check_seconds": {"V4": v4_under_mutant}},
        {"name": "cron-sync-shifts-hour", "check_seconds": {"CRON": 230.0, "V9": 5.0}}]}))
    (tmp_path / "healthy.json").write_text(json.dumps({"checks": {"V4": [40.0, 50.0, 60.0], "CRON": [200.0]}}))
    return ["--mutants", str(tmp_path / "mutants.json"), "--healthy", str(tmp_path / "healthy.json"),
            "--json", str(tmp_path / "ratio.json")]


def test_the_worst_ratio_is_against_the_median_healthy_time_and_over_3x_fails(tmp_path, capsys):
    assert mutant_ratio.main(files(tmp_path, 540.0)) == 1
    out = capsys.readouterr().out
    assert "worst: bridge-no-status on V4: 10.80x its healthy time (540.0 s vs 50.0 s); 1 above 3x; " \
           "1 without a healthy time" in out
    rows = json.loads((tmp_path / "ratio.json").read_text())["rows"]
    assert [(r["mutant"], r["check"], r["ratio"]) for r in rows] == [
        ("bridge-no-status", "V4", 10.8), ("cron-sync-shifts-hour", "CRON", 1.15), ("cron-sync-shifts-hour", "V9", None)]


def test_within_3x_passes_and_missing_inputs_say_what_to_run(tmp_path, capsys):
    assert mutant_ratio.main(files(tmp_path, 120.0)) == 0
    assert mutant_ratio.main(["--mutants", str(tmp_path / "none.json")]) == 2
    assert "run `make mutants`" in capsys.readouterr().err


def test_a_bench_runs_per_check_can_be_the_healthy_time(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"per_check": {"V4": {"seconds": 200.0}, "CRON": {"seconds": 100.0}}}))
    assert mutant_ratio.healthy_seconds(None, bench) == {"V4": 200.0, "CRON": 100.0}


def test_healthy_runs_report_folders_can_be_the_healthy_time(tmp_path, capsys):
    for run, (v4, verdict) in {"a": (40.0, "PASS"), "b": (60.0, "PASS"), "c": (5.0, "FAIL")}.items():
        (tmp_path / run / "checks").mkdir(parents=True)
        (tmp_path / run / "checks" / "V4.json").write_text(json.dumps({"id": "V4", "verdict": verdict, "seconds": v4}))
    runs = [tmp_path / r for r in "abc"]
    assert mutant_ratio.healthy_seconds(None, None, runs) == {"V4": 50.0}  # a FAIL is no healthy time
    argv = files(tmp_path, 140.0)[:2] + [a for r in runs for a in ("--healthy-run", str(r))]
    assert mutant_ratio.main(argv) == 0
    assert "worst: bridge-no-status on V4: 2.80x its healthy time (140.0 s vs 50.0 s)" in capsys.readouterr().out
