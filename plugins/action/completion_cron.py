# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""completion_cron, split the Ansible way: the box writes, the controller checks with python-crontab.

The module runs on the box with the box's own ``python3`` (standard library only: no python-crontab
there) and writes the entry as text through ``crontab``. Here, on the controller, the job line it
wrote (or, in check mode, would write) is read back with python-crontab: a line cron would read with
another schedule, command or anchor than the module meant fails the task, naming what differs.
"""
from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cron_anchor import MARKER_ID, anchor_from_marker, parse_time

try:
    from crontab import CronTab  # python-crontab, on the controller only
except ImportError:
    CronTab = None


def line_problem(line: str, schedule: str, command: str, t0: str, marker_id: str = MARKER_ID) -> str | None:
    """What python-crontab reads differently in *line* than the module meant; None when it reads the same."""
    jobs = list(CronTab(tab=line))
    if len(jobs) != 1 or not jobs[0].is_valid() or not jobs[0].is_enabled():
        return f"python-crontab does not read one valid job in {line!r}"
    job = jobs[0]
    if str(job.slices) != schedule:
        return f"the line's schedule reads as {str(job.slices)!r}, not {schedule!r}"
    if job.command != command:
        return f"the line's command reads as {job.command!r}, not the job's {command!r}"
    anchor = anchor_from_marker(job.comment, marker_id)
    if anchor is None or anchor != parse_time(t0):
        return f"the line's marker comment {job.comment!r} does not carry {marker_id} anchor={t0}"
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if CronTab is None:
            raise AnsibleActionFail("completion_cron needs python-crontab on the controller: "
                                    "pip install -r requirements.txt")
        result.update(self._execute_module(module_name="coopcloud.cc_ci.completion_cron",
                                           module_args=self._task.args, task_vars=task_vars))
        if result.get("failed") or "line" not in result:
            return result
        problem = line_problem(result["line"], result["schedule"], result["command"], result["anchor"]["t0"],
                               self._task.args.get("marker_id") or MARKER_ID)
        if problem:
            result.update(failed=True, msg=f"the weekly entry in the {result.get('crontab')} is not what cron "
                                           f"should read: {problem}")
        return result
