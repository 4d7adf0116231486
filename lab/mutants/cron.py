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
)
