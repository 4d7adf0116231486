#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_pr_info
short_description: Read a Gitea pull request with its files, comments and head commit statuses
version_added: 0.1.0
description:
  - Reads PR O(number) of O(repo) as the checks need it, cold, from the API.
  - Returns its state, C(merged), head and base, the names of the files it changes, every comment
    with its author, the commit statuses of its head SHA (Gitea's C(status) field returned as
    C(state)), the combined state (V("") when the head has no status) and the number of commits.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
options:
  repo:
    description: The repository, C(owner/name).
    type: str
    required: true
  number:
    description: The PR number.
    type: int
    required: true
seealso:
  - module: coopcloud.cc_ci.gitea_pr
"""

EXAMPLES = r"""
- name: Read the PR cold
  coopcloud.cc_ci.gitea_pr_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: recipe-maintainers/custom-html-tiny
    number: "{{ _pr.pr.number }}"
  register: _info

- name: Nothing was merged
  ansible.builtin.assert:
    that: not _info.pr.merged
"""

RETURN = r"""
pr:
  description: The PR.
  type: dict
  returned: always
  contains:
    number: {description: "PR number.", type: int}
    state: {description: "C(open) or C(closed).", type: str}
    merged: {description: "Whether Gitea reports it merged.", type: bool}
    title: {description: "Title.", type: str}
    body: {description: "Description.", type: str}
    html_url: {description: "Web page.", type: str}
    head_ref: {description: "Head branch.", type: str}
    head_sha: {description: "Head commit SHA.", type: str}
    base_ref: {description: "Base branch.", type: str}
    user: {description: "Author's login.", type: str}
    files: {description: "Names of the changed files.", type: list, elements: str}
    comments:
      description: Comments, oldest first.
      type: list
      elements: dict
      contains:
        id: {description: "Comment id.", type: int}
        body: {description: "Text.", type: str}
        user: {description: "Author's login.", type: str}
        created_at: {description: "Creation time.", type: str}
        html_url: {description: "Web address.", type: str}
    statuses:
      description: Commit statuses of the head SHA, newest first.
      type: list
      elements: dict
      contains:
        context: {description: "Status context, e.g. C(cc-ci/testme).", type: str}
        state: {description: "pending, success, failure, error, warning or skipped.", type: str}
        target_url: {description: "Link, e.g. the Drone build.", type: str}
        description: {description: "Description.", type: str}
        created_at: {description: "Creation time.", type: str}
    combined_state:
      description: Gitea's combined state of the head SHA; empty when it has no status.
      type: str
    commits:
      description: Commits between base and head (null when the compare call fails).
      type: int
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import (
    comment_summary, gitea_argument_spec, gitea_from_module, pr_summary, status_summary,
)


def read(gitea, repo, number):
    raw = gitea.get_pr(repo, number)
    pr = pr_summary(raw)
    sha = pr["head_sha"]
    pr["files"] = [f.get("filename") for f in gitea.pr_files(repo, number)]
    pr["comments"] = [comment_summary(c) for c in gitea.list_comments(repo, number)]
    pr["statuses"] = [status_summary(s) for s in gitea.list_statuses(repo, sha)] if sha else []
    pr["combined_state"] = gitea.combined_status(repo, sha)["state"] if sha else ""
    try:
        pr["commits"] = int(gitea.compare(repo, pr["base_ref"], sha).get("total_commits"))
    except (ApiError, TypeError, ValueError):
        pr["commits"] = raw.get("commits") if isinstance(raw.get("commits"), int) else None
    return pr


def main():
    argument_spec = gitea_argument_spec()
    argument_spec.update(repo=dict(type="str", required=True), number=dict(type="int", required=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        with gitea_from_module(module) as gitea:
            pr = read(gitea, module.params["repo"], module.params["number"])
    except ApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, url=exc.url)
    module.exit_json(changed=False, pr=pr)


if __name__ == "__main__":
    main()
