# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the repo importable as ``ansible_collections.coopcloud.cc_ci`` and as the ``lab`` package."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / ".collections", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
