# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


def _action_group(*groups: str) -> str:
    """The action_group attribute of a module in these groups of meta/runtime.yml."""
    fqcns = [f"coopcloud.cc_ci.{group}" for group in groups]
    used = " and ".join(f"C(group/{fqcn})" for fqcn in fqcns)
    return "\n".join(["attributes:", "  action_group:",
                      f"    description: Use {used} in C(module_defaults) to set the connection once per play.",
                      "    support: full", "    membership:", *(f"      - {fqcn}" for fqcn in fqcns), ""])


class ModuleDocFragment:
    # The standard attribute descriptions; each module states only its support and details.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
"""

    # The modules run on the host they target (the box, or the controller against the lab).
    PLATFORM = r"""
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

    ACTION_GROUP_GITEA = _action_group("gitea")
    ACTION_GROUP_DRONE = _action_group("drone")
    ACTION_GROUP_GITEA_DRONE = _action_group("gitea", "drone")
