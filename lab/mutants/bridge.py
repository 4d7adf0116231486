"""Lies of the !testme bridge (lab/bridge.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("bridge-accepts-outsiders", "bridge", ("V1",), ("bridge", "membership gate"),
           "The bridge fires on a !testme from a user outside the org."),
    Mutant("bridge-fires-on-prefix", "bridge", ("V1",), ("bridge", "prefix"),
           "The bridge fires on '!testmexyz': it matches the trigger as a prefix, not the exact command."),
    Mutant("bridge-not-polling-sandbox", "bridge", ("V1",), ("bridge", "not polling"),
           "The bridge does not poll the sandbox recipe's mirror repo, so the bot's !testme fires nothing."),
    Mutant("bridge-no-status", "bridge", ("V2",), ("bridge", "status surface missing"),
           "The bridge posts the result comment but never the cc-ci/testme commit status."),
)
