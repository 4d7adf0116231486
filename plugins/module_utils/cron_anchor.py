# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the weekly job runs: the anchor T0 (completion + offset) in the cron daemon's timezone.

Vixie/Debian cron has one timezone, the daemon's own (no ``CRON_TZ``): a job ``MM HH * * DOW`` runs
when the daemon's local wall clock reads that minute. So T0 is computed in that timezone, found on
the machine (:func:`daemon_timezone`): the ``TZ`` in the running daemon's environment, else the
system zone (``/etc/localtime``'s link, ``/etc/timezone``), else UTC.

No Ansible state here.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Anchor",
    "DaemonTZ",
    "MARKER_ID",
    "anchor_from_marker",
    "ceil_minute",
    "compute_anchor",
    "cron_daemons",
    "daemon_timezone",
    "format_marker",
    "next_fires",
    "parse_time",
    "schedule_for",
    "zone",
]

MARKER_ID = "ccci-upgrade-all"
DAEMON_NAMES = ("cron", "crond")
_MARKER_RE = re.compile(r"^(?P<id>\S+)\s+anchor=(?P<anchor>\S+)\s*$")


@dataclass
class DaemonTZ:
    """The timezone the cron daemon runs in, and how it was found."""

    name: str
    source: str
    daemon_pids: list[int] = field(default_factory=list)

    @property
    def tz(self) -> tzinfo:
        return zone(self.name)


def zone(name: str) -> tzinfo:
    """A tzinfo for an IANA name (``America/New_York``), ``UTC``, or a fixed ``+HH:MM`` offset."""
    name = (name or "UTC").lstrip(":")
    if name.startswith("/"):
        m = re.search(r"zoneinfo/(.+)$", name)
        if m:
            name = m.group(1)
        else:
            with open(name, "rb") as fh:
                return ZoneInfo.from_file(fh, key=name)
    if name in ("UTC", "Etc/UTC", "UTC0", "Z"):
        return timezone.utc
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", name)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(delta if m.group(1) == "+" else -delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


def cron_daemons(proc: str = "/proc") -> list[int]:
    """PIDs of running cron daemons (``cron`` / ``crond``), lowest first."""
    pids = []
    try:
        entries = os.listdir(proc)
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "comm"), encoding="utf-8", errors="replace") as fh:
                comm = fh.read().strip()
            if comm not in DAEMON_NAMES:
                continue
            with open(os.path.join(proc, entry, "stat"), encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        state = stat[stat.rfind(")") + 2:].split()[:1]
        if state and state[0] in ("Z", "X"):
            continue
        pids.append(int(entry))
    pids.sort()
    # a daemon forks one child per running job: keep the ones whose parent is not a cron daemon
    roots = []
    for pid in pids:
        try:
            with open(os.path.join(proc, str(pid), "stat"), encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            ppid = 0
        if ppid not in pids:
            roots.append(pid)
    return roots


def _environ(pid: int, proc: str) -> dict[str, str] | None:
    try:
        with open(os.path.join(proc, str(pid), "environ"), "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def system_timezone(etc: str = "/etc") -> tuple[str, str]:
    """(name, source) of the system zone that glibc uses for a process without TZ."""
    localtime = os.path.join(etc, "localtime")
    if os.path.islink(localtime):
        target = os.readlink(localtime)
        m = re.search(r"zoneinfo/(.+)$", target)
        if m:
            return m.group(1), f"{localtime} -> {target}"
    try:
        with open(os.path.join(etc, "timezone"), encoding="utf-8") as fh:
            name = fh.read().strip()
        if name:
            zone(name)
            return name, os.path.join(etc, "timezone")
    except (OSError, ValueError):
        pass
    if os.path.isfile(localtime):
        return localtime, localtime
    return "UTC", "default (no TZ, no /etc/localtime, no /etc/timezone)"


def daemon_timezone(proc: str = "/proc", etc: str = "/etc", override: str | None = None) -> DaemonTZ:
    """The cron daemon's timezone: *override*, else ``TZ`` in the daemon's environment, else the
    system zone. ``daemon_pids`` is empty when no daemon runs (the zone is then the system's, which a
    daemon started later without TZ would use)."""
    pids = cron_daemons(proc)
    if override:
        zone(override)
        return DaemonTZ(override, "given", pids)
    for pid in pids:
        env = _environ(pid, proc)
        if env is None:
            continue
        tz = env.get("TZ")
        if tz:
            name = tz.lstrip(":")
            zone(name)
            return DaemonTZ(name, f"TZ in the environment of cron (pid {pid})", pids)
        name, source = system_timezone(etc)
        return DaemonTZ(name, f"cron (pid {pid}) has no TZ: system zone from {source}", pids)
    name, source = system_timezone(etc)
    return DaemonTZ(name, f"no cron daemon running: system zone from {source}", pids)


def parse_time(value: str | float | int | datetime | None, default: datetime | None = None) -> datetime:
    """An aware datetime from an ISO 8601 string (naive = UTC), unix seconds, or a datetime."""
    if value is None or value == "":
        return default or datetime.now(timezone.utc)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)) or re.fullmatch(r"\d+(\.\d+)?", str(value).strip()):
        return datetime.fromtimestamp(float(value), timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def ceil_minute(dt: datetime) -> datetime:
    """*dt* rounded up to a whole minute (cron's resolution), so the first fire is never early."""
    if dt.second == 0 and dt.microsecond == 0:
        return dt
    return dt.replace(second=0, microsecond=0) + timedelta(minutes=1)


def schedule_for(t0: datetime) -> str:
    """``MM HH * * DOW`` for T0's wall clock (cron: Sunday = 0)."""
    return f"{t0.minute} {t0.hour} * * {t0.isoweekday() % 7}"


def format_marker(t0: datetime, marker_id: str = MARKER_ID) -> str:
    """The entry's comment: its id and anchor, e.g. ``ccci-upgrade-all anchor=2026-11-23T21:05:00-05:00``."""
    return f"{marker_id} anchor={t0.isoformat()}"


def anchor_from_marker(comment: str | None, marker_id: str = MARKER_ID) -> datetime | None:
    """The anchor carried by an entry's comment; None when it is not our marker or unreadable."""
    m = _MARKER_RE.match((comment or "").strip())
    if not m or m.group("id") != marker_id:
        return None
    try:
        dt = datetime.fromisoformat(m.group("anchor"))
    except ValueError:
        return None
    return dt if dt.tzinfo else None


@dataclass
class Anchor:
    """T0 and the schedule derived from it."""

    t0: datetime
    tz_name: str
    schedule: str
    wanted: datetime
    moved: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def epoch(self) -> float:
        return self.t0.timestamp()


def _wall_clock_notes(t0: datetime, tz: tzinfo) -> list[str]:
    """Warn when T0's wall-clock slot falls into a DST gap or fold in the coming year."""
    if not isinstance(tz, ZoneInfo):
        return []
    notes = []
    naive = t0.replace(tzinfo=None)
    for week in range(0, 53):
        local = naive + timedelta(weeks=week)
        a = local.replace(tzinfo=tz, fold=0)
        b = local.replace(tzinfo=tz, fold=1)
        if a.utcoffset() != b.utcoffset():
            roundtrip = a.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
            kind = "does not exist (DST gap: cron runs the job soon after)" if roundtrip != local else \
                "happens twice (DST fold: cron runs the job once)"
            notes.append(f"the slot {local:%a %Y-%m-%d %H:%M} {kind}")
            break
    return notes


def compute_anchor(completion: datetime, offset: int, tz_name: str, now: datetime | None = None,
                   min_lead: int = 30) -> Anchor:
    """T0 = completion + offset, rounded up to the minute, on the daemon's wall clock.

    When that slot is less than *min_lead* seconds away from *now* (already passed, or too close for
    the entry to be in place), T0 moves to the next slot that still gives a first fire *offset*
    seconds out, and a note says so.
    """
    tz = zone(tz_name)
    now = (now or datetime.now(timezone.utc)).astimezone(tz)
    wanted = ceil_minute((completion + timedelta(seconds=offset)).astimezone(tz))
    t0 = wanted
    notes: list[str] = []
    moved = False
    if (t0 - now).total_seconds() < min_lead:
        t0 = ceil_minute(now + timedelta(seconds=max(offset, min_lead)))
        moved = True
        notes.append(
            f"slot {wanted.isoformat()} (completion {completion.astimezone(tz).isoformat()} + {offset} s) "
            f"had passed or was under {min_lead} s away at {now.replace(microsecond=0).isoformat()}: "
            f"T0 moved to {t0.isoformat()}, {math.ceil((t0 - now).total_seconds())} s out"
        )
    notes.extend(_wall_clock_notes(t0, tz))
    return Anchor(t0=t0, tz_name=tz_name, schedule=schedule_for(t0), wanted=wanted, moved=moved, notes=notes)


def next_fires(schedule: str, tz_name: str, after: datetime | None = None, count: int = 3) -> list[datetime]:
    """The next *count* fires of *schedule* on the daemon's wall clock (croniter)."""
    from croniter import croniter  # imported late: only this needs it

    tz = zone(tz_name)
    start = (after or datetime.now(timezone.utc)).astimezone(tz)
    it = croniter(schedule, start)
    return [it.get_next(datetime) for _i in range(count)]
