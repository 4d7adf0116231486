# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the skill's helper testme-on-pr.sh (lab/bin/testme-on-pr.sh)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("helper-posts-twice", "helper", ("V2",), ("POST=1", "not exactly one"),
           "With POST=1 the helper posts two !testme comments instead of one."),
    Mutant("helper-posts-when-polling", "helper", ("V2",), ("helper", "POST=0 re-triggered"),
           "With POST=0 the helper posts a !testme although it should only poll."),
    Mutant("helper-returns-earlier-result", "helper", ("V2",), ("helper", "earlier run's result", "POST=1"),
           "With POST=1 on a head that already has a result, the helper returns that earlier result at once "
           "instead of waiting for the run its own !testme started."),
    Mutant("helper-build-from-first-comment", "helper", ("V2",), ("helper", "earlier run's result", "BUILD="),
           "The helper prints BUILD= from the PR's first bridge comment, not from the status of the run it read."),
    Mutant("helper-carries-verdict-across-heads", "helper", ("V2",), ("helper", "carried the old head's verdict"),
           "The helper caches the last verdict per PR, not per head, and returns it for a new head that has no run."),
    Mutant("helper-green-on-pending", "helper", ("V2",), ("helper", "not PENDING", "does not have yet"),
           "The helper takes a pending cc-ci/testme status for a pass and says GREEN while the run is in flight."),
    Mutant("helper-exits-zero", "helper", ("V2",), ("helper exited 0", "contract"),
           "The helper prints the right VERDICT= but always exits 0, so a caller that reads the exit status sees a pass."),
)
