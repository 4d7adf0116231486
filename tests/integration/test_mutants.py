# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mutant catalogue against the lab: each mutant (lab/mutants) runs with only the checks it
targets (plus its ``with_checks``); every target must FAIL with each of the mutant's words in its
diagnosis, and the run must exit non-zero. `make mutants` runs this on three workers (CRON's mutants
one after another on one of them) and writes the
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


# CRON's mutants spend minutes waiting for a cron minute and little CPU, and they share root's crontab,
# whose variable lines apply to every job below them (a block stripped of its lines by one lie inherits
# the lines of another lab's block above it). So they are one pytest item, collected first: xdist runs
# it on one worker, one mutant after another, beside the workers that run the rest (`-n 3`). (xdist's
# loadgroup would say this with a mark, but with pytest 9 it no longer groups: its nodeid suffix is lost.)
SLEEPERS = [m for m in CATALOGUE if "CRON" in m.targets]
OTHERS = [m for m in CATALOGUE if "CRON" not in m.targets]


def _judge(playbook, mutant_row, mutant: Mutant) -> list[str]:
    """Run the mutant with its target checks; record its kill-matrix row; what went wrong, if anything."""
    run = playbook(faults=[mutant.name], only=list(mutant.targets + mutant.with_checks), isolated=mutant.isolated)
    verdicts = {cid: _diagnosis(run, cid) for cid in mutant.targets}
    missing = {cid: [w for w in mutant.words if w.lower() not in diagnosis.lower()]
               for cid, (_verdict, diagnosis) in verdicts.items()}
    killed = run.rc != 0 and all(v == "FAIL" for v, _diag in verdicts.values()) and not any(missing.values())
    mutant_row({"name": mutant.name, "component": mutant.component, "targets": list(mutant.targets),
                "killed": killed, "diagnosis": " / ".join(d for _verdict, d in verdicts.values()),
                "seconds": round(run.seconds, 1), "check_seconds": {cid: _seconds(run, cid) for cid in mutant.targets}})
    if run.rc == 0:
        return [f"{mutant.name} went undetected (exit 0):\n{run.stdout[-3000:]}"]
    return [f"{mutant.name}: {cid} is {verdict}, not FAIL: {diagnosis}" if verdict != "FAIL"
            else f"{mutant.name}: {cid}'s diagnosis lacks {missing[cid]}: {diagnosis}"
            for cid, (verdict, diagnosis) in verdicts.items() if verdict != "FAIL" or missing[cid]]


def test_cron_mutants_are_killed_one_after_another(playbook, mutant_row) -> None:
    failures = [line for mutant in SLEEPERS for line in _judge(playbook, mutant_row, mutant)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("mutant", OTHERS, ids=[m.name for m in OTHERS])
def test_mutant_is_killed(playbook, mutant_row, mutant: Mutant) -> None:
    failures = _judge(playbook, mutant_row, mutant)
    assert not failures, "\n".join(failures)
