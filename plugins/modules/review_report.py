#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: review_report
short_description: Write REVIEW-5.md, report.html, timeline.svg, report.json and junit.xml
version_added: 0.1.0
description:
  - Collects the results that M(coopcloud.cc_ci.check_result) stored under C(<report_dir>/checks/)
    and writes the report for people C(REVIEW-5.md) (a summary table, then per check its claim,
    verdict, predicates and the 3-8 links that prove it; a failing check leads with its diagnosis),
    C(report.html) (the same, the timeline and each check's full evidence), C(timeline.svg) (a
    Gantt chart of the run, no script), the machine report C(report.json) and C(junit.xml).
  - "Links are chosen by one rule: the check's own C(evidence.links) first, then the URL-valued
    evidence fields ranked PR > build > comment > summary file > other, round-robin over these kinds,
    at most 8 (C(module_utils/report.py))."
  - The timeline is drawn from the check results, the Drone builds created during the run (when
    O(drone_url) and O(drone_token) are given) and the spans in the run's progress file (written by
    the waiting modules and the C(coopcloud.cc_ci.progress) callback); what is missing is left out.
  - Every check id appears in the reports; one that recorded nothing is reported C(SKIP) with the
    reason, never C(PASS).
  - Secrets given in O(redact) are replaced by C(********) in every file written.
  - Each file that can be written is written; when one cannot be (e.g. C(REVIEW-5.md) is a folder),
    the task fails naming each such file and why, after writing the others.
  - A run that stopped early (O(error)) is one more failed testcase in C(junit.xml).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
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
  timeline:
    description: Write C(timeline.svg) and the timeline in C(report.html) and C(report.json).
    type: bool
    default: true
  progress_file:
    description:
      - The run's progress file (JSON lines of spans). Default the environment variable
        E(CCCI_PROGRESS_FILE), which the C(coopcloud.cc_ci.progress) callback sets.
    type: path
  drone_url:
    description: Drone server, to read the builds created during the run for the timeline.
    type: str
  drone_token:
    description: Drone token (read only). Never logged.
    type: str
  ci_repo:
    description: The repo whose Drone builds are drawn.
    type: str
    default: recipe-maintainers/cc-ci
  validate_certs:
    description: Verify TLS certificates of O(drone_url).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: The reports are written in check mode too.
  diff_mode:
    support: none
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
timeline:
  description: What the timeline holds (counts), and why a source is missing.
  type: dict
  returned: always
  sample: {checks: 11, builds: 17, waits: 40, tasks: 380, notes: []}
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import select
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import load_all
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.report import ReportNotWritten, ordered, write_all
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import ENV, read
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.timeline import collect, epoch, svg


def run_builds(p, started, notes):
    """The Drone builds created since the run started (newest first, paged until older)."""
    if not (p["drone_url"] and p["drone_token"]):
        notes.append("no Drone URL/token: builds not drawn")
        return []
    try:
        from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import DroneClient

        builds = []
        with DroneClient(p["drone_url"], p["drone_token"], timeout=15, validate_certs=p["validate_certs"],
                         tries=2) as drone:
            for page in range(1, 21):
                batch = drone.list_builds(p["ci_repo"], page, 100)
                builds += [b for b in batch if (epoch(b.get("created")) or 0) >= started - 1]
                if len(batch) < 100 or any((epoch(b.get("created")) or 0) < started - 1 for b in batch):
                    break
        return builds
    except Exception as exc:  # the timeline is an aid: a report is written without it
        notes.append(f"Drone builds not read: {exc}")
        return []


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            report_dir=dict(type="path", required=True),
            target=dict(type="str", default="lab"),
            started=dict(type="float", required=True),
            redact=dict(type="list", elements="str", default=[], no_log=True),
            only=dict(type="list", elements="str"),
            error=dict(type="str"),
            timeline=dict(type="bool", default=True),
            progress_file=dict(type="path"),
            drone_url=dict(type="str"),
            drone_token=dict(type="str", no_log=True),
            ci_repo=dict(type="str", default="recipe-maintainers/cc-ci"),
            validate_certs=dict(type="bool", default=True),
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
    finished = time.time()
    data = drawing = None
    summary = {"notes": []}
    if p["timeline"]:
        records = [r for r in read(p["progress_file"] or os.environ.get(ENV))
                   if (epoch(r.get("start") or r.get("t")) or 0) >= p["started"] - 1]
        if not records:
            summary["notes"].append("no progress file with spans (enable the coopcloud.cc_ci.progress callback)")
        builds = run_builds(p, p["started"], summary["notes"])
        data = collect(p["started"], finished, checks, builds, records)
        drawing = svg(data)
        summary.update({k: len(data[k]) for k in ("checks", "builds", "waits", "tasks")})
    try:
        paths = write_all(p["report_dir"], p["target"], p["started"], finished, results, p["redact"], ids,
                          p["error"], timeline=data, svg=drawing)
    except ReportNotWritten as exc:
        module.fail_json(msg=str(exc), paths=exc.paths, verdicts={c.id: c.verdict for c in checks},
                         failures={c.id: c.diagnosis for c in checks if c.verdict == "FAIL"})
    module.exit_json(
        changed=False,
        verdicts={c.id: c.verdict for c in checks},
        failures={c.id: c.diagnosis for c in checks if c.verdict == "FAIL"},
        paths=paths,
        timeline=summary,
    )


if __name__ == "__main__":
    main()
