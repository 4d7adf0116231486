# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: checks
short_description: The registry of Phase 5 checks (id, title, role, claim, what it reads)
version_added: 0.2.0
author: coopcloud.cc_ci developers (@coopcloud)
description:
  - Returns the checks of the collection's registry (C(plugins/module_utils/check_registry.py)) in
    plan order, one dict per check, optionally only the ids named and only one phase.
  - An id is matched exactly (C(V1) is never C(V1) as part of C(V10)); an unknown id, or naming ids
    through an empty list, fails with the list of known ids.
options:
  _terms:
    description:
      - Check ids to return, each a string or a list of strings. None returns every check.
    type: list
    elements: raw
    required: false
  phase:
    description:
      - Only the checks of this phase (C(checks) run in order, C(cleanup) always runs, C(after)
        runs once every other selected check passed).
    type: str
    choices: [checks, cleanup, after]
"""

EXAMPLES = r"""
- name: Every check of the registry
  ansible.builtin.debug:
    msg: "{{ query('coopcloud.cc_ci.checks') | map(attribute='id') }}"

- name: Run the selected checks of the checks phase, in plan order
  ansible.builtin.include_role:
    name: "{{ _check.role }}"
  loop: "{{ query('coopcloud.cc_ci.checks', ccci_checks, phase='checks') }}"
  loop_control:
    loop_var: _check
    label: "{{ _check.id }}"
"""

RETURN = r"""
_list:
  description: One dict per check, in plan order.
  type: list
  elements: dict
  contains:
    id:
      description: The check id (C(V1), C(V8a), C(CRON)).
      type: str
    title:
      description: Its title in the report.
      type: str
    role:
      description: The role that runs it (FQCN).
      type: str
    claim:
      description: What the check proves, in one sentence.
      type: str
    reads:
      description: What it reads cold.
      type: str
    phase:
      description: When it runs (C(checks), C(cleanup) or C(after)).
      type: str
    claims:
      description: Its claims module under C(plugins/module_utils/), or null.
      type: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import select


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        wanted = None
        if terms:
            wanted = []
            for term in terms:
                wanted.extend(term if isinstance(term, (list, tuple)) else [term])
        try:
            checks = select(wanted)
        except ValueError as exc:
            raise AnsibleLookupError(f"coopcloud.cc_ci.checks: {exc}") from None
        phase = self.get_option("phase")
        return [check.as_dict() for check in checks if phase is None or check.phase == phase]
