"""Lies of the skill's helper testme-on-pr.sh (lab/bin/testme-on-pr.sh)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("helper-posts-twice", "helper", ("V2",), ("POST=1", "not exactly one"),
           "With POST=1 the helper posts two !testme comments instead of one."),
    Mutant("helper-posts-when-polling", "helper", ("V2",), ("helper", "POST=0 re-triggered"),
           "With POST=0 the helper posts a !testme although it should only poll."),
)
