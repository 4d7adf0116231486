# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the cc-ci build harness run inside a Drone build (lab/drone/harness.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("harness-ignores-ref", "harness", ("V2",), ("harness", "REF"),
           "The harness ignores REF and tests the recipe's default branch instead of the PR head."),
    Mutant("harness-skips-teardown", "harness", ("V1",), ("harness", "teardown"),
           "The harness's teardown step reports success but leaves the app deployed.", isolated=True),
)
