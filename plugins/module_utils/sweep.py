# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run opened in Gitea, from its ledger, and closing it again (V9). Never merges."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient, parse_time, pr_summary

PROTECTED_BRANCHES = frozenset({"main", "master"})


@dataclass
class Plan:
    """Branches the run created, per repo, and the windows in which an agent it started worked."""
    branches: dict[str, set[str]] = field(default_factory=dict)
    agent_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def repos(self) -> set[str]:
        repos = set(self.branches)
        for run in self.agent_runs:
            repos.update(run.get("repos") or [])
        return repos


def read_ledger(path: str) -> list[dict[str, Any]]:
    if not path or not os.path.exists(path):
        return []
    entries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut short by a kill -9: the rest of the ledger still counts
    return entries


def plan_from(entries: list[dict[str, Any]], extra_repos: list[str]) -> Plan:
    plan = Plan()
    for repo in extra_repos:
        plan.branches.setdefault(repo, set())
    for entry in entries:
        kind = entry.get("kind")
        repo = entry.get("repo")
        if kind in ("branch", "pr") and repo:
            ref = entry.get("ref") or entry.get("head")
            if ref and ref not in PROTECTED_BRANCHES:
                plan.branches.setdefault(repo, set()).add(ref)
        elif kind == "agent_run":
            plan.agent_runs.append(entry)
    return plan


def _opened_by_agent(pr: dict[str, Any], repo: str, runs: list[dict[str, Any]]) -> bool:
    created = parse_time(pr.get("created_at"))
    login = (pr.get("user") or {}).get("login")
    for run in runs:
        if repo in (run.get("repos") or []) and created is not None and created >= float(run.get("since", 0)):
            if not run.get("author") or run.get("author") == login:
                return True
    return False


def sweep(client: GiteaClient, plan: Plan, apply: bool) -> dict[str, Any]:
    """Close every open PR the run (or an agent it ran) opened and delete their branches.

    Returns what was closed, deleted, what is still open afterwards, any merged PR seen, and the
    errors met on the way (one refused close does not stop the rest of the sweep).
    """
    errors: list[str] = []
    closed: list[dict[str, Any]] = []
    deleted: list[str] = []
    remaining: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    for repo in sorted(plan.repos):
        ours = set(plan.branches.get(repo, set()))
        for pr in client.list_prs(repo, "all"):
            head = (pr.get("head") or {}).get("ref")
            mine = head in ours or _opened_by_agent(pr, repo, plan.agent_runs)
            if not mine:
                continue
            if pr.get("merged"):
                merged.append(pr_summary(pr) | {"repo": repo})
            if head and head not in PROTECTED_BRANCHES:
                ours.add(head)
            if pr.get("state") == "open":
                try:
                    if apply:
                        client.close_pr(repo, int(pr["number"]))
                    closed.append({"repo": repo, "number": pr["number"], "html_url": pr.get("html_url")})
                except ApiError as exc:
                    errors.append(str(exc))
        for branch in sorted(ours):
            if client.branch_sha(repo, branch) is None:
                continue
            try:
                if apply:
                    client.delete_branch(repo, branch)
                deleted.append(f"{repo}:{branch}")
            except ApiError as exc:
                errors.append(str(exc))
        if apply:
            for pr in client.list_prs(repo, "open"):
                head = (pr.get("head") or {}).get("ref")
                if head in ours or _opened_by_agent(pr, repo, plan.agent_runs):
                    remaining.append({"repo": repo, "number": pr["number"], "html_url": pr.get("html_url")})
            remaining += [{"repo": repo, "branch": b} for b in sorted(ours) if client.branch_sha(repo, b)]
    return {"closed": closed, "deleted_branches": deleted, "remaining": remaining, "merged": merged,
            "errors": errors}
