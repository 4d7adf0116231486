#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
  - With O(links), it also looks up each build page URL (a helper's C(BUILD=) line) through Drone's
    API instead of opening it - Drone's server answers every non-API path with its web app, so a
    page that opens proves nothing - and says in RV(linked) whether it is a build of O(repo) with
    the params it should have.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.drone
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_drone
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
    description:
      - Only builds created at or after this unix time, taken to its whole second (Drone stamps a build
        to the second, so a build created in the same second as O(since) is kept).
    type: float
  limit:
    description: How many recent builds to look through (newest first).
    type: int
    default: 100
  links:
    description: >-
      Build page URLs to look up through the API, each with the params its build must have; each gives
      one entry of RV(linked), in order.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: The build page URL (C(<drone>/<owner>/<repo>/<number>)); empty when none was given.
        type: str
      params:
        description: Params the build must have, compared as strings (for example C(PR) and C(REF)).
        type: dict
        default: {}
      label:
        description: What the link is, for the sentence in C(problem) (for example C(BUILD= on the red head)).
        type: str
        default: the link
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
linked:
  description: >-
    One entry per O(links): C(url), C(repo) and C(number) parsed from it (null when it is no build page
    of this Drone server), C(exists) (the API knows the build), the build's C(status), C(params),
    C(created), C(started), C(finished) and C(failed_steps) when it exists, and C(problem): null when
    it is a build of O(repo) with the wanted params, else a sentence saying what it is instead.
  type: list
  elements: dict
  returned: always
"""

import math

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import (
    drone_argument_spec, drone_from_module, failed_steps, params_match,
)

FIELDS = ("number", "status", "created", "started", "finished", "params", "event")


def _linked(client, repo: str, link: dict) -> dict:
    """What Drone's API says about the build a page URL names, against what it should be."""
    url, want, label = link.get("url") or "", link.get("params") or {}, link.get("label") or "the link"
    entry = {"url": url, "repo": None, "number": None, "exists": False}
    where = client.parse_build_url(url)
    if where is None:
        entry["problem"] = f"{label} ({url or 'none'}) is no build page of {client.server}"
        return entry
    entry.update(repo=where[0], number=where[1])
    build, dummy = client.find_build(*where)
    if build is None:
        entry["problem"] = f"{label} ({url}) names no build Drone's API knows (no build #{where[1]} on {where[0]})"
        return entry
    entry.update({key: build.get(key) for key in FIELDS}, exists=True, failed_steps=failed_steps(build))
    params = build.get("params") or {}
    if where[0] != repo or not params_match(build, want):
        ran = ", ".join(f"{k}={str(params.get(k, '?'))[:12]}" for k in want) or "no params"
        asked = ", ".join(f"{k}={str(v)[:12]}" for k, v in want.items())
        entry["problem"] = (f"{label} is Drone build #{where[1]} on {where[0]}, which ran for {ran}, not this PR's "
                            f"head ({asked}{'' if where[0] == repo else ' on ' + repo})")
    else:
        entry["problem"] = None
    return entry


def main() -> None:
    spec = drone_argument_spec()
    spec.update(repo=dict(type="str", required=True), params=dict(type="dict", default={}),
                since=dict(type="float"), limit=dict(type="int", default=100),
                links=dict(type="list", elements="dict", default=[], options=dict(
                    url=dict(type="str"), params=dict(type="dict", default={}),
                    label=dict(type="str", default="the link"))),
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
                # Drone stamps a build to the whole second: one created in the second *since* falls in counts.
                if p["since"] is not None and (build.get("created") or 0) < math.floor(p["since"]):
                    continue
                full = client.get_build(p["repo"], build["number"]) if p["with_steps"] else build
                out.append({key: full.get(key) for key in FIELDS}
                           | {"url": client.build_url(p["repo"], build["number"]),
                              "failed_steps": failed_steps(full)})
            linked = [_linked(client, p["repo"], link) for link in p["links"]]
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, builds=out, linked=linked)


if __name__ == "__main__":
    main()
