#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: check_result
short_description: Record the verdict of one Phase 5 check
version_added: 0.1.0
description:
  - Turns what a check observed into C(PASS), C(FAIL) or C(SKIP) and stores it as
    C(<report_dir>/checks/<id>.json), where M(coopcloud.cc_ci.review_report) collects it.
  - C(SKIP) when O(skip) is given; C(FAIL) when O(error) is given or any expectation is false (the
    diagnosis joins the diagnoses of all unmet expectations); C(PASS) otherwise. A check with no
    expectation fails, so a check always asserts something.
author: coopcloud.cc_ci developers (@coopcloud)
options:
  id:
    description: The check id.
    type: str
    required: true
    choices: [V1, V2, V3, V4, V5, V6, V7, V8, V8a, V9, CRON]
  report_dir:
    description: Folder of the report; the result goes to its C(checks/) subfolder.
    type: path
    required: true
  started:
    description: Unix time the check started, for its duration.
    type: float
  expectations:
    description: What must hold for a PASS.
    type: list
    elements: dict
    default: []
    suboptions:
      that:
        description: The observed condition.
        type: bool
        required: true
      diagnosis:
        description: The likely cause, said when O(expectations[].that) is false.
        type: str
        required: true
  evidence:
    description: What the check saw (URLs, SHAs, timings); copied into the report.
    type: dict
    default: {}
  error:
    description: An error that ended the check early (from a C(rescue)); the check FAILs with it.
    type: str
  skip:
    description: Why the check could not run here; the check is reported C(SKIP), never C(PASS).
    type: str
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The result is written in check mode too; it describes the run, not the box.
"""

EXAMPLES = r"""
- name: Record V1
  coopcloud.cc_ci.check_result:
    id: V1
    report_dir: "{{ ccci_report_dir }}"
    started: "{{ _v1_started }}"
    evidence:
      build_url: "{{ _v1_bot.build.url }}"
    expectations:
      - that: "{{ _v1_outsider.outcome == 'rejected' }}"
        diagnosis: the bridge fired on a non-member's !testme (membership gate open)
"""

RETURN = r"""
verdict:
  description: PASS, FAIL or SKIP.
  type: str
  returned: always
diagnosis:
  description: Why it failed or was skipped.
  type: str
  returned: always
path:
  description: The stored result.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CHECK_IDS, evaluate, store


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            id=dict(type="str", required=True, choices=list(CHECK_IDS)),
            report_dir=dict(type="path", required=True),
            started=dict(type="float"),
            expectations=dict(type="list", elements="dict", default=[], options=dict(
                that=dict(type="bool", required=True),
                diagnosis=dict(type="str", required=True),
            )),
            evidence=dict(type="dict", default={}),
            error=dict(type="str"),
            skip=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = evaluate(p["id"], p["started"], p["expectations"], p["evidence"], p["error"], p["skip"])
    path = store(p["report_dir"], result)
    module.exit_json(changed=False, verdict=result.verdict, diagnosis=result.diagnosis,
                     seconds=result.seconds, path=path)


if __name__ == "__main__":
    main()
