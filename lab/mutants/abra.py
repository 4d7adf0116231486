"""Lies of abra (lab/bin/abra over lab/engine.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("teardown-leaves-volume", "abra", ("V9",), ("teardown left sandbox", "on the engine"),
           "`abra app remove` reports success but leaves the app's volume on the engine.",
           isolated=True, with_checks=("V1",)),
)
