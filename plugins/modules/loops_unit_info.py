#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: loops_unit_info
short_description: What the box's loops unit gives its agent - user, HOME, environment - and where its tools are
version_added: 0.1.0
description:
  - Reads the service O(unit) (C(cc-ci-loops.service), a unit name or a unit file) on the box, the way the
    weekly job mirrors it, and returns its user, HOME and the C(Environment=) settings, and the C(EnvironmentFile=)
    files with the names (never the values) of the variables each holds.
  - Finds the agent (C(claude)), C(abra), C(docker) and C(tmux) in the unit's PATH, so a box run needs no path
    of them from the operator.
  - A file the box user cannot read (a root-only C(EnvironmentFile)) is reported as unreadable; run the task with
    C(become) to read its names (the role C(coopcloud.cc_ci.target) does when C(ccci_unit_become) is true).
  - Runs on the box with the box's own C(python3) (standard library only).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.info_module
  - coopcloud.cc_ci.attributes.platform
options:
  unit:
    description: The loops service, a unit name or a unit file path.
    type: str
    default: cc-ci-loops.service
  unit_source:
    description: Where to read the unit from (C(auto) - systemd for a unit name when systemd runs, else the file).
    type: str
    choices: [auto, systemd, file]
    default: auto
  tools:
    description: The commands to find in the unit's PATH, by name.
    type: list
    elements: str
    default: [claude, abra, docker, tmux]
"""

EXAMPLES = r"""
- name: What the loops unit gives its agent
  coopcloud.cc_ci.loops_unit_info:
    unit: cc-ci-loops.service
  register: loops
"""

RETURN = r"""
user:
  description: The unit's C(User=) (the box user), or the user this ran as when it sets none.
  type: str
  returned: always
home:
  description: HOME as the service sees it.
  type: str
  returned: always
environment:
  description: The unit's C(Environment=) settings (PATH with systemd's default when it sets none, HOME).
  type: dict
  returned: always
environment_files:
  description:
    - Each C(EnvironmentFile=) with whether it is optional, readable by this user, readable by the unit's user
      (C(user_readable), since the weekly job, run as that user, sources it at each fire), and the names it sets.
  type: list
  elements: dict
  returned: always
tools:
  description: The path of each of O(tools) in the unit's PATH, null when it is not there.
  type: dict
  returned: always
abra_dir:
  description: abra's folder (C(ABRA_DIR) of the unit, else C(<HOME>/.abra)).
  type: str
  returned: always
"""

import glob
import os
import pwd
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import systemd_unit


def env_file_names(pattern: str, optional: bool, user: str) -> list[dict]:
    """Each file of an EnvironmentFile= setting: readable by this user and by *user* (the unit's), and the names
    it sets (no values)."""
    paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    out = []
    for path in paths:
        entry = {"path": path, "optional": optional, "exists": os.path.exists(path), "readable": False, "names": [],
                 "user_readable": systemd_unit.readable_by(path, user)}
        try:
            with open(path, encoding="utf-8") as handle:
                entry["names"] = sorted(systemd_unit.parse_env_file(handle.read(), where=path))
            entry["readable"] = True
        except OSError:
            pass
        out.append(entry)
    return out


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        unit=dict(type="str", default="cc-ci-loops.service"),
        unit_source=dict(type="str", default="auto", choices=["auto", "systemd", "file"]),
        tools=dict(type="list", elements="str", default=["claude", "abra", "docker", "tmux"]),
    ), supports_check_mode=True)
    p = module.params
    try:
        unit = systemd_unit.load(p["unit"], p["unit_source"], files=False)
        user = unit.user or pwd.getpwuid(os.getuid()).pw_name
        files = [e for pattern, optional in unit.environment_files for e in env_file_names(pattern, optional, user)]
    except (systemd_unit.UnitError, ValueError) as exc:
        module.fail_json(msg=f"ccci_loops_unit: {exc}")
    env = dict(unit.environment)
    env.setdefault("PATH", systemd_unit.DEFAULT_PATH)
    home = unit.home() or "/"
    env.setdefault("HOME", home)
    tools = {name: shutil.which(name, path=env["PATH"]) for name in p["tools"]}
    module.exit_json(changed=False, user=user, home=home, environment=env,
                     environment_files=files, tools=tools, abra_dir=env.get("ABRA_DIR") or os.path.join(home, ".abra"))


if __name__ == "__main__":
    main()
