#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Allow one verification run at a time per box
version_added: 0.1.0
description:
  - Takes or releases a lock file that names its holder (pid, host, label, time).
  - A lock held by a live run fails with a message naming that run. A lock whose holder process is
    gone from this host (a killed run) is stale and taken over, with a warning in the run's output
    naming the dead holder (and C(holder.took_over)).
  - On a box the lock lives on the box (two controllers cannot run at once); the controller names itself with
    O(owner_host), judges its own dead runs (O(gone)) and gives the lock a O(lease).
  - Standard library only (it runs on the box's own C(python3)).
  - The holder is the C(ansible-playbook) process, so use it with O(owner_pid) set to the
    controller's playbook pid (the lookup C(env) of C(PPID) is not reliable; the playbooks pass
    the pid of the parent of the module process by default).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  path:
    description: The lock file.
    type: path
    required: true
  state:
    description: C(present) takes the lock, C(absent) releases it if this run holds it.
    type: str
    choices: [present, absent]
    default: present
  owner_pid:
    description: The pid that holds the lock for the whole run (the playbook's process).
    type: int
    required: true
  label:
    description: What the run is, for the message another run gets.
    type: str
    default: verify-phase5
  owner_host:
    description:
      - The host of O(owner_pid) when it is not the host the lock file is on (a box's lock, taken from a
        controller). Then a dead pid cannot be seen from here; a stale lock is taken over when O(gone) names it,
        or when its lease ran out.
    type: str
  gone:
    description: The holder (as read from the file) that its own controller found dead; taken over only if the file still holds it.
    type: dict
  lease:
    description: Seconds after which this run's lock counts as abandoned (a run crashed on a controller that never came back); 0 for none.
    type: float
    default: 0
attributes:
  check_mode:
    support: full
    details: The lock is taken in check mode too, so two check runs do not overlap either.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: One run at a time
  coopcloud.cc_ci.run_lock:
    path: "{{ ccci_state_dir }}/run.lock"
    owner_pid: "{{ ccci_run_pid }}"
"""

RETURN = r"""
holder:
  description: Who holds the lock now (pid, host, label, since); C(took_over) names a dead holder it replaced.
  type: dict
  returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.lock import LockHeld, acquire, read_holder, release, took_over_message


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            owner_pid=dict(type="int", required=True),
            label=dict(type="str", default="verify-phase5"),
            owner_host=dict(type="str"),
            gone=dict(type="dict"),
            lease=dict(type="float", default=0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "absent":
        changed = release(p["path"], p["owner_pid"], p["owner_host"])
        module.exit_json(changed=changed, holder=read_holder(p["path"]))
    try:
        changed, holder = acquire(p["path"], p["owner_pid"], p["label"], p["owner_host"], p["gone"], p["lease"])
    except LockHeld as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"cannot take the run lock {p['path']}: {exc.strerror or exc}: check ccci_state_dir")
    if holder.get("took_over"):
        module.warn(took_over_message(p["path"], holder["took_over"]))
    module.exit_json(changed=changed, holder=holder)


if __name__ == "__main__":
    main()
