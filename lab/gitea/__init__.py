# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Gitea: API v1 and git smart HTTP over real bare repositories (docs/ARCHITECTURE.md)."""
from .service import GiteaService

__all__ = ["GiteaService"]
