# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""loops_unit_info: in the task's worker on the local connection (plugin_utils/in_worker.py), else a module."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.plugin_utils.in_worker import InWorkerAction as ActionModule

__all__ = ["ActionModule"]
