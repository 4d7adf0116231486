#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: recipe_upgrade_info
short_description: Work out, independently of the skills, whether a recipe has an upgrade available
version_added: 0.1.0
description:
  - Reads the recipe's C(compose.yml) at a ref (through Gitea, at the full SHA), takes each image's
    tag and asks the registry for its tags. An upgrade is available when a newer release tag with
    the same major version exists (the rule a safe upgrade follows).
  - Used by the checks to seed cases and to compare what C(/upgrade-all --dry-run) lists with what
    the check computes itself.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea
requirements:
  - PyYAML
options:
  repo:
    description: The recipe repository (C(owner/name)), usually the sandbox upstream.
    type: str
    required: true
  ref:
    description: Branch, tag or SHA to read.
    type: str
    default: main
  registry_url:
    description: Registry API base URL (Docker Registry HTTP API v2).
    type: str
    default: https://registry-1.docker.io
"""

EXAMPLES = r"""
- name: Does custom-html-tiny have an upgrade upstream?
  coopcloud.cc_ci.recipe_upgrade_info:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    repo: coop-cloud/custom-html-tiny
    registry_url: "{{ ccci_registry_url }}"
"""

RETURN = r"""
available:
  description: Whether any image has a newer same-major tag.
  type: bool
  returned: always
images:
  description: One entry per service image.
  type: list
  elements: dict
  returned: always
  contains:
    service: {description: Compose service., type: str}
    image: {description: Image name., type: str}
    tag: {description: Current tag., type: str}
    newest: {description: Newest same-major tag (or null)., type: str}
    upgrade: {description: Whether newest is newer than tag., type: bool}
    releases: {description: "The registry's same-major release tags, oldest first.", type: list, elements: str}
version:
  description: The recipe version label in compose.yml.
  type: str
  returned: always
compose:
  description: The compose file's text at that ref.
  type: str
  returned: always
sha:
  description: The commit read.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.recipe import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
    images,
    newest_same_major,
    same_major_releases,
    semver,
    version_label,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.registry import RegistryClient


def main() -> None:
    spec = gitea_argument_spec()
    spec.update(repo=dict(type="str", required=True), ref=dict(type="str", default="main"),
                registry_url=dict(type="str", default="https://registry-1.docker.io"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    p = module.params
    try:
        with gitea_from_module(module) as gitea, RegistryClient(p["registry_url"], timeout=p["timeout"]) as registry:
            sha = gitea.resolve_sha(p["repo"], p["ref"])
            found = gitea.get_file(p["repo"], "compose.yml", sha)
            if found is None:
                module.fail_json(msg=f"{p['repo']} has no compose.yml at {p['ref']} ({sha}): is it a recipe?")
            text = found.get("text") or ""
            out = []
            for image in images(text):
                tags = registry.tags(image.name)
                newest = newest_same_major(image.tag, tags)
                upgrade = bool(newest and semver(newest) > semver(image.tag))
                out.append({"service": image.service, "image": image.name, "tag": image.tag,
                            "newest": newest, "upgrade": upgrade,
                            "releases": same_major_releases(image.tag, tags)})
    except (ApiError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, available=any(i["upgrade"] for i in out), images=out,
                     version=version_label(text), compose=text, sha=sha)


if __name__ == "__main__":
    main()
