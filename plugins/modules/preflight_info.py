#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: preflight_info
short_description: Before a run creates anything, whether Gitea and Drone give it what a long run needs
version_added: 0.1.0
description:
  - Reads, in a few seconds and without writing anything, whether the bot's token works and its user is a
    member of O(mirror_org); whether the outsider's token works and its user is not; whether each sandbox
    recipe is enrolled (its mirror exists, the cc-ci repo has C(tests/<recipe>/) and, when O(poll_repos) is
    given, the bridge polls the mirror); whether the bot may push to the sandbox upstream; whether the Drone
    token reads the cc-ci repo's builds.
  - Each finding in RV(failures) is one line naming the variable and the fix; the module itself does not
    fail on them (the role C(coopcloud.cc_ci.preflight) adds the box's side and stops the run).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.drone
  - coopcloud.cc_ci.drone.ci_repo
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
  - coopcloud.cc_ci.attributes.action_group_drone
options:
  outsider_token:
    description: The token of a Gitea user outside O(mirror_org) (V1); empty gives a note, not a failure.
    type: str
    default: ""
  mirror_org:
    description: The org of the recipe mirrors; the bot must be a member, the outsider must not.
    type: str
    default: recipe-maintainers
  upstream_org:
    description: The sandbox upstream org the run seeds; empty gives a note (the seeding checks SKIP).
    type: str
    default: ""
  recipes:
    description: The sandbox recipes.
    type: list
    elements: str
    required: true
  poll_repos:
    description: The bridge's C(POLL_REPOS) as read on the box; omitted, enrolment is judged from Gitea only.
    type: list
    elements: str
  bridge_service:
    description: The bridge's Swarm service O(poll_repos) was read from (named in the fix).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Preflight
  coopcloud.cc_ci.preflight_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    outsider_token: "{{ ccci_gitea_outsider_token }}"
    upstream_org: ccci-sandbox
    recipes: [custom-html-tiny]
  register: preflight
"""

RETURN = r"""
failures:
  description: One line per finding that would stop a long run, each naming the variable and the fix.
  type: list
  elements: str
  returned: always
notes:
  description: What the run will SKIP and why (an empty outsider token or sandbox upstream).
  type: list
  elements: str
  returned: always
bot:
  description: The bot's login (null when its token did not work).
  type: str
  returned: always
outsider:
  description: The outsider's login (null when none or its token did not work).
  type: str
  returned: always
drone_user:
  description: The Drone token's user.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import drone_argument_spec, drone_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient, gitea_argument_spec, gitea_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.preflight import preflight


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(drone_argument_spec())
    spec.update(outsider_token=dict(type="str", default="", no_log=True),
                ci_repo=dict(type="str", default="recipe-maintainers/cc-ci"),
                mirror_org=dict(type="str", default="recipe-maintainers"),
                upstream_org=dict(type="str", default=""),
                recipes=dict(type="list", elements="str", required=True),
                poll_repos=dict(type="list", elements="str"),
                bridge_service=dict(type="str", default=""))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    try:
        gitea = gitea_from_module(module)
        drone = drone_from_module(module)
    except ValueError as exc:  # a URL without http(s)://
        module.fail_json(msg=str(exc))
    outsider = (GiteaClient(p["gitea_url"], p["outsider_token"], token_name="ccci_gitea_outsider_token",
                            timeout=p["timeout"], validate_certs=p["validate_certs"]) if p["outsider_token"] else None)
    try:
        found = preflight(gitea, outsider, drone, mirror_org=p["mirror_org"], upstream_org=p["upstream_org"],
                          ci_repo=p["ci_repo"], recipes=p["recipes"], poll_repos=p["poll_repos"],
                          bridge_service=p["bridge_service"])
    finally:
        for client in (gitea, drone, outsider):
            if client is not None:
                client.close()
    module.exit_json(changed=False, failures=found.failures, notes=found.notes, bot=found.facts.get("bot"),
                     outsider=found.facts.get("outsider"), drone_user=found.facts.get("drone_user"))


if __name__ == "__main__":
    main()
