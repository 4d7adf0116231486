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
    description: C(owner/name).
    type: str
    required: true
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
"""

RETURN = r"""
exists:
  description: Whether the file is there at that commit.
  type: bool
  returned: always
content:
  description: The file's text (empty when it does not exist).
  type: str
  returned: always
sha:
  description: The full commit SHA the file was read at.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(repo=dict(type="str", required=True), path=dict(type="str", required=True),
                ref=dict(type="str", default="main"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    try:
        with gitea_from_module(module) as client:
            sha = client.resolve_sha(p["repo"], p["ref"])
            found = client.get_file(p["repo"], p["path"], sha)
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    content = (found or {}).get("text") or ""
    module.exit_json(changed=False, exists=found is not None, content=content, sha=sha)


if __name__ == "__main__":
    main()
