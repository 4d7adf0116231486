# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of abra (lab/bin/abra over lab/engine.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("teardown-leaves-volume", "abra", ("V9",), ("teardown left sandbox", "on the engine"),
           "`abra app remove` reports success but leaves the app's volume on the engine.",
           isolated=True, with_checks=("V1",)),
    Mutant("abra-remove-keeps-listing", "abra", ("V9",), ("abra app remove", "abra app ls` still lists"),
           "`abra app remove` reports the app removed but keeps its env file, so `abra app ls` still lists it.",
           isolated=True, with_checks=("V1",)),
    Mutant("abra-undeploy-leaves-stack", "abra", ("V9",), ("abra app undeploy", "still on the engine"),
           "`abra app undeploy` reports the app undeployed but its stack keeps running.",
           isolated=True, with_checks=("V1",)),
)
