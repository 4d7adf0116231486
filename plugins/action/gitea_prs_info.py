# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gitea_prs_info on the controller runs in the task's worker (plugin_utils/in_worker.py), elsewhere as a module."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.plugin_utils.in_worker import InWorkerAction as ActionModule

__all__ = ["ActionModule"]
