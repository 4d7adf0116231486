#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_file
short_description: Ensure files have given contents on a branch of a Gitea repository (to seed a case)
version_added: 0.1.0
description:
  - Commits each file of O(files) whose content differs on O(branch) through the contents API;
    files already equal are left alone, so a second run changes nothing.
  - Seeding a check writes only to a sandbox upstream or to scratch branches. Writing the default
    branch of a repository needs O(allow_default_branch=true), and the repositories in O(protect)
    (the mirrors and cc-ci) are refused on their default branch whatever that option says.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
options:
  repo:
    description: C(owner/name).
    type: str
    required: true
  branch:
    description: The branch to commit on (created from O(from_ref) when missing).
    type: str
    required: true
  from_ref:
    description: Where a missing O(branch) starts.
    type: str
    default: main
  files:
    description: Path to the wanted text content.
    type: dict
    required: true
  commit_message:
    description: Commit message.
    type: str
    default: cc-ci verification seed
  allow_default_branch:
    description: Allow committing to the repository's default branch (a sandbox upstream's C(main)).
    type: bool
    default: false
  protect:
    description: Repositories whose default branch is never written (the mirrors, cc-ci).
    type: list
    elements: str
    default: []
  ledger:
    description: Run ledger; a created branch is recorded there before it is created.
    type: path
attributes:
  check_mode:
    support: full
    details: Nothing is committed in check mode; RV(changed_files) says what would be.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Pin the sandbox upstream to an older image tag (seeds an available upgrade)
  coopcloud.cc_ci.gitea_file:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: coop-cloud/custom-html-tiny
    branch: main
    allow_default_branch: true
    protect: [recipe-maintainers/custom-html-tiny, recipe-maintainers/cc-ci]
    files:
      compose.yml: "{{ compose_text }}"
"""

RETURN = r"""
changed_files:
  description: Files committed (or that would be).
  type: list
  elements: str
  returned: always
sha:
  description: The branch's head commit afterwards.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import (
    gitea_argument_spec,
    gitea_from_module,
)


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(
        repo=dict(type="str", required=True), branch=dict(type="str", required=True),
        from_ref=dict(type="str", default="main"), files=dict(type="dict", required=True),
        commit_message=dict(type="str", default="cc-ci verification seed"),
        allow_default_branch=dict(type="bool", default=False),
        protect=dict(type="list", elements="str", default=[]), ledger=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    try:
        with gitea_from_module(module) as client:
            default = client.repo(p["repo"]).get("default_branch") or "main"
            if p["branch"] == default and (p["repo"] in p["protect"] or not p["allow_default_branch"]):
                module.fail_json(msg=f"refusing to write {default} of {p['repo']}: seeding writes only a sandbox "
                                     "upstream (allow_default_branch) or scratch branches")
            sha = client.branch_sha(p["repo"], p["branch"])
            changed: list[str] = []
            for path, text in p["files"].items():
                current = client.get_file(p["repo"], path, sha) if sha else None
                if current is not None and current.get("text") == text:
                    continue
                changed.append(path)
                if module.check_mode:
                    continue
                if sha is None:
                    ledger.append(p["ledger"], {"kind": "branch", "repo": p["repo"], "ref": p["branch"]})
                    base = client.resolve_sha(p["repo"], p["from_ref"])
                    source = client.get_file(p["repo"], path, base)
                    client.put_file(p["repo"], path, text, p["commit_message"], p["from_ref"],
                                    sha=(source or {}).get("sha"), new_branch=p["branch"])
                else:
                    client.put_file(p["repo"], path, text, p["commit_message"], p["branch"],
                                    sha=(current or {}).get("sha"))
                sha = client.branch_sha(p["repo"], p["branch"])
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(changed), changed_files=changed, sha=sha)


if __name__ == "__main__":
    main()
