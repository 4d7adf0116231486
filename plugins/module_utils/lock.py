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


def _same(holder: dict, other: dict | None) -> bool:
    return bool(other) and all(holder.get(k) == other.get(k) for k in ("pid", "host", "since"))


def acquire(path: str, owner_pid: int, label: str, host: str | None = None, gone: dict | None = None,
            lease: float = 0) -> tuple[bool, dict]:
    """Take the lock for ``owner_pid`` on ``host`` (default: this host, where the lock file is).

    A lock whose holder is gone is stale and taken over: a pid of this host that no longer runs; the holder
    ``gone`` names (its controller judged it dead: the file lives on a box, the pid on a controller); a holder
    older than ``lease`` seconds (a run crashed on a controller that never came back). Returns (changed, holder);
    a holder that took over a stale lock names the dead one under ``took_over``. Raises LockHeld naming the live
    holder.
    """
    local = host is None
    me: dict = {"pid": owner_pid, "host": host or socket.gethostname(), "label": label, "since": time.time()}
    if lease:
        me["lease_until"] = me["since"] + lease
    holder = read_holder(path)
    if holder:
        if holder.get("pid") == owner_pid and holder.get("host") == me["host"]:
            return False, holder
        try:
            pid = int(holder.get("pid", 0))
        except (TypeError, ValueError):
            pid = 0
        dead_here = local and holder.get("host") == me["host"] and (pid <= 0 or not _alive(pid))
        try:
            expired = float(holder.get("lease_until") or 0) and float(holder["lease_until"]) < me["since"]
        except (TypeError, ValueError):
            expired = False
        if dead_here or _same(holder, gone) or expired:
            os.unlink(path)  # stale: its run died (e.g. kill -9); the ledger still lets V9 clean up
            me["took_over"] = holder
        else:
            until = ""
            if holder.get("lease_until"):
                ends = datetime.fromtimestamp(float(holder["lease_until"]), timezone.utc)
                until = f" (its lease ends at {utc_iso(ends)}: a later run takes it over then)"
            raise LockHeld(
                f"another verification run holds {path}: {describe(holder)}; "
                f"wait for it or remove the file if that run is gone{until}"
            )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(me, handle)
    return True, me


def release(path: str, owner_pid: int, host: str | None = None) -> bool:
    holder = read_holder(path)
    if holder and holder.get("pid") == owner_pid and holder.get("host") == (host or socket.gethostname()):
        os.unlink(path)
        return True
    return False
