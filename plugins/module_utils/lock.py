# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One verification run at a time per box: a lock file naming its holder."""
from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime, timezone

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import utc_iso


class LockHeld(Exception):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def describe(holder: dict) -> str:
    """``pid N on HOST (label) since <UTC time>``: who holds (or held) a lock."""
    try:
        since = utc_iso(datetime.fromtimestamp(float(holder.get("since", 0)), timezone.utc))
    except (TypeError, ValueError, OverflowError, OSError):
        since = "an unknown time"
    return f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('label')}) since {since}"


def took_over_message(path: str, holder: dict) -> str:
    """The line a run prints when it took over the lock of a run that is gone."""
    return (f"took over the run lock {path} from a run that is gone: {describe(holder)}; "
            "its PRs and apps are closed by this run's sweep")


def acquire(path: str, owner_pid: int, label: str) -> tuple[bool, dict]:
    """Take the lock for ``owner_pid``; a lock whose holder is gone from this host is stale and taken over.

    Returns (changed, holder); a holder that took over a stale lock names the dead one under
    ``took_over``. Raises LockHeld naming the live holder.
    """
    me: dict = {"pid": owner_pid, "host": socket.gethostname(), "label": label, "since": time.time()}
    holder = read_holder(path)
    if holder:
        if holder.get("pid") == owner_pid and holder.get("host") == me["host"]:
            return False, holder
        try:
            pid = int(holder.get("pid", 0))
        except (TypeError, ValueError):
            pid = 0
        if holder.get("host") == me["host"] and (pid <= 0 or not _alive(pid)):
            os.unlink(path)  # stale: its run died (e.g. kill -9); the ledger still lets V9 clean up
            me["took_over"] = holder
        else:
            raise LockHeld(
                f"another verification run holds {path}: {describe(holder)}; "
                "wait for it or remove the file if that run is gone"
            )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(me, handle)
    return True, me


def release(path: str, owner_pid: int) -> bool:
    holder = read_holder(path)
    if holder and holder.get("pid") == owner_pid:
        os.unlink(path)
        return True
    return False
