# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one list of Phase 5 checks: id, title, role, what each proves and what it reads cold.

Everything that names checks (``check_result``'s ids, the report's titles, ``verify-phase5.yml``'s
run order, the per-check playbooks, molecule's tests, the lab's mutant catalogue) reads this
tuple. Adding a check is one role plus one entry here, its claims beside it (docs/ADDING-A-CHECK.md).

A check's claims are a function ``evaluate(inputs) -> list[Predicate]``. A small check keeps that
function here, just above ``CHECKS``, and names it in its entry (``claims=_v10_claims``): the check
is then its role, this file and its mutants. A check whose claims outgrow that moves them into
``claims/<id>.py`` and names the module (one import line more), as V1 to CRON do.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Union

# Claims modules are imported by name here, not found at run time: Ansible ships a module with only
# the module_utils its imports name, so this import is what puts them into check_result's payload.
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v1 as _v1
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v2 as _v2
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v3 as _v3
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v4 as _v4
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v5 as _v5
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v6 as _v6
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v7 as _v7
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v8a as _v8a
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v9 as _v9
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v8 as _v8
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import cron as _cron
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate

# What judges a check's inputs: its claims module (``evaluate(inputs)``) or that function itself.
Claims = Union[ModuleType, Callable[[dict[str, Any]], Iterable[Predicate]]]

# When a check runs: with the checks (in order, a failure stops the rest), in the cleanup that
# always runs, or after every other check passed (the weekly job is installed only then).
PHASES = ("checks", "cleanup", "after")


@dataclass(frozen=True)
class Check:
    """One check. ``claims`` judges its inputs: a module under module_utils/claims with ``evaluate(inputs)``,
    or a function written beside the entry in this file; none for a check without claims."""

    id: str
    title: str
    role: str
    claim: str
    reads: str
    phase: str = "checks"
    claims: Claims | None = None

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"check {self.id}: phase {self.phase!r} is not one of {', '.join(PHASES)}")

    @property
    def claims_name(self) -> str | None:
        """Where the claims are, for messages: ``claims/v1.py``, or ``check_registry.py (_v10_claims)``."""
        if self.claims is None:
            return None
        if isinstance(self.claims, ModuleType):
            return f"claims/{self.claims.__name__.rsplit('.', 1)[-1]}.py"
        return f"check_registry.py ({self.claims.__name__})"

    def evaluate(self, inputs: dict[str, Any]) -> list[Predicate]:
        """The claims' predicates over ``inputs`` (none without claims); what they raise goes to the caller."""
        if self.claims is None:
            return []
        judge = self.claims.evaluate if isinstance(self.claims, ModuleType) else self.claims
        return list(judge(inputs))

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "title": self.title, "role": self.role, "claim": self.claim,
                "reads": self.reads, "phase": self.phase, "claims": self.claims_name}


_ROLE = "coopcloud.cc_ci."

# Claims written beside their entry (a check small enough to need no claims module) go below.


CHECKS: tuple[Check, ...] = (
    Check(
        "V1", "!testme on a recipe PR is the real gate", _ROLE + "v1_testme_gate",
        "The bot's !testme fires a build whose result lands on the PR, while a non-member's !testme "
        "and !testmexyz fire nothing within 2.5 bridge poll intervals.",
        "Drone builds (params PR/REF, created after the comment), the cc-ci/testme status and the "
        "result comment",
        claims=_v1,
    ),
    Check(
        "V2", "testme-on-pr.sh reads the verdict correctly", _ROLE + "v2_testme_helper",
        "testme-on-pr.sh posts exactly one !testme with POST=1 and none with POST=0, reads GREEN, RED "
        "and PENDING right, and its BUILD= is the build that very !testme started, also on a head that "
        "already has a result, during another run, and on a new head after a result.",
        "PR comments, Drone builds for the head, the BUILD= build through Drone's API (PR, REF, repo)",
        claims=_v2,
    ),
    Check(
        "V3", "/recipe-upgrade (default mode) end-to-end GREEN", _ROLE + "v3_recipe_upgrade",
        "/recipe-upgrade opens a PR bumping the image and version label whose run is GREEN on the PR, "
        "reports RESULT SUCCESS, leaves mirror main equal to upstream main and merges nothing.",
        "PR files and compose at the head SHA, statuses and comment, registry tags, branch SHAs, compare",
        claims=_v3,
    ),
    Check(
        "V4", "3-iteration regression loop", _ROLE + "v4_regression_loop",
        "A seeded bad tag goes RED, is fixed on the same branch and goes GREEN within 3 runs, while a "
        "persistent regression gets exactly 3 RED runs, an open PR, RESULT FAILED and cc-ci untouched.",
        "Drone builds per PR in order, head SHA, comments, cc-ci branches",
        claims=_v4,
    ),
    Check(
        "V5", "stale test, default mode: comment, no test edit", _ROLE + "v5_stale_test_comment",
        "A stale cc-ci test gets an explanatory comment naming the test that really failed in that "
        "head's build, no test is edited anywhere, and the result is RESULT SUCCESS-PENDING-TESTS.",
        "failed test: step of the build, comments, cc-ci branch SHAs before/after",
        claims=_v5,
    ),
    Check(
        "V6", "--with-tests opens and verifies a cc-ci test PR", _ROLE + "v6_with_tests_pr",
        "--with-tests opens a cc-ci PR from a dedicated branch touching only tests/, the recipe head "
        "is GREEN with that branch, the PRs are cross-linked and cc-ci main and the loops' clones are "
        "untouched.",
        "cc-ci PR files, Drone build with TESTS_REF, PR bodies/comments, git rev-parse/status of the clones",
        claims=_v6,
    ),
    Check(
        "V7", "mirror reconciliation", _ROLE + "v7_mirror_reconcile",
        "After seeded drift, mirror main equals upstream main, the merged-upstream PR is closed and "
        "the superseded PR is closed and replaced.",
        "branch SHAs, PR states, the replacement PR",
        claims=_v7,
    ),
    Check(
        "V8", "/upgrade-all default run", _ROLE + "v8_upgrade_all",
        "--dry-run lists exactly the upgradable recipes and opens nothing; the live run opens recipe "
        "PRs in default mode one recipe at a time and its summary leads with the PR list.",
        "registry vs upstream compose, a deploy watcher on the engine, PR/comment creation times and "
        "Drone build times per recipe (the agent's own order), cc-ci PRs/branches, the summary file",
        claims=_v8,
    ),
    Check(
        "V8a", "the cc-ci-upgrader agent", _ROLE + "v8a_upgrader_agent",
        "The launcher's dry run ends idle with output, start replaces an idle session, leaves a busy "
        "one alone and replaces a wedged one, fresh restarts, a run completes and stays idle with its "
        "summary, and stop stops the session and its agent.",
        "tmux panes and /proc (pane ids, process ids and start times, CPU ticks, pane changes), never the "
        "launcher's words",
        claims=_v8a,
    ),
    Check(
        "V9", "cleanup", _ROLE + "v9_cleanup",
        "Every PR and branch of the run (and of a killed earlier run) is closed, every sandbox app is "
        "torn down and the upgrader session is stopped.",
        "the on-disk ledger, Gitea read back, abra/docker, tmux",
        phase="cleanup",
        claims=_v9,
    ),
    Check(
        "CRON", "completion-anchored weekly job installed and its first fire seen", _ROLE + "completion_cron",
        "The weekly job is installed at completion + offset in the daemon's timezone with the "
        "service's environment, its pre-check passes in cron's own environment, and its first fire "
        "is observed.",
        "the crontab (read back after the fire), the job's log line in the T0 minute, the launcher log, "
        "the session, the summary",
        phase="after",
        claims=_cron,
    ),
)

_BY_ID = {check.id: check for check in CHECKS}
if len(_BY_ID) != len(CHECKS):
    raise ValueError("the check registry names a check id twice")


def ids() -> tuple[str, ...]:
    """Every check id, in plan order."""
    return tuple(check.id for check in CHECKS)


def get(check_id: str) -> Check:
    """The check with this id (exact match); a ValueError naming the known ids otherwise."""
    try:
        return _BY_ID[check_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown check id {check_id!r}; known: {', '.join(ids())}") from None


def select(check_ids: list[str] | tuple[str, ...] | str | None = None) -> tuple[Check, ...]:
    """The named checks in plan order (all when none are named); a lone string is one id, never a pattern.

    An unknown id or an empty selection is a ValueError that says what to pass instead.
    """
    if check_ids is None:
        return CHECKS
    wanted = [check_ids] if isinstance(check_ids, str) else list(check_ids)
    if not wanted:
        raise ValueError(f"no check selected; name one or more of {', '.join(ids())}")
    for check_id in wanted:
        get(check_id)
    return tuple(check for check in CHECKS if check.id in wanted)
