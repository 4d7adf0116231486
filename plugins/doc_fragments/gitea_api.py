# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    # Gitea connection options (coopcloud.cc_ci.gitea_api)
    DOCUMENTATION = r"""
options:
  gitea_url:
    description:
      - Base URL of the Gitea server, for example C(https://git.example.org) (C(/api/v1) is added).
      - If not set, the environment variable E(CCCI_GITEA_URL) is used.
    type: str
    required: true
  gitea_token:
    description:
      - 'Gitea access token, sent as C(Authorization: token ...). Never logged.'
      - If not set, the environment variable E(CCCI_GITEA_TOKEN) is used.
    type: str
    required: true
  timeout:
    description:
      - The deadline of one API operation in seconds (connecting, reading and every retry together).
      - A server that accepts and never answers fails with C(no answer within N s), one that cannot be
        reached with C(cannot connect).
    type: float
    default: 30
  validate_certs:
    description: Verify the servers' TLS certificates.
    type: bool
    default: true
requirements:
  - httpx >= 0.23
notes:
  - Requests are retried up to 4 times with exponential backoff and jitter (at most about 8 s in all,
    and always within O(timeout)) on connection errors, and for reads also on timeouts and HTTP 5xx. Writes (POST, PATCH) are
    retried only when the request never reached the server, so nothing is posted twice.
  - 'Errors are one line, C(<METHOD> <url>: HTTP <code>: <message> (<hint>)); an answer that is not
    JSON (an HTML page) is such a line too, naming the URL.'
"""
