#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_pr
short_description: Ensure a Gitea pull request is open (optionally on a fresh scratch branch) or closed
version_added: 0.1.0
description:
  - With O(state=present), ensures an open pull request from O(head) to O(base) in O(repo). An open
    PR for that pair that already exists is returned unchanged.
  - With O(files), first ensures the scratch branch O(head) exists (created from O(from_ref) when
    missing) and holds those file contents, committing only the files whose content differs.
  - With O(state=closed), closes PR O(number) (or the open PR of O(head)); an already closed PR is
    left alone.
  - This module never merges and has no way to. It fails when a PR it touches reports C(merged),
    and it refuses to commit to the repository's default branch.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
options:
  repo:
    description: The repository, C(owner/name).
    type: str
    required: true
  state:
    description: Whether the PR should be open (V(present)) or closed (V(closed)).
    type: str
    choices: [present, closed]
    default: present
  head:
    description:
      - Branch the PR comes from. Required with O(state=present).
      - With O(state=closed) and no O(number), the open PR of this branch is closed.
    type: str
  base:
    description: Branch the PR goes into. Defaults to the repository's default branch.
    type: str
  title:
    description: 'Title of a PR this module creates. Defaults to C(cc-ci verification: <head>).'
    type: str
  body:
    description: Description of a PR this module creates.
    type: str
    default: ''
  from_ref:
    description:
      - Branch, tag or SHA to start O(head) from when it does not exist. Defaults to O(base).
      - Giving it without O(files) only ensures the branch exists.
    type: str
  files:
    description:
      - "File contents O(head) must hold, as C({path: content}). Only differing files are committed."
    type: dict
  commit_message:
    description: 'Commit message for the file changes. Defaults to C(cc-ci: update <paths>).'
    type: str
  number:
    description: Number of the PR to close, with O(state=closed).
    type: int
  delete_branch:
    description:
      - With O(state=closed), also delete the PR's head branch (never the default branch).
    type: bool
    default: false
  ledger:
    description:
      - >-
        Path of the run's ledger (JSON lines). Before a branch or PR is created, one line
        C({"kind": "branch"|"pr", "repo", "ref"|"head", "created_by": "ccci", "time"}) is appended,
        so a later cleanup finds it even after a crash.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: coopcloud.cc_ci.gitea_pr_info
  - module: coopcloud.cc_ci.gitea_testme
"""

EXAMPLES = r"""
- name: Open a PR that bumps the sandbox recipe on a scratch branch
  coopcloud.cc_ci.gitea_pr:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: recipe-maintainers/custom-html-tiny
    head: ccci/v4-regression
    base: main
    from_ref: main
    files:
      compose.yml: "{{ lookup('template', 'compose-bad.yml.j2') }}"
    commit_message: "cc-ci V4: seed a regression (bad image tag)"
    title: "cc-ci V4: seeded regression"
    ledger: "{{ ccci_report_dir }}/ledger.jsonl"
  register: _pr

- name: Close it again
  coopcloud.cc_ci.gitea_pr:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: recipe-maintainers/custom-html-tiny
    state: closed
    number: "{{ _pr.pr.number }}"
    delete_branch: true
"""

RETURN = r"""
pr:
  description: The PR after the task; null in check mode when it would be created, or when nothing was open to close.
  type: dict
  returned: always
  contains:
    number: {description: "PR number.", type: int}
    state: {description: "C(open) or C(closed).", type: str}
    merged: {description: "Whether Gitea reports it merged (always false, or the task fails).", type: bool}
    title: {description: "Title.", type: str}
    html_url: {description: "Web page of the PR.", type: str}
    head_ref: {description: "Head branch.", type: str}
    head_sha: {description: "Head commit SHA.", type: str}
    base_ref: {description: "Base branch.", type: str}
    user: {description: "Login of the PR's author.", type: str}
pr_created:
  description: Whether this task created the PR.
  type: bool
  returned: always
branch:
  description: The head branch, when O(files) or O(from_ref) were given.
  type: dict
  returned: when O(state=present)
  contains:
    name: {description: "Branch name.", type: str}
    created: {description: "Whether this task created it.", type: bool}
    sha: {description: "Its head commit after the task (null in check mode when created).", type: str}
files_changed:
  description: Paths committed (or that would be, in check mode).
  type: list
  elements: str
  returned: when O(state=present)
branch_deleted:
  description: Whether the head branch was deleted.
  type: bool
  returned: when O(state=closed)
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import (
    gitea_argument_spec, gitea_from_module, pr_summary,
)


def _guard_merged(module, repo, pr):
    if pr and pr.get("merged"):
        module.fail_json(msg=f"PR #{pr.get('number')} in {repo} reports merged: true; this run never merges, "
                             "so something else did: investigate before going on", pr=pr_summary(pr))


def ensure_present(module, gitea):
    p = module.params
    repo, head = p["repo"], p["head"]
    check = module.check_mode
    default_branch = None
    base = p["base"]
    if base is None or p["files"]:
        default_branch = gitea.repo(repo).get("default_branch") or "main"
        base = base or default_branch
    if head == base:
        module.fail_json(msg=f"head and base are both {head!r}: a PR needs a separate scratch branch")
    if p["files"] and head == default_branch:
        module.fail_json(msg=f"refusing to commit to {repo}'s default branch {head!r}: use a scratch branch as head")

    branch = None
    changed_files = []
    if p["files"] or p["from_ref"]:
        start = p["from_ref"] or base
        sha = gitea.branch_sha(repo, head)
        created = sha is None
        if created:
            if not check:
                ledger.append(p["ledger"], {"kind": "branch", "repo": repo, "ref": head, "from": start})
                gitea.create_branch(repo, head, start)
                sha = gitea.branch_sha(repo, head)
        read_ref = sha or start
        blobs = {}
        for path in sorted((p["files"] or {}).keys()):
            content = p["files"][path]
            content = "" if content is None else str(content)
            current = gitea.get_file(repo, path, read_ref)
            if current is not None and current.get("text") == content:
                continue
            changed_files.append(path)
            blobs[path] = (current or {}).get("sha")
        if changed_files and not check:
            message = p["commit_message"] or f"cc-ci: update {', '.join(changed_files)}"
            for path in changed_files:
                content = p["files"][path]
                gitea.put_file(repo, path, "" if content is None else str(content), message, branch=head,
                               sha=blobs[path])
            sha = gitea.branch_sha(repo, head)
        branch = {"name": head, "created": created, "sha": sha}

    pr = gitea.find_open_pr(repo, head, base)
    pr_created = False
    if pr is None and not check:
        ledger.append(p["ledger"], {"kind": "pr", "repo": repo, "head": head, "base": base})
        pr, pr_created = gitea.create_pr(repo, head, base, p["title"] or f"cc-ci verification: {head}",
                                         p["body"] or "")
        if pr_created:  # the number lets the sweep find the PR once its branch is gone (FACTS 2a)
            ledger.append(p["ledger"], {"kind": "pr", "repo": repo, "head": head, "base": base,
                                        "number": pr["number"]})
    elif pr is not None and changed_files and not check:
        pr = gitea.get_pr(repo, pr["number"])
    _guard_merged(module, repo, pr)
    changed = bool(changed_files) or bool(branch and branch["created"]) or pr_created or (pr is None)
    return dict(changed=changed, pr=pr_summary(pr) if pr else None, pr_created=pr_created,
                branch=branch, files_changed=changed_files)


def ensure_closed(module, gitea):
    p = module.params
    repo = p["repo"]
    number = p["number"]
    if number is None:
        found = gitea.find_open_pr(repo, p["head"], p["base"])
        if found is None:
            return dict(changed=False, pr=None, pr_created=False, branch_deleted=False)
        number = found["number"]
    pr = gitea.get_pr(repo, number)
    _guard_merged(module, repo, pr)
    changed = False
    if pr.get("state") != "closed":
        changed = True
        if not module.check_mode:
            gitea.close_pr(repo, number)
            pr = gitea.get_pr(repo, number)
            _guard_merged(module, repo, pr)
    deleted = False
    if p["delete_branch"]:
        head = (pr.get("head") or {}).get("ref")
        head_repo = ((pr.get("head") or {}).get("repo") or {}).get("full_name") or repo
        default_branch = gitea.repo(repo).get("default_branch") or "main"
        if head and head_repo == repo and head not in (default_branch, (pr.get("base") or {}).get("ref")):
            if gitea.get_branch(repo, head) is not None:
                deleted = True
                changed = True
                if not module.check_mode:
                    deleted = gitea.delete_branch(repo, head)
    return dict(changed=changed, pr=pr_summary(pr), pr_created=False, branch_deleted=deleted)


def main():
    argument_spec = gitea_argument_spec()
    argument_spec.update(
        repo=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "closed"]),
        head=dict(type="str"),
        base=dict(type="str"),
        title=dict(type="str"),
        body=dict(type="str", default=""),
        from_ref=dict(type="str"),
        files=dict(type="dict"),
        commit_message=dict(type="str"),
        number=dict(type="int"),
        delete_branch=dict(type="bool", default=False),
        ledger=dict(type="path"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ("head",)), ("state", "closed", ("number", "head"), True)],
        supports_check_mode=True,
    )
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        with gitea_from_module(module) as gitea:
            if module.params["state"] == "present":
                result = ensure_present(module, gitea)
            else:
                result = ensure_closed(module, gitea)
    except ApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, url=exc.url)
    except ValueError as exc:
        module.fail_json(msg=str(exc), exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
