"""Lies of the box launcher cc-ci-plan/launch-upgrader.sh (lab/bin/launch-upgrader.sh)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("launcher-kills-busy", "launcher", ("V8a",), ("launcher kills busy runs",),
           "`start` replaces a session whose run is still in flight."),
    Mutant("launcher-keeps-wedged", "launcher", ("V8a",), ("launcher keeps wedged sessions",),
           "`start` leaves a wedged session alone instead of replacing it."),
)
