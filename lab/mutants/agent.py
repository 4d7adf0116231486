# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the agent's /recipe-upgrade (lab/agent/recipe_upgrade.py)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("agent-opens-pr-twice", "agent", ("V3",), ("opened 2 upgrade/* PRs",),
           "/recipe-upgrade retries opening its PR after a slow answer, from a second branch: two PRs for one "
           "upgrade, the run carried on the second.", isolated=True),
    Mutant("agent-merges", "agent", ("V3",), ("was merged",),
           "The agent merges its own upgrade PR into mirror main.", isolated=True),
    Mutant("agent-claims-success-on-red", "agent", ("V4",), ("skill reported", "although every run was RED"),
           "After three RED runs the agent reports RESULT: SUCCESS."),
    Mutant("agent-exceeds-3-runs", "agent", ("V4",), ("does not stop at 3",),
           "The regression loop runs a fourth !testme instead of stopping at three."),
    Mutant("agent-no-stale-comment", "agent", ("V5",), ("no explanatory comment",),
           "On a stale cc-ci test the agent leaves no comment naming the test and '--with-tests'."),
    Mutant("agent-edits-tests-in-default", "agent", ("V5",), ("default mode touched cc-ci tests",),
           "In default mode the agent pushes a test-update branch to cc-ci.", isolated=True),
    Mutant("agent-testpr-on-main", "agent", ("V6",), ("cc-ci main moved", "not a branch"),
           "With --with-tests the agent commits the test update to cc-ci main, not a branch.", isolated=True),
    Mutant("agent-skips-reconcile", "agent", ("V7",), ("not reconciled",),
           "The agent does not reset mirror main to upstream main before upgrading."),
    Mutant("agent-leaves-superseded-open", "agent", ("V7",), ("superseded upgrade PR", "left open"),
           "The agent opens a new upgrade PR and leaves the superseded one open."),
    Mutant("agent-stops-after-2-runs", "agent", ("V4",), ("2 runs / 2 !testme instead of exactly 3", "stops early"),
           "/recipe-upgrade gives up on a persistent regression after 2 !testme runs, yet reports 'not green after 3'."),
    Mutant("agent-reports-stale-build", "agent", ("V4",), ("agent misreports", "BUILD="),
           "/recipe-upgrade echoes the first run's build link for every later run, so its report cites the wrong build."),
    Mutant("agent-cites-another-build", "agent", ("V5",), ("agent's comment cites", "did not run for this head"),
           "/recipe-upgrade's stale-test comment links the build before this head's run, not the run that failed."),
    Mutant("agent-keeps-version-label", "agent", ("V3",), ("leaves the recipe version label",),
           "/recipe-upgrade bumps the image tag but leaves the recipe's version label at the old version."),
    Mutant("agent-crossnote-cites-stale-build", "agent", ("V6",), ("agent cites build", "did not run for the recipe head"),
           "/recipe-upgrade --with-tests cross-notes cite a build from before this head's runs as the green verification."),
    Mutant("agent-skill-repeats-old-schedule", "agent", ("CRON",),
           ("placeholder schedule is still stated", "Sat 03:00 UTC"),
           "The /upgrade-all skill states its schedule twice: the 'Cron' section CRON rewrites, and a line under the "
           "title that still says Sat 03:00 UTC."),
)
