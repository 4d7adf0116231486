# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_ledger on the controller, in the task's worker: no module process for a line in a local file.

The ledger always lives on the controller (the roles delegate run_ledger to localhost, and the
sweep that reads it runs there too), so the module's work, :func:`ledger.apply`, runs here with
the module's own argument spec; a full run writes the ledger a dozen times.
"""
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ledger.ARGUMENT_SPEC,
                                                       required_if=ledger.REQUIRED_IF)
        del validation
        try:
            done, warnings = ledger.apply(args["path"], args["state"], args["entry"], args["match"],
                                          bool(self._task.check_mode))
        except ledger.Refused as exc:
            return dict(result, failed=True, msg=str(exc))
        except OSError as exc:
            return dict(result, failed=True,
                        msg=f"ledger {args['path']}: {exc.strerror or exc}: check the path (ccci_ledger)")
        result.update(done)
        if warnings:
            result["warnings"] = warnings
        return result
