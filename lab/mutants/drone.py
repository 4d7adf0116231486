# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the lab's Drone server (lab/drone/server.py, the build bookkeeping in lab/drone/harness.py).

The first three are states a real Drone shows (FACTS §2a): a stage held for approval, declined, or
waiting on a stage it depends on; the checks must end their wait naming the state, not time out.
"""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("drone-blocks-builds", "drone", ("V1",), ("Drone", "blocked", "approval"),
           "Drone holds every new build's stage for approval (status blocked): no build ever runs.",
           isolated=True),
    Mutant("drone-declines-builds", "drone", ("V1",), ("Drone", "declined"),
           "Drone's builds are blocked, then declined by a maintainer: nothing runs and the build ends declined.",
           isolated=True),
    Mutant("drone-waits-on-dependencies", "drone", ("V1",), ("Drone", "waiting_on_dependencies"),
           "Drone's stage waits on a stage it depends on that never runs (waiting_on_dependencies).",
           isolated=True),
    Mutant("drone-dead-runner", "drone", ("V1",), ("Drone", "no runner"),
           "Drone's runner is dead: builds are created with pending stages that no runner ever takes.",
           isolated=True),
    Mutant("drone-success-despite-failed-step", "drone", ("V2",), ("Drone", "success", "failed step"),
           "Drone reports a build success although one of its steps failed (the failed step stays failed)."),
    Mutant("drone-answers-stale-build", "drone", ("V2",), ("Drone build", "not this PR's"),
           "Drone answers a new trigger with the recipe's previous build, so the bridge links a stale build "
           "for the new head."),
    Mutant("drone-finished-before-started", "drone", ("V1",), ("Drone", "finished before it started"),
           "Drone stamps a build's finished time before its started time."),
)
