#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: drone_builds_info
short_description: List the Drone builds whose parameters match, with their timing and failed steps
version_added: 0.1.0
description:
  - Reads recent builds of a Drone repository (the cc-ci repo, where the bridge starts its builds)
    and returns those whose C(params) match O(params), newest first, each with its page URL, its
    status, its created/started/finished times and the names of its failed steps.
  - This is how a check finds, cold, which build a PR head really got, rather than trusting a
    helper's C(BUILD=) line.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api.drone
options:
  repo:
    description: The Drone repository (C(owner/name)).
    type: str
    required: true
  params:
    description: Build parameters that must match, compared as strings (for example C(PR) and C(REF)).
    type: dict
    default: {}
  since:
    description: Only builds created at or after this unix time.
    type: float
  limit:
    description: How many recent builds to look through (newest first).
    type: int
    default: 100
  with_steps:
    description: Fetch each matching build to list its failed steps.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for one HTTP response.
    type: float
    default: 30
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Read-only.
"""

EXAMPLES = r"""
- name: Builds the bridge started for this PR head
  coopcloud.cc_ci.drone_builds_info:
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    repo: recipe-maintainers/cc-ci
    params:
      PR: "7"
      REF: "{{ pr.head_sha }}"
"""

RETURN = r"""
builds:
  description: Matching builds, newest first.
  type: list
  elements: dict
  returned: always
  contains:
    number: {description: Build number., type: int}
    url: {description: Build page., type: str}
    status: {description: Drone status., type: str}
    created: {description: Unix time., type: int}
    started: {description: Unix time., type: int}
    finished: {description: Unix time., type: int}
    params: {description: Build parameters., type: dict}
    failed_steps: {description: Names of failed steps., type: list, elements: str}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import drone_argument_spec, drone_from_module, params_match


def _failed_steps(build: dict) -> list[str]:
    return [step.get("name") for stage in build.get("stages") or [] for step in stage.get("steps") or []
            if step.get("status") in ("failure", "error")]


def main() -> None:
    spec = drone_argument_spec()
    spec.update(repo=dict(type="str", required=True), params=dict(type="dict", default={}),
                since=dict(type="float"), limit=dict(type="int", default=100),
                with_steps=dict(type="bool", default=True), timeout=dict(type="float", default=30.0),
                validate_certs=dict(type="bool", default=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    out = []
    try:
        with drone_from_module(module) as client:
            for build in client.list_builds(p["repo"], 1, p["limit"]):
                if not params_match(build, p["params"]):
                    continue
                if p["since"] is not None and (build.get("created") or 0) < p["since"]:
                    continue
                full = client.get_build(p["repo"], build["number"]) if p["with_steps"] else build
                out.append({key: full.get(key) for key in ("number", "status", "created", "started",
                                                           "finished", "params", "event")}
                           | {"url": client.build_url(p["repo"], build["number"]),
                              "failed_steps": _failed_steps(full)})
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, builds=out)


if __name__ == "__main__":
    main()
