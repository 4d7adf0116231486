# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run state on disk (small JSON objects the collection keeps between tasks and runs) and the UTC
clock every record is stamped with. The one home for both: a reader that never raises on a
missing or damaged file, and a writer that replaces the file atomically."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any


def utc_now() -> datetime:
    """Now, as an aware UTC datetime (never the controller's local zone)."""
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of *moment* (default now), in UTC."""
    return (moment or utc_now()).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_state(path: str | None) -> dict[str, Any]:
    """The JSON object stored at *path*; ``{}`` when there is none or it is not a JSON object."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(path: str, data: dict[str, Any], *, folder_mode: int = 0o755) -> None:
    """Write *data* to *path* atomically (a reader sees the old or the new object, never half)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=folder_mode, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
    os.replace(tmp, path)
