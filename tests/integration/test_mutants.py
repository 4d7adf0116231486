# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mutant catalogue against the lab: each mutant (lab/mutants) runs with only the checks it
targets (plus its ``with_checks``); every target must FAIL with each of the mutant's words in its
diagnosis, and the run must exit non-zero. `make mutants` runs this on three workers and writes the
kill matrix (out/mutants.md, out/mutants.json, see conftest.py)."""
from __future__ import annotations

import pytest

from lab.mutants import CATALOGUE, Mutant

pytestmark = pytest.mark.slow


def _diagnosis(run, check_id: str) -> tuple[str, str]:
    try:
        result = run.check(check_id)
    except (OSError, StopIteration, ValueError):
        return "no report", run.stdout[-400:]
    return result["verdict"], result.get("diagnosis") or ""


def _seconds(run, check_id: str) -> float | None:
    """The check's own time under the mutant (scripts/mutant_ratio.py holds it to its healthy time)."""
    try:
        return run.check(check_id).get("seconds")
    except (OSError, StopIteration, ValueError):
        return None


# CRON's mutants spend minutes waiting for a cron minute and little CPU: they form one xdist group
# (`-n 3 --dist loadgroup`), scheduled first, one after another on a third worker beside the two that
# run the rest. Runs of different labs keep to their own crontab block (each names its lab's root).
SLEEPERS = "cron"


def _params() -> list:
    ordered = sorted(CATALOGUE, key=lambda m: "CRON" not in m.targets)
    return [pytest.param(m, id=m.name, marks=[pytest.mark.xdist_group(SLEEPERS)] if "CRON" in m.targets else [])
            for m in ordered]


@pytest.mark.parametrize("mutant", _params())
def test_mutant_is_killed(playbook, mutant_row, mutant: Mutant) -> None:
    run = playbook(faults=[mutant.name], only=list(mutant.targets + mutant.with_checks), isolated=mutant.isolated)
    verdicts = {cid: _diagnosis(run, cid) for cid in mutant.targets}
    missing = {cid: [w for w in mutant.words if w.lower() not in diagnosis.lower()]
               for cid, (_verdict, diagnosis) in verdicts.items()}
    killed = run.rc != 0 and all(v == "FAIL" for v, _diag in verdicts.values()) and not any(missing.values())
    mutant_row({"name": mutant.name, "component": mutant.component, "targets": list(mutant.targets),
                "killed": killed, "diagnosis": " / ".join(d for _verdict, d in verdicts.values()),
                "seconds": round(run.seconds, 1), "check_seconds": {cid: _seconds(run, cid) for cid in mutant.targets}})
    assert run.rc != 0, f"{mutant.name} went undetected (exit 0):\n{run.stdout[-3000:]}"
    for cid, (verdict, diagnosis) in verdicts.items():
        assert verdict == "FAIL", f"{mutant.name}: {cid} is {verdict}, not FAIL: {diagnosis}"
        assert not missing[cid], f"{mutant.name}: {cid}'s diagnosis lacks {missing[cid]}: {diagnosis}"
