# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 10, item 9: no check under a mutant takes more than 3x its healthy time.

Joins each mutant's targets' own seconds (out/mutants.json, ``check_seconds``, written by
tests/integration/test_mutants.py) with the healthy seconds of the same checks: out/healthy-checks.json
(every PASS of each check in the healthy runs the integration tests make anyway, at the mutants'
settings; the median is used) or, with ``--bench``, the ``per_check`` of a bench run (out/bench.json).
No extra run: it reads what `make test` (or `make mutants` after `make integration`) left.

Prints one line per (mutant, check), worst ratio first, and the worst ratio; exit 1 when a ratio is
above ``--limit`` (default 3), 2 when the inputs are missing. ``--json PATH`` writes the table.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_seconds(report_dirs: list[Path]) -> dict[str, list[float]]:
    """Every PASS of each check in these runs' report folders (``<dir>/checks/<id>.json``)."""
    times: dict[str, list[float]] = {}
    for folder in report_dirs:
        for path in sorted((folder / "checks").glob("*.json")):
            result = json.loads(path.read_text())
            if result.get("verdict") == "PASS" and result.get("seconds"):
                times.setdefault(result["id"], []).append(float(result["seconds"]))
    return times


def healthy_seconds(healthy: Path | None, bench: Path | None, runs: list[Path] | None = None) -> dict[str, float]:
    """Each check's healthy seconds: the median of the healthy runs', else the bench run's."""
    if runs:
        return {cid: float(statistics.median(secs)) for cid, secs in run_seconds(runs).items()}
    if bench is not None:
        per_check = json.loads(bench.read_text()).get("per_check") or {}
        return {cid: float(v["seconds"]) for cid, v in per_check.items() if v.get("seconds")}
    checks = json.loads(healthy.read_text()).get("checks") or {} if healthy else {}
    return {cid: float(statistics.median(secs)) for cid, secs in checks.items() if secs}


def ratios(mutants: list[dict[str, Any]], healthy: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for mutant in mutants:
        for cid, seconds in (mutant.get("check_seconds") or {}).items():
            base = healthy.get(cid)
            rows.append({"mutant": mutant["name"], "check": cid, "seconds": seconds, "healthy": base,
                         "ratio": round(seconds / base, 2) if seconds is not None and base else None})
    return sorted(rows, key=lambda r: -(r["ratio"] or 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "out" / "mutants.json")
    parser.add_argument("--healthy", type=Path, default=ROOT / "out" / "healthy-checks.json")
    parser.add_argument("--bench", type=Path, help="take the healthy times from a bench run's per_check instead")
    parser.add_argument("--healthy-run", type=Path, action="append", metavar="REPORT_DIR",
                        help="take the healthy times from these runs' report folders instead (repeatable; a run "
                             "made at the mutants' settings, e.g. beside `make mutants` so both see the same load)")
    parser.add_argument("--limit", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="write the table here")
    args = parser.parse_args(argv)
    for path in (args.mutants, *(args.healthy_run or [args.bench or args.healthy])):
        if not (path.is_dir() if path in (args.healthy_run or []) else path.is_file()):
            print(f"mutant_ratio: {path} is missing: run `make mutants` (and the healthy runs: `make integration` "
                  "or `make bench` with --bench)", file=sys.stderr)
            return 2
    table = ratios(json.loads(args.mutants.read_text()).get("mutants") or [],
                   healthy_seconds(None if args.bench else args.healthy, args.bench, args.healthy_run))
    if not table:
        print(f"mutant_ratio: no check_seconds in {args.mutants}: re-run `make mutants`", file=sys.stderr)
        return 2
    for row in table:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "no healthy time"
        healthy = f"{row['healthy']:.1f}" if row["healthy"] else "?"
        print(f"{ratio:>16}  {row['check']:<5} {row['seconds']!s:>7} s (healthy {healthy} s)  {row['mutant']}")
    judged = [r for r in table if r["ratio"] is not None]
    worst = judged[0] if judged else None
    over = [r for r in judged if r["ratio"] > args.limit]
    if worst:
        print(f"worst: {worst['mutant']} on {worst['check']}: {worst['ratio']:.2f}x its healthy time "
              f"({worst['seconds']} s vs {worst['healthy']:.1f} s); {len(over)} above {args.limit:g}x; "
              f"{len(table) - len(judged)} without a healthy time")
    if args.json:
        args.json.write_text(json.dumps({"limit": args.limit, "rows": table}, indent=2) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
