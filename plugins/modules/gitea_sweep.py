#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_sweep
short_description: Close every PR and delete every branch a verification run opened
version_added: 0.1.0
description:
  - Reads the run ledger (JSON lines written before each resource was created) and closes, in the
    repositories it names and in O(repos), every open PR from a branch the run created, and every
    PR that an agent the run started opened (ledger entries of kind C(agent_run) with C(repos),
    C(since) and C(author)); then deletes those branches (never C(main) or C(master)).
  - Reads the state back and returns what is still open (a sweep whose C(remaining) is not empty
    did not clean up). Never merges anything; returns any PR of the run it finds merged.
  - Works after a killed run too, because the ledger is on disk and written before each creation.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
options:
  ledger:
    description: The run ledger (JSON lines). A missing file means nothing to sweep but O(repos).
    type: path
    required: true
  repos:
    description: More repositories (C(owner/name)) to look into, e.g. the sandbox mirrors and cc-ci.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is closed or deleted; the returns say what would be.
"""

EXAMPLES = r"""
- name: Close what the run opened
  coopcloud.cc_ci.gitea_sweep:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    ledger: "{{ ccci_ledger }}"
    repos: [recipe-maintainers/custom-html-tiny, recipe-maintainers/cc-ci]
"""

RETURN = r"""
closed:
  description: PRs closed (or that would be, in check mode).
  type: list
  elements: dict
  returned: always
deleted_branches:
  description: C(repo:branch) deleted.
  type: list
  elements: str
  returned: always
remaining:
  description: PRs still open and branches still there after the sweep (empty when clean).
  type: list
  elements: dict
  returned: always
errors:
  description: Closes or deletions the server refused (the rest of the sweep still ran).
  type: list
  elements: str
  returned: always
merged:
  description: PRs of the run that are merged (a broken guardrail).
  type: list
  elements: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.sweep import plan_from, read_ledger, sweep


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(ledger=dict(type="path", required=True), repos=dict(type="list", elements="str", default=[]))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    plan = plan_from(read_ledger(module.params["ledger"]), module.params["repos"])
    try:
        with gitea_from_module(module) as client:
            result = sweep(client, plan, apply=not module.check_mode)
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(result["closed"] or result["deleted_branches"]), **result)


if __name__ == "__main__":
    main()
