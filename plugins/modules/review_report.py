#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: review_report
short_description: Write REVIEW-5.md, report.json and junit.xml from the recorded checks
version_added: 0.1.0
description:
  - Collects the results that M(coopcloud.cc_ci.check_result) stored under C(<report_dir>/checks/)
    and writes the human report C(REVIEW-5.md), the machine report C(report.json) and C(junit.xml).
  - Every check id appears in the reports; one that recorded nothing is reported C(SKIP) with the
    reason, never C(PASS).
  - Secrets given in O(redact) are replaced by C(********) in every file written.
  - Each file that can be written is written; when one cannot be (e.g. C(REVIEW-5.md) is a folder),
    the task fails naming each such file and why, after writing the others.
  - A run that stopped early (O(error)) is one more failed testcase in C(junit.xml).
author: coopcloud.cc_ci developers (@coopcloud)
options:
  report_dir:
    description: Folder holding C(checks/) and receiving the reports.
    type: path
    required: true
  target:
    description: What was verified (C(lab) or C(box)).
    type: str
    default: lab
  started:
    description: Unix time the run started.
    type: float
    required: true
  redact:
    description: Secret values that must never appear in a report. Never logged.
    type: list
    elements: str
    default: []
  error:
    description: What stopped the run early, if anything; the report says so and is overall FAIL.
    type: str
  only:
    description:
      - Report only these check ids (a run of one check), ids of the check registry; default every
        check of the registry (also when empty). An unknown id fails the task with the list of known ids.
    type: list
    elements: str
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The reports are written in check mode too.
"""

EXAMPLES = r"""
- name: Write the review
  coopcloud.cc_ci.review_report:
    report_dir: "{{ ccci_report_dir }}"
    target: "{{ ccci_target }}"
    started: "{{ ccci_run_started }}"
    redact: ["{{ ccci_gitea_token }}", "{{ ccci_drone_token }}"]
"""

RETURN = r"""
verdicts:
  description: Check id to verdict.
  type: dict
  returned: always
  sample: {V1: PASS, V2: FAIL}
failures:
  description: Ids of the checks that failed, with their diagnoses.
  type: dict
  returned: always
paths:
  description: The files written.
  type: dict
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import select
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import load_all
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report import ReportNotWritten, ordered, write_all


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            report_dir=dict(type="path", required=True),
            target=dict(type="str", default="lab"),
            started=dict(type="float", required=True),
            redact=dict(type="list", elements="str", default=[], no_log=True),
            only=dict(type="list", elements="str"),
            error=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    results = load_all(p["report_dir"])
    # Results older than this run are leftovers of an earlier run: they must not count now.
    results = {cid: r for cid, r in results.items() if r.recorded >= p["started"]}
    try:
        ids = [check.id for check in select(p["only"] or None)]
    except ValueError as exc:
        module.fail_json(msg=f"review_report: only: {exc}")
    checks = ordered(results, ids)
    try:
        paths = write_all(p["report_dir"], p["target"], p["started"], time.time(), results, p["redact"], ids,
                          p["error"])
    except ReportNotWritten as exc:
        module.fail_json(msg=str(exc), paths=exc.paths, verdicts={c.id: c.verdict for c in checks},
                         failures={c.id: c.diagnosis for c in checks if c.verdict == "FAIL"})
    module.exit_json(
        changed=False,
        verdicts={c.id: c.verdict for c in checks},
        failures={c.id: c.diagnosis for c in checks if c.verdict == "FAIL"},
        paths=paths,
    )


if __name__ == "__main__":
    main()
