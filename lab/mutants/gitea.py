# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lies of the box's Gitea (its permissions; lab/gitea)."""
from __future__ import annotations

from lab.mutants import Mutant

MUTANTS: tuple[Mutant, ...] = (
    Mutant("cleanup-skips-cc-ci-pr", "gitea", ("V9",), ("cleanup left", "refused"),
           "Gitea refuses to close the run's cc-ci PR (the bot lacks the right there), so it stays open.",
           isolated=True, with_checks=("V6",)),
    Mutant("gitea-close-not-done", "gitea", ("V9",), ("gitea answered the close", "still open"),
           "Closing a PR answers 201 like a real close, but the PR stays open.",
           isolated=True, with_checks=("V1",)),
)
