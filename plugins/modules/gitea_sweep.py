#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
    PRs are found by the numbers the ledger recorded (a head ref only as the fallback, since real Gitea
    reports C(refs/pull/<n>/head) once a PR's branch is deleted).
  - A ledger line that cannot be used (not UTF-8, not JSON, not a JSON object, cut short) is skipped
    and reported in C(ledger_skipped) and as a warning; a repository, PR or branch that is gone is a
    note in C(notes), not an error. Neither stops the sweep.
  - After a sweep that leaves nothing open and met no error, the ledger lines it read are dropped
    (O(compact)), so the next sweep costs what is open, not what ever existed.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
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
  compact:
    description:
      - Drop the ledger lines this sweep read once it has closed everything they name (nothing
        remaining, no error). Lines appended meanwhile are kept. Never in check mode.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: In check mode nothing is closed or deleted; the returns say what would be.
  diff_mode:
    support: none
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
notes:
  description: Things that need no action but are worth a line, e.g. a repository or PR that is gone.
  type: list
  elements: str
  returned: always
ledger_skipped:
  description: Ledger lines that could not be used, each with its line number and why.
  type: list
  elements: str
  returned: always
compacted:
  description: Whether the ledger lines this sweep read were dropped.
  type: bool
  returned: always
lookups:
  description: Requests sent to Gitea, retries included (what the sweep cost).
  type: int
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.sweep import plan_from, sweep


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(ledger=dict(type="path", required=True), repos=dict(type="list", elements="str", default=[]),
                compact=dict(type="bool", default=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    path = module.params["ledger"]
    try:
        read = ledger.read(path)
    except OSError as exc:
        module.fail_json(msg=f"cannot read the ledger {path}: {exc.strerror or exc}: check ccci_ledger")
    for note in read.skipped:
        module.warn(f"ledger {path}: {note}")
    plan = plan_from(read.entries, module.params["repos"])
    lookups = 0
    try:
        with gitea_from_module(module) as client:
            result = sweep(client, plan, apply=not module.check_mode)
            lookups = client.calls
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc), ledger_skipped=read.skipped)
    clean = not (result["remaining"] or result["errors"])
    compacted = False
    if module.params["compact"] and clean and not module.check_mode:
        try:
            compacted = ledger.compact(path, read.mark)
        except OSError as exc:
            result["notes"].append(f"could not compact the ledger {path}: {exc.strerror or exc}")
    module.exit_json(changed=bool(result["closed"] or result["deleted_branches"] or compacted),
                     ledger_skipped=read.skipped, compacted=compacted, lookups=lookups, **result)


if __name__ == "__main__":
    main()
