# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
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
    Mutant("bridge-double-trigger", "bridge", ("V1",), ("one !testme started 2 Drone builds", "bridge"),
           "The bridge retries the Drone trigger whose first answer it took as lost: one !testme, two builds."),
    Mutant("bridge-status-on-base", "bridge", ("V1",), ("bridge posted no final cc-ci/testme status on the head",),
           "The bridge posts the cc-ci/testme status on the PR's base commit instead of the head it built."),
    Mutant("bridge-posts-result-twice", "bridge", ("V1",), ("bridge posted 2 comments for build",),
           "The bridge edits its run comment into the result card and then posts the card again as a new comment "
           "(a retry after a slow PATCH that had gone through)."),
    Mutant("bridge-links-previous-build", "bridge", ("V1",), ("bridge", "does not point at build"),
           "The bridge's status target_url links the build before the one it started."),
    Mutant("bridge-result-at-trigger", "bridge", ("V1",), ("bridge posted success", "before build"),
           "The bridge posts success when it triggers the build, before the run has any result."),
    Mutant("bridge-card-always-passes", "bridge", ("V2",), ("bridge", "surfaces disagree"),
           "The bridge's result card says PASS for a failed build while the status says failure."),
)
