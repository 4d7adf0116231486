# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the agent's /upgrade-all (lab/agent/upgrade_all.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("upgradeall-parallel", "upgrade-all", ("V8",), ("ran in parallel",),
           "/upgrade-all upgrades the recipes in parallel: two sandbox deploys alive at once."),
    Mutant("upgradeall-with-tests", "upgrade-all", ("V8",), ("/upgrade-all used --with-tests",),
           "/upgrade-all runs /recipe-upgrade with --with-tests and opens cc-ci test PRs."),
    Mutant("upgradeall-no-pr-list", "upgrade-all", ("V8",), ("summary", "does not lead with the list of PRs"),
           "The /upgrade-all summary does not start with the list of PRs to review."),
    Mutant("upgradeall-dry-run-opens-prs", "upgrade-all", ("V8",), ("--dry-run opened PRs",),
           "/upgrade-all parses --dry-run and then ignores it: the dry run opens the upgrade PRs.", isolated=True),
    Mutant("upgradeall-stale-not-flagged", "upgrade-all", ("V8",), ("stale-test PRs", "'tests look stale' section"),
           "The /upgrade-all summary's 'Tests look stale' section says none while a PR is SUCCESS-PENDING-TESTS."),
    Mutant("upgradeall-hangs-after-run", "upgrade-all", ("V8a",), ("did not complete", "WEDGED"),
           "/upgrade-all writes its summary and then never exits: the upgrader session never goes idle."),
)
