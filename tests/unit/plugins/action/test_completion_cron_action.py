# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job line the box writes with the standard library is the one python-crontab renders and reads back
(the controller's check), and the check fails a line cron would read otherwise."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from crontab import CronTab

from ansible_collections.coopcloud.cc_ci.plugins.action import completion_cron as action
from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry as ce

T0 = "2026-11-23T21:05:00-05:00"
COMMENT = f"ccci-upgrade-all anchor={T0}"
COMMANDS = [ce.job_command("/srv/cc-ci/cc-ci-plan/launch-upgrader.sh", "start", "/srv/cc-ci/.cc-ci-logs/upgrades/cron.log"),
            ce.job_command("/srv/100%/launch upgrader.sh", "start", "/tmp/a%b/cron.log"),
            "echo 'a' \"x y\" && date +%s"]


@pytest.mark.parametrize("command", COMMANDS)
def test_stdlib_line_is_python_crontabs_and_reads_back(command):
    line = ce.job_line("5 21 * * 1", command, COMMENT)
    tab = CronTab(tab="")
    job = tab.new(command=command, comment=COMMENT)
    job.setall("5 21 * * 1")
    assert line == job.render().strip()
    assert ce.job_command_of(line) == command == list(CronTab(tab=line))[0].command
    assert action.line_problem(line, "5 21 * * 1", command, T0) is None


def test_a_command_python_crontab_would_cut_at_a_hash_is_refused():
    # cron hands the whole line to sh, but python-crontab (and a person reading the crontab) takes the comment
    # from the first " #": such a path is refused rather than written ambiguously
    line = ce.job_line("5 21 * * 1", "'/srv/a #1/launch.sh' start", COMMENT)
    assert ce.job_command_of(line) == "'/srv/a #1/launch.sh' start"
    assert "command reads as" in action.line_problem(line, "5 21 * * 1", "'/srv/a #1/launch.sh' start", T0)


def test_bad_schedule_is_refused_on_the_box():
    with pytest.raises(ce.CrontabError, match="invalid schedule"):
        ce.job_line("5 21 * *", "true", COMMENT)


@pytest.mark.parametrize(("line", "why"), [
    (f"5 21 * * 1 date +%s # {COMMENT}", "command reads as"),           # a bare % cron turns into a newline
    (f"5 22 * * 1 true # {COMMENT}", "schedule reads as"),
    ("5 21 * * 1 true # ccci-upgrade-all anchor=2026-11-23T22:05:00-05:00", "does not carry"),
    (f"# 5 21 * * 1 true # {COMMENT}", "does not read one valid job"),
])
def test_the_controller_check_fails_a_line_cron_reads_otherwise(line, why):
    command = "date +%s" if "date" in line else "true"
    assert why in action.line_problem(line, "5 21 * * 1", command, T0)


def _action(module_result: dict) -> action.ActionModule:
    task = MagicMock(args={"loops_unit": "cc-ci-loops.service", "launcher": "/l.sh"}, async_val=0, check_mode=False)
    plugin = action.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    plugin._execute_module = MagicMock(return_value=dict(module_result))  # pylint: disable=protected-access
    return plugin


def test_the_action_fails_the_task_on_a_misread_line_and_passes_a_good_one(monkeypatch):
    monkeypatch.setattr(action.ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    good = {"changed": True, "crontab": "crontab of ccci", "schedule": "5 21 * * 1", "command": "date +%s",
            "line": ce.job_line("5 21 * * 1", "date +%s", COMMENT), "anchor": {"t0": T0}}
    assert not _action(good).run(task_vars={}).get("failed")
    bad = dict(good, line=f"5 21 * * 1 date +%s # {COMMENT}")
    out = _action(bad).run(task_vars={})
    assert out["failed"] and "crontab of ccci" in out["msg"] and "command reads as" in out["msg"]
