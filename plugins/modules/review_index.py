#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: review_index
short_description: Write the index of a run over several boxes (index.md, index.json)
version_added: 0.1.0
description:
  - A run over several boxes writes each box's report in C(<report_dir>/<box>/) (M(coopcloud.cc_ci.review_report));
    this module reads each box's C(report.json) back and writes, in O(report_dir), C(index.md) in REVIEW-5's
    form (the overall verdict, one row a box with its verdict per check and a link to its C(REVIEW-5.md),
    then each failure with its diagnosis) and C(index.json).
  - A box without a report of this run (missing, unreadable, or older than O(started)) is listed as
    C(FAIL) with the reason, never as passed.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  report_dir:
    description: The run's report folder; each box's report is in C(<report_dir>/<box>/).
    type: path
    required: true
  boxes:
    description: The boxes of the run (their inventory names), in the order the index lists them.
    type: list
    elements: str
    required: true
  started:
    description: Unix time the run started; a box report older than this is not this run's.
    type: float
    required: true
attributes:
  check_mode:
    support: full
    details: The index is written in check mode too, like the reports it lists.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Write the index of every box's verdicts
  coopcloud.cc_ci.review_index:
    report_dir: "{{ ccci_report_dir }}"
    boxes: "{{ ansible_play_hosts_all }}"
    started: "{{ ccci_run_started }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
overall:
  description: The run's verdict over every box (C(FAIL) when a box failed or has no report).
  type: str
  returned: always
  sample: PASS
boxes:
  description: Per box, its overall verdict.
  type: dict
  returned: always
  sample: {box-a: PASS, box-b: FAIL}
paths:
  description: The files written.
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report import ReportNotWritten
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report_index import run_overall, write_index


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            report_dir=dict(type="path", required=True),
            boxes=dict(type="list", elements="str", required=True),
            started=dict(type="float", required=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        rows, paths = write_index(p["report_dir"], p["boxes"], p["started"])
    except ReportNotWritten as exc:
        module.fail_json(msg=str(exc), paths=exc.paths)
    module.exit_json(changed=False, overall=run_overall(rows), boxes={row.name: row.overall for row in rows},
                     paths=paths)


if __name__ == "__main__":
    main()
