#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_file_info
short_description: Read a file of a Gitea repository at an exact commit
version_added: 0.1.0
description:
  - Resolves O(ref) (a branch, tag or SHA) to its full commit SHA first and reads the file there,
    because Gitea's C(raw?ref=) silently falls back to the default branch for a short or unknown ref.
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
      - Several repositories (C(owner/name)), each read at O(ref) in one module run; the answer is
        then RV(results), one entry per repository in this order.
    type: list
    elements: str
  path:
    description: Path of the file in the repository.
    type: str
    required: true
  ref:
    description: Branch, tag or commit SHA.
    type: str
    default: main
"""

EXAMPLES = r"""
- name: Read compose.yml on the mirror's main
  coopcloud.cc_ci.gitea_file_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: recipe-maintainers/custom-html-tiny
    path: compose.yml
  register: compose

- name: Mirror main and upstream main in one module run
  coopcloud.cc_ci.gitea_file_info:
    repos: [recipe-maintainers/custom-html-tiny, coop-cloud/custom-html-tiny]
    path: compose.yml
  register: mains  # mains.results[i].item / .sha / .exists / .content
"""

RETURN = r"""
exists:
  description: Whether the file is there at that commit (with O(repos), in every one).
  type: bool
  returned: always
content:
  description: The file's text (empty when it does not exist; with O(repos), see RV(results)).
  type: str
  returned: always
sha:
  description: The full commit SHA the file was read at.
  type: str
  returned: when repo is given
results:
  description: With O(repos), one entry per repository, in the order given.
  type: list
  elements: dict
  returned: when repos is given
  contains:
    item: {description: The repository (C(owner/name))., type: str}
    exists: {description: Whether the file is there., type: bool}
    content: {description: The file's text., type: str}
    sha: {description: The commit SHA it was read at., type: str}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(repo=dict(type="str"), repos=dict(type="list", elements="str"), path=dict(type="str", required=True),
                ref=dict(type="str", default="main"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("repo", "repos")], mutually_exclusive=[("repo", "repos")])
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    results = []
    try:
        with gitea_from_module(module) as client:
            for repo in p["repos"] if p["repos"] is not None else [p["repo"]]:
                sha = client.resolve_sha(repo, p["ref"])
                found = client.get_file(repo, p["path"], sha)
                results.append({"item": repo, "exists": found is not None,
                                "content": (found or {}).get("text") or "", "sha": sha})
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    if p["repos"] is not None:
        module.exit_json(changed=False, exists=all(r["exists"] for r in results), content="", results=results)
    one = results[0]
    module.exit_json(changed=False, exists=one["exists"], content=one["content"], sha=one["sha"])


if __name__ == "__main__":
    main()
