#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: run_ledger
short_description: Record a resource in the run's on-disk ledger before creating it
version_added: 0.1.0
description:
  - The ledger is a JSON-lines file. Each line is one entry (the fields of O(entry), plus C(time)
    and C(created_by)), appended and flushed to disk before the caller creates the resource, so a
    cleanup after a crash still finds it.
  - With O(state=present) an entry is appended unless an identical entry that is not done is
    already there (then C(changed) is V(false)).
  - With O(state=absent) every open entry whose fields include all of O(match) is marked done, by
    appending a C(kind=ledger_done) line (the file is only ever appended to).
  - With O(state=read) the entries are returned, each with C(done). A line that cannot be used (not
    UTF-8, not JSON, a JSON value that is not an object, cut short by a kill) is skipped, reported in
    C(skipped) and as a warning; it never fails the task.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  path:
    description: The ledger file (the variable C(ccci_ledger)); created with its folder when missing.
    type: path
    required: true
  state:
    description: V(present) appends, V(absent) marks done, V(read) reads.
    type: str
    choices: [present, absent, read]
    default: present
  entry:
    description: "The resource, e.g. C({kind: pr, repo: recipe-maintainers/custom-html-tiny, ref: ccci/v3})."
    type: dict
  match:
    description:
      - Fields an entry must have (equal values) to be marked done (O(state=absent)) or returned
        (O(state=read)).
    type: dict
attributes:
  check_mode:
    support: full
    details: Reports what would be appended or marked; writes nothing.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Record the scratch branch before creating it
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    entry:
      kind: branch
      repo: "{{ ccci_upstream_org }}/custom-html-tiny"
      ref: ccci/v4-regression
  delegate_to: localhost

- name: The deploys still open
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    state: read
    match: {kind: deploy}
  register: _ledger

- name: Mark a torn-down deploy done
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    state: absent
    match: {kind: deploy, domain: custom-html-tiny-3.lab.local}
"""

RETURN = r"""
entry:
  description: The line appended (or the open entry already there).
  type: dict
  returned: when state=present
entries:
  description: The ledger's entries (done markers left out), each with C(done) (bool).
  type: list
  elements: dict
  returned: when state=read
open:
  description: The entries that are not done.
  type: list
  elements: dict
  returned: when state=read
skipped:
  description: The lines that could not be used, each with its line number and why.
  type: list
  elements: str
  returned: when state=read
matched:
  description: The open entries marked done.
  type: list
  elements: dict
  returned: when state=absent
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger


def main() -> None:
    # The action plugin of the same name runs this on the controller without a module process;
    # the module is what ansible-doc renders and what runs when the action plugin is bypassed.
    module = AnsibleModule(argument_spec=ledger.ARGUMENT_SPEC, required_if=ledger.REQUIRED_IF,
                           supports_check_mode=True)
    p = module.params
    try:
        result, warnings = ledger.apply(p["path"], p["state"], p["entry"], p["match"], module.check_mode)
    except ledger.Refused as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"ledger {p['path']}: {exc.strerror or exc}: check the path (ccci_ledger)")
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
