#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_prs_info
short_description: Find the PRs of a repository by author, creation time, head branch and state
version_added: 0.1.0
description:
  - Lists the PRs of O(repo) (all pages) and keeps those matching every filter given, oldest first.
  - With O(details=true) each PR also carries its changed files, its comments and the statuses of
    its head commit, so a check can read what an agent did without trusting what it said.
  - Also returns the repository's branches with their head SHAs when O(branches=true).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
options:
  repo:
    description: C(owner/name). One of O(repo) and O(repos) is required.
    type: str
  repos:
    description:
      - Several repositories (C(owner/name)), read with the same filters in one module run;
        the answer is then RV(results), one entry per repository in this order.
    type: list
    elements: str
  state:
    description: PR state to list.
    type: str
    choices: [open, closed, all]
    default: all
  author:
    description: Only PRs opened by this login.
    type: str
  since:
    description:
      - Only PRs created at or after this unix time, taken to its whole second (Gitea stamps a PR to
        the second, so a PR opened in the same second as O(since) is kept).
    type: float
  head_prefix:
    description:
      - Only PRs whose head branch starts with this. A closed PR whose branch is gone reports
        C(refs/pull/<n>/head) as its head ref in Gitea; its branch name (C(head.label)) is matched then.
    type: str
  numbers:
    description:
      - PRs with these numbers (e.g. the ones a run's ledger recorded), whatever became of their
        branches. With O(head_prefix) too, a PR is kept when it matches either.
    type: list
    elements: int
  details:
    description: Add C(files), C(comments) and C(statuses) to each PR.
    type: bool
    default: false
  branches:
    description: Also return the repository's branches (name to head SHA).
    type: bool
    default: false
  contained_in:
    description:
      - A branch (e.g. C(main)); each PR then says whether its head commit is already part of that
        branch (C(contained)), which is what a merge, or a push of the PR into it, leaves behind.
    type: str
"""

EXAMPLES = r"""
- name: The PRs the agent opened during this check
  coopcloud.cc_ci.gitea_prs_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: recipe-maintainers/custom-html-tiny
    author: cc-ci-bot
    since: "{{ _v3_started }}"
    details: true

- name: The PRs opened since the dry run began, on each mirror and on cc-ci (one module run)
  coopcloud.cc_ci.gitea_prs_info:
    repos: [recipe-maintainers/custom-html-tiny, recipe-maintainers/cc-ci]
    since: "{{ _v8_dry_started }}"
  register: _v8_dry_prs  # _v8_dry_prs.results[i].item / .prs
"""

RETURN = r"""
prs:
  description: Matching PRs, oldest first (of every repository in O(repos)).
  type: list
  elements: dict
  returned: always
  contains:
    number: {description: PR number., type: int}
    state: {description: open or closed., type: str}
    merged: {description: Whether merged., type: bool}
    html_url: {description: Web page., type: str}
    head_ref: {description: "Head branch (its name also after the branch was deleted).", type: str}
    branch_deleted: {description: "Whether the head branch is gone (Gitea then reports C(refs/pull/<n>/head)).", type: bool}
    head_sha: {description: Head commit., type: str}
    base_ref: {description: Base branch., type: str}
    user: {description: Author login., type: str}
    created: {description: Creation unix time., type: float}
    files: {description: Changed files (with O(details))., type: list, elements: str}
    comments: {description: Comments (with O(details))., type: list, elements: dict}
    statuses: {description: Head commit statuses (with O(details))., type: list, elements: dict}
    contained: {description: Whether the head is in O(contained_in)., type: bool}
branches:
  description: Branch name to head SHA (with O(branches); with O(repos), in RV(results) only).
  type: dict
  returned: always
results:
  description: With O(repos), one entry per repository, in the order given.
  type: list
  elements: dict
  returned: when repos is given
  contains:
    item: {description: The repository (C(owner/name))., type: str}
    prs: {description: "Its matching PRs, oldest first (as RV(prs)).", type: list, elements: dict}
    branches: {description: Its branches (with O(branches))., type: dict}
"""

import math

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import (
    comment_summary,
    gitea_argument_spec,
    gitea_from_module,
    parse_time,
    pr_summary,
    split_repo,
    status_summary,
)


def _wanted(item: dict, numbers: list[int] | None, head_prefix: str | None) -> bool:
    """Kept when its number is one of O(numbers) or its branch starts with O(head_prefix)."""
    if numbers is None and not head_prefix:
        return True
    if numbers is not None and item["number"] in numbers:
        return True
    return bool(head_prefix) and str(item["head_ref"] or "").startswith(head_prefix)


def read_repo(client, repo: str, p: dict) -> tuple[list[dict], dict[str, str]]:
    """The matching PRs of one repository (oldest first) and, with O(branches), its branches."""
    prs = []
    branches: dict[str, str] = {}
    for pr in client.list_prs(repo, p["state"]):
        item = pr_summary(pr) | {"created": parse_time(pr.get("created_at"))}
        if p["author"] and item["user"] != p["author"]:
            continue
        # Gitea stamps a PR to the whole second: one opened in the second *since* falls in is "after" it.
        if p["since"] is not None and (item["created"] or 0) < math.floor(p["since"]):
            continue
        if not _wanted(item, p["numbers"], p["head_prefix"]):
            continue
        if p["details"]:
            item["files"] = [f.get("filename") for f in client.pr_files(repo, item["number"])]
            item["comments"] = [comment_summary(c) for c in client.list_comments(repo, item["number"])]
            item["statuses"] = [status_summary(s) for s in client.list_statuses(repo, item["head_sha"])]
        if p["contained_in"] and item["head_sha"]:
            compare = client.compare(repo, p["contained_in"], item["head_sha"])
            item["contained"] = int(compare.get("total_commits") or 0) == 0
        prs.append(item)
    if p["branches"]:
        owner, name = split_repo(repo)
        for branch in client.paginate(f"/repos/{owner}/{name}/branches"):
            branches[branch.get("name")] = (branch.get("commit") or {}).get("id")
    prs.sort(key=lambda item: (item["created"] or 0, item["number"] or 0))
    return prs, branches


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(
        repo=dict(type="str"), repos=dict(type="list", elements="str"),
        state=dict(type="str", choices=["open", "closed", "all"], default="all"),
        author=dict(type="str"), since=dict(type="float"), head_prefix=dict(type="str"),
        numbers=dict(type="list", elements="int"),
        details=dict(type="bool", default=False), branches=dict(type="bool", default=False),
        contained_in=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("repo", "repos")], mutually_exclusive=[("repo", "repos")])
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    results = []
    try:
        with gitea_from_module(module) as client:
            for repo in p["repos"] if p["repos"] is not None else [p["repo"]]:
                prs, branches = read_repo(client, repo, p)
                results.append({"item": repo, "prs": prs, "branches": branches})
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    if p["repos"] is None:
        module.exit_json(changed=False, prs=results[0]["prs"], branches=results[0]["branches"])
    prs = sorted((pr for r in results for pr in r["prs"]), key=lambda item: (item["created"] or 0, item["number"] or 0))
    module.exit_json(changed=False, prs=prs, branches={}, results=results)


if __name__ == "__main__":
    main()
