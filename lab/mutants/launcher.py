# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the box launcher cc-ci-plan/launch-upgrader.sh (lab/bin/launch-upgrader.sh).

V8a seeds each session state through the launcher itself and reads what the launcher did from tmux
and /proc (pane id, pane and agent pids with their start times), so every lie below shows as a
changed or unchanged identity, never as the launcher's own words."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("launcher-kills-busy", "launcher", ("V8a",), ("launcher kills busy runs",),
           "`start` replaces a session whose run is still in flight."),
    Mutant("launcher-keeps-wedged", "launcher", ("V8a",), ("launcher keeps wedged sessions",),
           "`start` leaves a wedged session alone instead of replacing it (an idle one it still replaces)."),
    Mutant("launcher-status-says-running", "launcher", ("V8a",), ("launcher's status lies", "RUNNING while the session is IDLE"),
           "`status` prints RUNNING whenever the tmux session exists, also when its agent has exited."),
    Mutant("launcher-session-exits", "launcher", ("V8a",), ("session did not stay",),
           "The session closes when the agent's run ends, instead of staying idle with the summary visible."),
    Mutant("launcher-start-beside-idle", "launcher", ("V8a",), ("second session beside",),
           "`start` against an idle session opens the new run in a new window and leaves the idle one in place."),
    Mutant("launcher-fresh-keeps-busy", "launcher", ("V8a",), ("fresh does not restart",),
           "`fresh` leaves a running session alone, like `start`, instead of always restarting."),
    Mutant("launcher-stop-leaves-agent", "launcher", ("V8a",), ("stop does not stop the agent",),
           "`stop` closes the tmux session but the agent process runs on in the background.",
           isolated=True),  # the agent it leaves goes on opening PRs: a lab of its own
    Mutant("launcher-passes-with-tests", "launcher", ("V8a",), ("--with-tests", "DEFAULT mode"),
           "The launcher runs `/upgrade-all --with-tests` instead of the DEFAULT mode the weekly run must use."),
)
