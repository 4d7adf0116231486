# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the weekly cron job's surroundings on the box: what cc-ci-loops.service tells the job
(the crontab mirrors its PATH and HOME) and what the launcher does when cron, not a person, starts it.

CRON reads the entry back from the crontab, runs its command in cron's environment for the pre-check,
and watches the real fire at T0 (the job's log line, the launcher's log, the session's creation time
and pane, a summary written after T0), so each lie shows as a named gap, never as the lab's own words."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("cron-path-lacks-agent", "cron", ("CRON",), ("cron environment lacks the agent command", "PATH="),
           "cc-ci-loops.service's PATH lacks the agent's directory (the loops add it themselves), so the job "
           "cron starts with that PATH cannot find claude."),
    Mutant("cron-home-lacks-login", "cron", ("CRON",), ("cron environment lacks the agent's login", "HOME="),
           "cc-ci-loops.service's HOME is a directory without the claude.ai login, so the job cron starts with "
           "that HOME is not logged in."),
    Mutant("cron-launcher-runs-nothing", "cron", ("CRON",), ("started no run of /upgrade-all",),
           "Started by cron, the launcher logs 'start: launched' and exits 0 without starting a session, so "
           "/upgrade-all never runs at T0 (run by hand, as the pre-check does, it works).",
           isolated=True),  # it needs a fire at T0 of its own lab
    # The box's provisioning also owns the account's crontab and rewrites it a few seconds after a change
    # (lab/crontab_sync.py); CRON reads the entry back after the fire and holds it to what it installed.
    Mutant("cron-sync-shifts-hour", "cron", ("CRON",), ("something rewrote the entry", "fires 60 min late"),
           "The box's crontab sync re-renders the weekly entry's hour in Europe/Berlin while the daemon runs in "
           "UTC: the job fires an hour late, not at T0."),
    Mutant("cron-sync-drops-variables", "cron", ("CRON",),
           ("no longer gives the job", "PATH", "as cc-ci-loops.service does"),
           "The box's crontab sync keeps only job lines: the entry loses the service's PATH and HOME, so the "
           "job runs with cron's defaults."),
    Mutant("cron-sync-restores-old-entry", "cron", ("CRON",),
           ("holds 2 ccci-upgrade-all job lines", "fires more than once a week"),
           "The box's crontab sync re-adds the weekly entry from its own stale copy (last week's anchor) next to "
           "the new one: /upgrade-all fires twice a week."),
)
