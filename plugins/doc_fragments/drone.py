# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    # Drone connection options (coopcloud.cc_ci.drone), the argument spec of
    # module_utils/drone.py's drone_argument_spec(); the Gitea ones are coopcloud.cc_ci.gitea_api.
    DOCUMENTATION = r"""
options:
  drone_url:
    description:
      - Base URL of the Drone server, for example C(https://drone.example.org).
      - If not set, the environment variable E(CCCI_DRONE_URL) is used.
    type: str
    required: true
  drone_token:
    description:
      - 'Drone API token, sent as C(Authorization: Bearer ...). Never logged.'
      - If not set, the environment variable E(CCCI_DRONE_TOKEN) is used.
    type: str
    required: true
"""

    # The cc-ci repository on Drone (coopcloud.cc_ci.drone.ci_repo), for the modules that take it
    CI_REPO = r"""
options:
  ci_repo:
    description: The Drone repository the bridge triggers builds on (the cc-ci repo).
    type: str
    default: recipe-maintainers/cc-ci
"""
