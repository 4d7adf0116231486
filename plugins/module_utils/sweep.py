# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a run opened in Gitea, from its ledger, and closing it again (V9). Never merges.

A run's PRs are found by the numbers its ledger recorded after creating them: real Gitea reports
``head.ref = refs/pull/<n>/head`` once a PR's branch is deleted (FACTS.md 2a), so a head ref is
only the fallback, for a PR whose number never reached the ledger (a kill between the create call
and its answer) and for PRs an agent the run started opened (``agent_run`` entries).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient, parse_time, pr_summary

PROTECTED_BRANCHES = frozenset({"main", "master"})


@dataclass
class Plan:
    """Per repo: the PR numbers and branches the run created, the PR heads whose number is unknown,
    and the windows in which an agent the run started worked."""
    numbers: dict[str, set[int]] = field(default_factory=dict)
    branches: dict[str, set[str]] = field(default_factory=dict)
    unnumbered: dict[str, set[str]] = field(default_factory=dict)
    agent_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def repos(self) -> set[str]:
        repos = set(self.numbers) | set(self.branches) | set(self.unnumbered)
        for run in self.agent_runs:
            repos.update(run.get("repos") or [])
        return repos

    def needs_listing(self, repo: str) -> bool:
        return bool(self.unnumbered.get(repo)) or any(repo in (r.get("repos") or []) for r in self.agent_runs)


def _branch(ref: Any) -> str | None:
    """A deletable branch name, or None (protected, empty, or Gitea's refs/pull/<n>/head)."""
    if not isinstance(ref, str) or not ref or ref in PROTECTED_BRANCHES or ref.startswith("refs/"):
        return None
    return ref


def plan_from(entries: list[dict[str, Any]], extra_repos: list[str] | None = None) -> Plan:
    plan = Plan()
    for repo in extra_repos or []:
        plan.branches.setdefault(repo, set())
    numbered: set[tuple[str, str]] = set()
    heads: set[tuple[str, str]] = set()
    for entry in entries:
        kind, repo = entry.get("kind"), entry.get("repo")
        if kind == "agent_run":
            plan.agent_runs.append(entry)
            continue
        if kind not in ("branch", "pr") or not isinstance(repo, str) or not repo:
            continue
        ref = _branch(entry.get("ref") or entry.get("head"))
        if ref:
            plan.branches.setdefault(repo, set()).add(ref)
        if kind == "pr":
            number = entry.get("number")
            if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                plan.numbers.setdefault(repo, set()).add(number)
                numbered.add((repo, entry.get("head")))
            elif entry.get("head"):
                heads.add((repo, entry["head"]))
    for repo, head in heads - numbered:
        plan.unnumbered.setdefault(repo, set()).add(head)
    return plan


def _opened_by_agent(pr: dict[str, Any], repo: str, runs: list[dict[str, Any]]) -> bool:
    created = parse_time(pr.get("created_at"))
    login = (pr.get("user") or {}).get("login")
    for run in runs:
        try:
            since = float(run.get("since") or 0)
        except (TypeError, ValueError):
            since = 0.0
        if repo in (run.get("repos") or []) and created is not None and created >= since:
            if not run.get("author") or run.get("author") == login:
                return True
    return False


@dataclass
class _Outcome:
    closed: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failed(self, exc: ApiError, what: str) -> None:
        """A 404 is a note (the repo, PR or branch is gone: nothing left to close); the rest errors."""
        if exc.status == 404:
            self.notes.append(f"{what} is gone (HTTP 404): nothing to close there")
        else:
            self.errors.append(str(exc))


class _RepoSweep:
    """One repository: find the run's PRs, close the open ones, delete the branches, read back."""

    def __init__(self, client: GiteaClient, plan: Plan, repo: str, out: _Outcome) -> None:
        self.client, self.plan, self.repo, self.out = client, plan, repo, out
        self.numbers = set(plan.numbers.get(repo, set()))
        self.heads = set(plan.unnumbered.get(repo, set()))
        self.branches = set(plan.branches.get(repo, set()))

    def _mine(self, pr: dict[str, Any]) -> bool:
        return (pr.get("number") in self.numbers or (pr.get("head") or {}).get("ref") in self.heads
                or _opened_by_agent(pr, self.repo, self.plan.agent_runs))

    def _prs(self, state: str) -> list[dict[str, Any]]:
        """The run's PRs: each recorded number read directly, others from one listing if needed."""
        found: dict[int, dict[str, Any]] = {}
        for number in sorted(self.numbers):
            try:
                found[number] = self.client.get_pr(self.repo, number)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                self.out.notes.append(f"{self.repo}#{number} is gone (HTTP 404): nothing to close there")
                self.numbers.discard(number)
        if self.plan.needs_listing(self.repo):
            for pr in self.client.list_prs(self.repo, state):
                if isinstance(pr, dict) and pr.get("number") not in found and self._mine(pr):
                    found[pr["number"]] = pr
        return [pr for pr in found.values() if state == "all" or pr.get("state") == state]

    def run(self, apply: bool) -> None:
        for pr in self._prs("all"):
            self.numbers.add(pr["number"])
            if pr.get("merged"):
                self.out.merged.append(pr_summary(pr) | {"repo": self.repo})
            branch = _branch((pr.get("head") or {}).get("ref"))
            if branch:
                self.branches.add(branch)
            if pr.get("state") != "open":
                continue
            try:
                if apply:
                    self.client.close_pr(self.repo, int(pr["number"]))
                self.out.closed.append({"repo": self.repo, "number": pr["number"], "html_url": pr.get("html_url")})
            except ApiError as exc:
                self.out.failed(exc, f"{self.repo}#{pr['number']}")
        for branch in sorted(self.branches):
            if self.client.branch_sha(self.repo, branch) is None:
                continue
            try:
                if apply:
                    self.client.delete_branch(self.repo, branch)
                self.out.deleted.append(f"{self.repo}:{branch}")
            except ApiError as exc:
                self.out.failed(exc, f"{self.repo}:{branch}")

    def read_back(self) -> None:
        for pr in self._prs("open"):
            self.out.remaining.append({"repo": self.repo, "number": pr["number"], "html_url": pr.get("html_url")})
        self.out.remaining += [{"repo": self.repo, "branch": b} for b in sorted(self.branches)
                               if self.client.branch_sha(self.repo, b)]


def sweep(client: GiteaClient, plan: Plan, apply: bool) -> dict[str, Any]:
    """Close every open PR the run (or an agent it ran) opened and delete their branches.

    Returns what was closed, deleted, what is still open afterwards, any merged PR seen, the errors
    met on the way (one refused close does not stop the rest of the sweep) and notes (a repository,
    PR or branch that is gone is a note, not an error).
    """
    out = _Outcome()
    for repo in sorted(plan.repos):
        one = _RepoSweep(client, plan, repo, out)
        try:
            one.run(apply)
            if apply:
                one.read_back()
        except ApiError as exc:
            out.failed(exc, f"repository {repo}")
        except ValueError as exc:  # a ledger line naming no owner/name repository
            out.notes.append(f"ledger: {exc}: skipped")
    return {"closed": out.closed, "deleted_branches": out.deleted, "remaining": out.remaining,
            "merged": out.merged, "errors": out.errors, "notes": out.notes}
