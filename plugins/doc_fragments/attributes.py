# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    # The standard attribute descriptions; each module states only its support and details.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
"""

    # A module that only reads (the *_info modules): what check and diff mode mean for it.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details: Read-only.
  diff_mode:
    support: none
"""

    # The modules run on the host they target (the box, or the controller against the lab).
    PLATFORM = r"""
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

    # Membership of the action groups of meta/runtime.yml (ansible-test wants literal strings here).
    ACTION_GROUP_GITEA = r"""
attributes:
  action_group:
    description: Use C(group/coopcloud.cc_ci.gitea) in C(module_defaults) to set the connection once per play.
    support: full
    membership:
      - coopcloud.cc_ci.gitea
"""

    ACTION_GROUP_DRONE = r"""
attributes:
  action_group:
    description: Use C(group/coopcloud.cc_ci.drone) in C(module_defaults) to set the connection once per play.
    support: full
    membership:
      - coopcloud.cc_ci.drone
"""

    ACTION_GROUP_GITEA_DRONE = r"""
attributes:
  action_group:
    description: Use C(group/coopcloud.cc_ci.gitea) and C(group/coopcloud.cc_ci.drone) in C(module_defaults) to set the connection once per play.
    support: full
    membership:
      - coopcloud.cc_ci.gitea
      - coopcloud.cc_ci.drone
"""
