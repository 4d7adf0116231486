# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of this collection's modules in the task's worker when the task runs on the local connection.

The API modules (Gitea, Drone, the checks' verdicts, the report) always run on the controller
(delegated to localhost), and the box's modules do too when the box is this machine (the lab). As
module processes each costs a fork, a fresh Python, the AnsiballZ unpacking and the imports (httpx)
again, ~0.3 s a task and ~90 API tasks a run. Here the module's own
``main()`` runs in the worker that already holds Ansible: ``AnsibleModule`` still parses the
arguments against the module's spec, honours check mode and strips ``no_log`` values, the module
prints its JSON result as ever, and that text is parsed back by ``ActionBase`` exactly as a module
process's stdout (``ansible.netcommon`` runs network modules in the worker the same way).

Anything a worker cannot stand in for runs the usual way: a connection other than ``local``,
become, a task ``environment``, async; and any task whose ``ccci_module_in_worker`` is false.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import traceback
from typing import Any

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.vars.clean import remove_internal_keys

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import spans

# The collection's modules declare no module metadata, so Ansible serialises their arguments and
# results with its default profile.
PROFILE = "legacy"
SWITCH = "ccci_module_in_worker"


def run_main(module_name: str, module_args: dict[str, Any]) -> dict[str, Any]:
    """``main()`` of the collection module ``module_name`` on ``module_args`` (internal ``_ansible_*``
    keys included): its stdout, and as stderr the traceback of an exception it did not handle."""
    short = module_name.rsplit(".", 1)[-1]
    module = importlib.import_module(f"ansible_collections.coopcloud.cc_ci.plugins.modules.{short}")
    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    # A fresh module each time: a loop runs several items in one worker.
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
    basic._ANSIBLE_PROFILE = PROFILE
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    out, err, rc = io.StringIO(), "", 0
    try:
        with contextlib.redirect_stdout(out):
            module.main()
    except SystemExit as exc:  # exit_json / fail_json
        rc = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001 - a module process would die with this traceback on stderr
        err, rc = traceback.format_exc(), 1
    finally:
        basic._ANSIBLE_ARGS = None
        spans.flush_api()  # a worker ends without running atexit handlers
    return {"stdout": out.getvalue(), "stderr": err, "rc": rc}


class InWorkerAction(ActionBase):
    """The action of a controller module: its ``main()`` in this worker when the task runs locally."""

    TRANSFERS_FILES = False

    def _runs_in_worker(self, task_vars: dict[str, Any]) -> bool:
        return (getattr(self._connection, "transport", None) in ("local", "ansible.builtin.local")
                and not self._play_context.become and not self._compute_environment_string()
                and not self._task.async_val and boolean(task_vars.get(SWITCH, True), strict=False))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        module_name = self._task.resolved_action or self._task.action
        if not self._runs_in_worker(task_vars):
            result.update(self._execute_module(module_name=module_name, module_args=self._task.args,
                                               task_vars=task_vars))
            return result
        args = dict(self._task.args)
        self._update_module_args(module_name, args, task_vars)
        data = self._parse_returned_data(run_main(module_name, args), PROFILE)
        remove_internal_keys(data)  # as _execute_module does for a module process's result
        result.update(data)
        return result
