#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: bridge_poll_repos_info
short_description: The repos the box's comment bridge polls (POLL_REPOS of its Swarm service)
version_added: 0.1.0
description:
  - Reads the bridge's Swarm service on the box with C(docker service inspect) and returns its C(POLL_REPOS)
    (the repos whose PR comments it polls; a repo not in it is silently ignored).
  - With O(service) empty, the bridge is the one service of C(docker service ls) whose environment sets
    C(POLL_REPOS).
  - Only C(POLL_REPOS) is returned; the service's other environment values (its tokens) are never returned,
    printed or put in a message.
  - Runs on the box with the box's own C(python3) (standard library only).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
options:
  service:
    description: The bridge's Swarm service; empty finds the one whose environment sets C(POLL_REPOS).
    type: str
    default: ""
  docker_path:
    description: The C(docker) CLI (a path, or a name looked up in PATH).
    type: str
    default: docker
  timeout:
    description: Seconds each C(docker) call may take.
    type: float
    default: 60
"""

EXAMPLES = r"""
- name: What the bridge polls
  coopcloud.cc_ci.bridge_poll_repos_info:
    docker_path: /usr/bin/docker
  register: bridge
"""

RETURN = r"""
service:
  description: The bridge's Swarm service.
  type: str
  returned: success
poll_repos:
  description: The repos in its C(POLL_REPOS) (C(org/name)), in its order.
  type: list
  elements: str
  returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.abra import Docker
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.bridge_service import BridgeServiceError, poll_repos
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        service=dict(type="str", default=""),
        docker_path=dict(type="str", default="docker"),
        timeout=dict(type="float", default=60),
    ), supports_check_mode=True)
    p = module.params
    try:
        service, repos = poll_repos(Docker(p["docker_path"], timeout=p["timeout"]), p["service"])
    except (BridgeServiceError, CliError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, service=service, poll_repos=repos)


if __name__ == "__main__":
    main()
