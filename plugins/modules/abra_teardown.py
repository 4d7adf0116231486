#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: abra_teardown
short_description: Tear down abra apps and verify against the engine that nothing is left
version_added: 0.1.0
description:
  - With O(state=absent), for each app chosen by O(domains) or O(recipe), runs
    C(abra app undeploy <domain>) when its stack is deployed and C(abra app remove <domain> -f -n),
    then reads the engine with docker and fails when any stack, volume or secret of the app's stack
    (label C(com.docker.stack.namespace=<stack>), stack = domain with dots turned into underscores),
    or its env file, is still there.
  - The remove flags are probed from C(abra app remove --help) first; an abra without them makes the
    module fail before anything is touched.
  - Idempotent. An app with nothing left anywhere is not touched, and C(changed) is V(false).
  - With O(state=query) nothing changes; the module lists the apps with what the engine holds for
    each, so a check can watch the deploy state.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  state:
    description: V(absent) tears down; V(query) only reports.
    type: str
    choices: [absent, query]
    default: absent
  domains:
    description: App domains to tear down, e.g. C(custom-html-tiny-3.lab.local).
    type: list
    elements: str
  recipe:
    description: Every app of this recipe that C(abra app ls -m) lists (on O(server) when given).
    type: str
  server:
    description: Only apps on this abra server.
    type: str
  abra_dir:
    description: C(ABRA_DIR) for abra (where its servers and recipes live). Default abra's own (C(~/.abra)).
    type: path
  abra_path:
    description: The abra binary. Default C(abra) on C(PATH).
    type: path
  docker_path:
    description: The docker binary. Default C(docker) on C(PATH).
    type: path
  verify_timeout:
    description:
      - How long, in seconds, the engine may take to show an undeploy and a remove after abra returned
        (containers stop first); what is left after that stays and is reported. The lab's abra acts
        before it returns, so a couple of seconds prove it there.
    type: float
    default: 60
  timeout:
    description: Timeout of each abra command, in seconds.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    details: Reports what would be undeployed and removed; runs only read-only commands.
  diff_mode:
    support: none
notes:
  - Images are left alone, like cc-ci's own teardown.
"""

EXAMPLES = r"""
- name: Tear down one sandbox deploy
  coopcloud.cc_ci.abra_teardown:
    domains: [custom-html-tiny-3.lab.local]
    abra_dir: "{{ ccci_abra_dir | default(omit) }}"

- name: Tear down every deploy of the sandbox recipes (V9)
  coopcloud.cc_ci.abra_teardown:
    recipe: "{{ item }}"
  loop: "{{ ccci_sandbox_recipes }}"

- name: Watch the deploy state without changing it
  coopcloud.cc_ci.abra_teardown:
    state: query
    recipe: custom-html-tiny
  register: _deploys
"""

RETURN = r"""
apps:
  description: One entry per app considered.
  type: list
  elements: dict
  returned: always
  contains:
    domain:
      description: The app domain.
      type: str
    stack:
      description: Its stack name.
      type: str
    recipe:
      description: Its recipe, from C(abra app ls -m).
      type: str
    known:
      description: Whether abra lists the app (its env file exists).
      type: bool
    deployed:
      description: Whether its stack was deployed before the teardown.
      type: bool
    before:
      description: What the engine held before (C(stack), C(volumes), C(secrets), C(env_file)).
      type: dict
    actions:
      description: What was (or in check mode would be) run, C(undeploy) and/or C(remove).
      type: list
      elements: str
    left:
      description: What the engine held afterwards, same keys as RV(apps[].before).
      type: dict
    error:
      description: The abra error, if a command failed.
      type: str
removed:
  description: Domains that had something to remove and now have nothing left (in check mode, would be removed).
  type: list
  elements: str
  returned: always
leftovers:
  description:
    - What is left, one phrase each, e.g. C(volume custom-html-tiny-3_lab_local_content of custom-html-tiny-3.lab.local).
    - In check mode and with O(state=query), what is there now.
  type: list
  elements: str
  returned: always
stacks:
  description: All stack names the engine reports (query only).
  type: list
  elements: str
  returned: when state=query
abra_version:
  description: C(abra --version) (query only).
  type: str
  returned: when state=query
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.abra import Abra, Docker, query, teardown
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["absent", "query"], default="absent"),
            domains=dict(type="list", elements="str"),
            recipe=dict(type="str"),
            server=dict(type="str"),
            abra_dir=dict(type="path"),
            abra_path=dict(type="path"),
            docker_path=dict(type="path"),
            verify_timeout=dict(type="float", default=60.0),
            timeout=dict(type="int", default=600),
        ),
        mutually_exclusive=[("domains", "recipe")],
        required_if=[("state", "absent", ("domains", "recipe"), True)],
        supports_check_mode=True,
    )
    p = module.params
    try:
        abra = Abra(path=p["abra_path"], abra_dir=p["abra_dir"], timeout=p["timeout"])
        docker = Docker(path=p["docker_path"], timeout=120)
        if p["state"] == "query":
            found, stacks = query(abra, docker, p["domains"], p["recipe"], p["server"])
            leftovers = [x for item in found for x in item.before.items(item.domain)]
            module.exit_json(
                changed=False,
                apps=[i.as_dict() for i in found],
                removed=[],
                leftovers=leftovers,
                stacks=stacks,
                abra_version=abra.version(),
            )
        found = teardown(
            abra,
            docker,
            domains=p["domains"],
            recipe=p["recipe"],
            server=p["server"],
            check_mode=module.check_mode,
            verify_timeout=p["verify_timeout"],
        )
    except CliError as exc:
        module.fail_json(msg=str(exc))

    result = dict(
        changed=any(i.changed for i in found),
        apps=[i.as_dict() for i in found],
        removed=[i.domain for i in found if i.changed and (module.check_mode or i.left.empty)],
        leftovers=[x for i in found for x in i.left.items(i.domain)],
    )
    problems = [x for i in found for x in i.problems]
    if problems and not module.check_mode:
        module.fail_json(msg="; ".join(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
