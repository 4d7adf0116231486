#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_user_info
short_description: Who a Gitea token belongs to, and whether that user is a member of an organisation
version_added: 0.1.0
description:
  - Reads C(GET /user) with the token, then C(GET /orgs/{org}/members/{login}) (204 member, 404 not).
  - The first call a run makes, so a wrong URL or a rejected token ends it with one clear line.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
options:
  org:
    description: Organisation whose membership to report.
    type: str
"""

EXAMPLES = r"""
- name: Who is the bot?
  coopcloud.cc_ci.gitea_user_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    org: recipe-maintainers
  register: bot
"""

RETURN = r"""
login:
  description: The token's user.
  type: str
  returned: always
member:
  description: Whether the user is a member of O(org) (null without O(org)).
  type: bool
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(org=dict(type="str"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        with gitea_from_module(module) as client:
            login = client.get_user().get("login")
            member = client.is_org_member(module.params["org"], login) if module.params["org"] else None
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, login=login, member=member)


if __name__ == "__main__":
    main()
