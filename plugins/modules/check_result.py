#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: check_result
short_description: Judge one Phase 5 check by its named predicates and record the verdict
version_added: 0.1.0
description:
  - A check is a list of claims, each a named predicate (C(V1.non_member_rejected)) over what the
    check read cold. This module collects the check's predicates, turns them into C(PASS), C(FAIL)
    or C(SKIP) and stores the result as C(<report_dir>/checks/<id>.json), where
    M(coopcloud.cc_ci.review_report) collects it.
  - "The predicates come from three places, in this order: O(predicates) as given; the deprecated
    O(expectations), each becoming a predicate C(<id>.expectation_<n>) unless it has a name; and the
    check's claims module, when the check registry (C(plugins/module_utils/check_registry.py)) names
    one: C(plugins/module_utils/claims/<id>.py) whose function C(evaluate) is called with O(inputs)."
  - "The verdict: C(SKIP) when O(skip) is given (nothing is judged); C(FAIL) with its first line when
    O(error) is given; C(FAIL) when there is no predicate at all (the check recorded no predicate);
    C(FAIL) when any predicate does not hold, the diagnosis joining every failing predicate's
    diagnosis once each, in order, with C(; ); C(PASS) otherwise."
  - A claims module that raises, or returns something other than predicates, is a failing predicate
    C(<id>.claims) naming the module and the exception, so a broken judge never passes a check. A
    predicate not named C(<id>.<claim>) fails the check the same way.
  - "The stored evidence gets C(predicates): a list of C({name, ok, diagnosis, inputs}). Evidence,
    predicate inputs and diagnoses are made JSON-safe, and every value of O(redact) is replaced by
    C(********) in them, by the same redaction the report uses."
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  id:
    description:
      - The check id, exactly as the check registry names it (C(V1), C(V8a), C(CRON), ...); an
        unknown id fails the task with the list of known ids.
    type: str
    required: true
  report_dir:
    description: Folder of the report; the result goes to its C(checks/) subfolder.
    type: path
    required: true
  started:
    description: Unix time the check started, for its duration.
    type: float
  predicates:
    description: The check's claims, judged by the role (the claims module adds its own).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: C(<id>.<claim>), for example C(V1.one_build_per_comment).
        type: str
        required: true
      ok:
        description: Whether the claim holds.
        type: bool
        required: true
      diagnosis:
        description: The component and the lie, said when O(predicates[].ok) is false.
        type: str
        required: true
      inputs:
        description: What the claim was judged on; kept in the evidence.
        type: dict
        default: {}
  inputs:
    description:
      - What the check read, handed to the function C(evaluate) of the check's claims module when the
        registry names one. Ignored for a check without a claims module.
    type: dict
    default: {}
  expectations:
    description:
      - Deprecated, kept while the roles move to O(inputs) and claims modules. Each becomes a
        predicate C(<id>.expectation_<n>) (counted from 1), or O(expectations[].name) when given.
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
      name:
        description: The predicate name, C(<id>.<claim>).
        type: str
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
  redact:
    description:
      - Secret values replaced by C(********) in the stored evidence and diagnosis. Never logged.
      - C(verify-phase5.yml) sets it for every check through C(module_defaults).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: The result is written in check mode too; it describes the run, not the box.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Record V1 (its claims module judges the inputs)
  coopcloud.cc_ci.check_result:
    id: V1
    report_dir: "{{ ccci_report_dir }}"
    started: "{{ _v1_started }}"
    evidence:
      pr: "{{ _v1_pr.pr.html_url | default(none) }}"
    inputs:
      repo: "{{ _v1_repo }}"
      bot: "{{ _v1_bot | default({}) }}"
      outsider: "{{ _v1_outsider | default({}) }}"

- name: Record a claim judged in the role
  coopcloud.cc_ci.check_result:
    id: V9
    report_dir: "{{ ccci_report_dir }}"
    predicates:
      - name: V9.ledger_closed
        ok: "{{ _v9_sweep.open | length == 0 }}"
        diagnosis: the sweep left ledger entries open
        inputs:
          open: "{{ _v9_sweep.open }}"
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
predicates:
  description: Every predicate judged, with its inputs (redacted).
  type: list
  elements: dict
  returned: always
  sample: [{name: V1.non_member_rejected, ok: true, diagnosis: "a non-member's !testme was not rejected", inputs: {}}]
seconds:
  description: How long the check took.
  type: float
  returned: always
path:
  description: The stored result.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import check_registry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import evaluate, store
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import redact_text


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            id=dict(type="str", required=True),
            report_dir=dict(type="path", required=True),
            started=dict(type="float"),
            predicates=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                ok=dict(type="bool", required=True),
                diagnosis=dict(type="str", required=True),
                inputs=dict(type="dict", default={}),
            )),
            inputs=dict(type="dict", default={}),
            expectations=dict(type="list", elements="dict", default=[], options=dict(
                that=dict(type="bool", required=True),
                diagnosis=dict(type="str", required=True),
                name=dict(type="str"),
            )),
            evidence=dict(type="dict", default={}),
            error=dict(type="str"),
            skip=dict(type="str"),
            redact=dict(type="list", elements="str", default=[], no_log=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_registry.get(p["id"])
    except ValueError as exc:
        module.fail_json(msg=f"check_result: {exc}")
    secrets = p["redact"]
    result = evaluate(p["id"], p["started"], p["predicates"], p["evidence"], p["error"], p["skip"],
                      inputs=p["inputs"], expectations=p["expectations"], scrub=lambda text: redact_text(text, secrets))
    path = store(p["report_dir"], result)
    module.exit_json(changed=False, verdict=result.verdict, diagnosis=result.diagnosis, seconds=result.seconds,
                     predicates=result.evidence.get("predicates", []), path=path)


if __name__ == "__main__":
    main()
