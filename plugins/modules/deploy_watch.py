#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_watch
short_description: Watch which sandbox stacks are deployed while a run goes on
version_added: 0.1.0
description:
  - O(state=started) starts a detached sampler on the box that lists the Swarm stacks
    (C(docker stack ls)) every O(interval) seconds and writes each change of the set of stacks
    whose name starts with one of O(prefixes).
  - O(state=stopped) stops it and returns the most stacks ever deployed at the same time, the
    moments they overlapped, and what was still deployed at the end. Given O(prefixes) again, it
    takes one last look itself, so RV(left_deployed) is what is deployed now, not at the sampler's
    last change.
  - This is how V8 sees, itself, that C(/upgrade-all) runs recipes one at a time with teardown in
    between, instead of trusting the skill's summary.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  state:
    description: Start or stop the watch.
    type: str
    choices: [started, stopped]
    required: true
  path:
    description: The samples file (JSON lines); C(<path>.pid) holds the sampler's pid.
    type: path
    required: true
  prefixes:
    description: Stack name prefixes to watch (stack = app domain with dots as underscores).
    type: list
    elements: str
    default: []
  interval:
    description: Seconds between samples.
    type: float
    default: 0.2
  max_seconds:
    description: The sampler stops by itself after this long, whatever happens.
    type: int
    default: 7200
  docker_path:
    description: The docker CLI. Default C(docker) on C(PATH) (the C(PATH) key of O(env) first).
    type: path
  env:
    description: Environment for the docker CLI (e.g. C(PATH), C(DOCKER_HOST)).
    type: dict
    default: {}
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Watch deploys
  coopcloud.cc_ci.deploy_watch:
    state: started
    path: /tmp/v8-deploys.jsonl
    prefixes: [custom-html-tiny, custom-html]
- name: Stop watching
  coopcloud.cc_ci.deploy_watch:
    state: stopped
    path: /tmp/v8-deploys.jsonl
  register: deploys
"""

RETURN = r"""
max_concurrent:
  description: The most watched stacks deployed at once.
  type: int
  returned: when stopped
overlaps:
  description: Samples with more than one watched stack (time and stacks).
  type: list
  elements: dict
  returned: when stopped
timeline:
  description: Every change of the watched set (C(t) unix time, C(stacks)), oldest first, at most 200.
  type: list
  elements: dict
  returned: when stopped
stacks_seen:
  description: Every watched stack seen deployed.
  type: list
  elements: str
  returned: when stopped
left_deployed:
  description: Watched stacks still deployed at the last sample.
  type: list
  elements: str
  returned: when stopped
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.abra import Docker
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.deploy_watch import (
    final_sample,
    deploy_intervals,
    sample_forever,
    start_detached,
    stop,
    summarise,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import secret_values
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import append


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["started", "stopped"], required=True),
            path=dict(type="path", required=True),
            prefixes=dict(type="list", elements="str", default=[]),
            interval=dict(type="float", default=0.2),
            max_seconds=dict(type="int", default=7200),
            docker_path=dict(type="path"),
            env=dict(type="dict", default={}),
        ),
        supports_check_mode=False,
    )
    p = module.params
    module.no_log_values.update(secret_values(p["env"]))
    pid_path = p["path"] + ".pid"
    if p["state"] == "stopped":
        stopped = stop(pid_path)
        if p["prefixes"]:
            try:
                final_sample(Docker(p["docker_path"], env=p["env"], timeout=10).stacks, p["path"], p["prefixes"])
            except CliError as exc:
                module.fail_json(msg=str(exc))
        summary = summarise(p["path"])
        for stack, first, last in deploy_intervals(p["path"]):  # the run's timeline (spans.py)
            append({"ev": "end", "kind": "deploy", "what": f"sandbox {stack}", "start": first, "end": last,
                    "observed": True})
        module.exit_json(changed=stopped, **summary)
    stop(pid_path)  # a watch left by a killed run
    try:
        docker = Docker(p["docker_path"], env=p["env"], timeout=10)
        docker.stacks()  # fail here, clearly, rather than silently in the sampler
    except CliError as exc:
        module.fail_json(msg=str(exc))
    os.makedirs(os.path.dirname(p["path"]) or ".", exist_ok=True)
    open(p["path"], "w", encoding="utf-8").close()
    deadline = time.time() + p["max_seconds"]

    def run() -> None:
        with open(pid_path, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        sample_forever(docker.stacks, p["path"], p["prefixes"], p["interval"], deadline)

    start_detached(run)
    for _attempt in range(50):  # the sampler writes its pid and its first sample at once
        if os.path.exists(pid_path):
            break
        time.sleep(0.05)
    module.exit_json(changed=True, path=p["path"])


if __name__ == "__main__":
    main()
