# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's stand-in agent (``lab/bin/claude``): runs the skills ``/recipe-upgrade`` and
``/upgrade-all`` as the real skills' SKILL.md describe them, against the lab or a box's APIs.

Standard library only (it may run under a box's system python3).
"""
