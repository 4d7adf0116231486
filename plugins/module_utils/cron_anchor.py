# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
    "CronSpec",
    "next_fire",
    "next_fires",
    "parse_spec",
    "weekly_notes",
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
    if pids:  # the box user cannot read root's daemon's environment (/proc/PID/environ is its owner's)
        return DaemonTZ(name, f"cron (pid {pids[0]}) runs, its environment unreadable to this user: system zone "
                              f"from {source} (set ccci_cron_timezone when the daemon runs with a TZ)", pids)
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
    #: Why T0 is later than completion + offset because of the calendar (empty when it is not).
    calendar_note: str = ""

    @property
    def epoch(self) -> float:
        return self.t0.timestamp()


# -- Debian (Vixie) cron's calendar ------------------------------------------------------------------
#
# Debian's cron (cron.c, 3.0pl1) wakes once a real minute and computes clockTime = (time + GMToff)/60,
# the wall clock in minutes, where GMToff is re-read only when localtime()'s tm_isdst changes. It
# keeps virtualTime, the last wall minute whose jobs ran, and classifies timeDiff = clockTime -
# virtualTime: 1 runs every job of the new minute; 2..5 (woke late) runs every job of each missed
# minute; 6..180 (DST began) runs wildcard jobs of the new minute and fixed-time jobs of each skipped
# minute "soon after the change"; -179..0 (DST ended) runs only wildcard jobs and leaves virtualTime
# where it was until the clock catches up, so fixed-time jobs of a repeated hour are not re-run;
# anything else is a clock correction: virtualTime jumps and the new minute runs everything.
# A job is "wildcard" when its minute or hour field starts with '*' (MIN_STAR|HR_STAR); dom and dow
# are ANDed when either starts with '*', else ORed. Fires below are the real minute of the wake-up.

_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ({}, {}, {}, {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))},
    {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")


@dataclass(frozen=True)
class CronSpec:
    """The five time fields of a crontab entry as Debian cron's entry.c loads them."""

    minutes: frozenset
    hours: frozenset
    doms: frozenset
    months: frozenset
    dows: frozenset  # 0-6, Sunday 0 (7 folded into 0)
    min_star: bool
    hr_star: bool
    dom_star: bool
    dow_star: bool

    @property
    def wildcard(self) -> bool:
        """Debian's "wildcard job" (MIN_STAR|HR_STAR): run on the new time at a DST change."""
        return self.min_star or self.hr_star

    def matches(self, wall: datetime) -> bool:
        """Whether the entry is due at this wall-clock minute (find_jobs())."""
        dow = wall.isoweekday() % 7
        if wall.minute not in self.minutes or wall.hour not in self.hours or wall.month not in self.months:
            return False
        if self.dom_star or self.dow_star:
            return wall.day in self.doms and dow in self.dows
        return wall.day in self.doms or dow in self.dows


def _parse_field(text: str, index: int) -> frozenset:
    low, high = _FIELD_RANGES[index]
    values: set[int] = set()

    def number(word: str) -> int:
        word = word.lower()
        if word in _NAMES[index]:
            return _NAMES[index][word]
        if not word.isdigit():
            raise ValueError(f"bad {_FIELD_NAMES[index]} {word!r}")
        value = int(word)
        if not low <= value <= high:
            raise ValueError(f"{_FIELD_NAMES[index]} {value} is out of range {low}-{high}")
        return value

    for part in text.split(","):
        span, _sep, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if _sep and step is None:
            raise ValueError(f"bad step in {_FIELD_NAMES[index]} {part!r}")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = number(a), number(b)
            if first > last:
                raise ValueError(f"bad range in {_FIELD_NAMES[index]} {part!r}")
        else:
            first = last = number(span)
            if step:
                last = high  # "N/step" runs from N to the end of the range
        values.update(range(first, last + 1, step or 1))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def parse_spec(entry: str) -> CronSpec:
    """The time fields of *entry* (a schedule ``MM HH dom mon dow`` or a whole job line)."""
    fields = entry.split()
    if len(fields) < 5 or fields[0].startswith("@"):
        raise ValueError(f"{entry!r} is not a five-field cron schedule")
    fields = fields[:5]
    sets = [_parse_field(f, i) for i, f in enumerate(fields)]
    return CronSpec(*sets, *(f.startswith("*") for f in (fields[0], fields[1], fields[2], fields[4])))


def _offset_minutes(minute: int, tz: tzinfo) -> tuple[int, bool]:
    """(UTC offset in minutes, tm_isdst) of the zone at the real minute *minute* (epoch minutes)."""
    local = datetime.fromtimestamp(minute * 60, tz)
    return int(local.utcoffset().total_seconds()) // 60, bool(local.dst())


_EPOCH = datetime(1970, 1, 1)


def _wall(minute: int) -> datetime:
    """The wall clock of a clockTime value (gmtime() of it, as find_jobs() does)."""
    return _EPOCH + timedelta(minutes=minute)


def _next_match(spec: CronSpec, wall_minute: int, horizon: int) -> int | None:
    """The first clockTime >= *wall_minute* whose wall clock the entry matches, within *horizon* minutes."""
    start = _wall(wall_minute)
    hours, minutes = sorted(spec.hours), sorted(spec.minutes)
    day = start.replace(hour=0, minute=0)
    for _days in range(horizon // 1440 + 2):
        if spec.matches(day.replace(hour=hours[0], minute=minutes[0])):  # the day itself is due
            for hour in hours:
                for minute in minutes:
                    cand = day.replace(hour=hour, minute=minute)
                    if cand >= start:
                        return int((cand - _EPOCH).total_seconds()) // 60
        day += timedelta(days=1)
    return None


def _next_isdst_change(real: int, until: int, isdst: bool, tz: tzinfo) -> int | None:
    """The first real minute in (real, until] whose tm_isdst differs from *isdst* (12-hour probes, then
    bisection), or None."""
    probe = real
    while probe < until:
        step = min(until - probe, 720)
        if _offset_minutes(probe + step, tz)[1] != isdst:
            low, high = probe, probe + step  # isdst holds at low, not at high
            while high - low > 1:
                mid = (low + high) // 2
                if _offset_minutes(mid, tz)[1] == isdst:
                    low = mid
                else:
                    high = mid
            return high
        probe += step
    return None


def next_fire(entry: str, after: datetime, zone_name: str | tzinfo, *, horizon_days: int = 400,
              daemon_start: datetime | None = None) -> datetime | None:
    """When Debian cron, running in *zone_name*, next runs *entry* after the instant *after*.

    The daemon is taken to run steadily from *daemon_start* (default four hours before *after*, more
    than any DST change it remembers). Returns the real minute of the wake-up that runs the job, as an
    aware datetime in the zone, or None within *horizon_days*.
    """
    spec = parse_spec(entry)
    tz = zone(zone_name) if isinstance(zone_name, str) else zone_name
    after_min = math.floor(after.timestamp() / 60)
    real = math.floor(daemon_start.timestamp() / 60) if daemon_start else after_min - 240
    gmtoff, isdst = _offset_minutes(real, tz)
    virtual = real + gmtoff
    limit = after_min + horizon_days * 1440
    while real < limit:
        if virtual == real + gmtoff:
            # steady: nothing happens until the entry's next wall minute or a change of tm_isdst
            target = _next_match(spec, virtual + 1, limit - real)
            # the real minute at which the wall clock reads target (past the horizon when none)
            jump = limit + 1 if target is None else target - gmtoff
            change = _next_isdst_change(real, min(jump, limit), isdst, tz)
            if change is None and jump > limit:
                return None
            real = (jump if change is None else change) - 1
            virtual = real + gmtoff  # the minutes skipped had no job due: the daemon was steady through them
        real += 1
        offset, dst = _offset_minutes(real, tz)
        if dst != isdst:  # set_time(): GMToff is re-read only when tm_isdst changes
            gmtoff, isdst = offset, dst
        running = real + gmtoff
        diff = running - virtual
        due: list[tuple[int, bool, bool]] = []  # (wall minute, do wildcard, do fixed)
        if diff == 1 or 0 < diff <= 5:
            due = [(v, True, True) for v in range(virtual + 1, running + 1)]
            virtual = running
        elif 5 < diff <= 180:
            due = [(running, True, False)] + [(v, False, True) for v in range(virtual + 1, running + 1)]
            virtual = running
        elif -180 < diff <= 0:
            due = [(running, True, False)]
        else:
            due = [(running, True, True)]
            virtual = running
        if real > after_min and any(spec.matches(_wall(v)) and ((wild and spec.wildcard) or (fixed and not spec.wildcard))
                                    for v, wild, fixed in due):
            return datetime.fromtimestamp(real * 60, tz)
    return None


def _installed_fire(t0: datetime, tz: tzinfo, now: datetime) -> datetime | None:
    """The first run of the entry for T0's wall time once it is in place: from *now*, or from four
    hours before T0 when that is later (a completion far ahead: the weeks before T0 do not matter,
    the repeated time before T0 does)."""
    return next_fire(schedule_for(t0.astimezone(tz)), max(now, t0 - timedelta(hours=4)), tz)


def _fires_at(t0: datetime, tz: tzinfo, now: datetime) -> bool:
    """Whether the entry for T0's wall time, installed at *now*, first runs at T0. Compared as unix
    seconds: ``==`` between aware datetimes is False for a time the clock shows twice (PEP 495)."""
    fire = _installed_fire(t0, tz, now)
    return fire is not None and fire.timestamp() == t0.timestamp()


def _calendar_note(wanted: datetime, t0: datetime, fire: datetime | None, tz: tzinfo) -> str:
    local = wanted.astimezone(tz)
    other = local.replace(fold=1 - local.fold)
    twice = other.utcoffset() != local.utcoffset()
    when = fire.astimezone(tz).isoformat() if fire else "not within a year"
    if twice and fire is not None and fire.timestamp() < wanted.timestamp():
        why = (f"the wall time {local:%a %Y-%m-%d %H:%M} happens twice (the clock goes back) and Debian cron runs a "
               f"fixed-time job only at its first occurrence, {when}, before T0")
    elif twice:
        why = (f"the wall time {local:%a %Y-%m-%d %H:%M} happens twice (the clock goes back); its first occurrence "
               f"has passed and Debian cron does not run a fixed-time job again in the repeated time, so the entry "
               f"would first run at {when}")
    else:
        why = f"Debian cron would run an entry for {local:%a %H:%M} at {when}, not at T0"
    return (f"T0 {local.isoformat()} (completion + offset): {why}; T0 moved to {t0.astimezone(tz).isoformat()}, "
            "the next minute at which cron runs the entry exactly once, at that instant")


def compute_anchor(completion: datetime, offset: int, tz_name: str, now: datetime | None = None,
                   min_lead: int = 30) -> Anchor:
    """T0 = completion + offset on absolute time, rounded up to the minute, then expressed on the
    daemon's wall clock.

    When that instant is less than *min_lead* seconds away from *now* (already passed, or too close for
    the entry to be in place), T0 moves to *offset* seconds from now, and a note says so. When Debian
    cron would not run the entry for T0's wall time at T0 (a repeated hour's second pass), T0 moves to
    the next minute it does, and :attr:`Anchor.calendar_note` says why.
    """
    if not isinstance(offset, int) or isinstance(offset, bool) or offset <= 0:
        raise ValueError(f"the offset must be a positive number of seconds, not {offset!r}")
    tz = zone(tz_name)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    wanted = ceil_minute((completion.astimezone(timezone.utc) + timedelta(seconds=offset)))
    t0 = wanted
    notes: list[str] = []
    moved = False
    if (t0 - now).total_seconds() < min_lead:
        t0 = ceil_minute(now + timedelta(seconds=max(offset, min_lead)))
        moved = True
        notes.append(
            f"slot {wanted.astimezone(tz).isoformat()} (completion {completion.astimezone(tz).isoformat()} + "
            f"{offset} s) had passed or was under {min_lead} s away at {now.astimezone(tz).replace(microsecond=0).isoformat()}: "
            f"T0 moved to {t0.astimezone(tz).isoformat()}, {math.ceil((t0 - now).total_seconds())} s out"
        )
    first = t0
    calendar_note = ""
    if not _fires_at(t0, tz, now):
        first_fire = _installed_fire(t0, tz, now)
        for _minute in range(24 * 60):
            t0 += timedelta(minutes=1)
            if _fires_at(t0, tz, now):
                break
        else:
            raise ValueError(f"no minute within a day of {first.isoformat()} that cron runs exactly once in {tz_name}")
        calendar_note = _calendar_note(first, t0, first_fire, tz)
        notes.append(calendar_note)
    t0 = t0.astimezone(tz)
    return Anchor(t0=t0, tz_name=tz_name, schedule=schedule_for(t0), wanted=wanted.astimezone(tz), moved=moved,
                  notes=notes, calendar_note=calendar_note)


def weekly_notes(t0: datetime, tz_name: str, weeks: int = 53) -> list[str]:
    """The coming year's weeks in which Debian cron runs the weekly entry off its wall-clock slot
    (a slot skipped by a clock change runs soon after it)."""
    tz = zone(tz_name)
    local = t0.astimezone(tz)
    schedule = schedule_for(local)
    naive = local.replace(tzinfo=None)
    notes = []
    previous = local
    for week in range(1, weeks):
        slot = naive + timedelta(weeks=week)
        fire = next_fire(schedule, previous, tz)
        if fire is None:
            notes.append(f"Debian cron would not run the entry after {previous.isoformat()} within a year")
            break
        if fire.replace(tzinfo=None) != slot:
            notes.append(f"the slot {slot:%a %Y-%m-%d %H:%M} does not exist (the clock jumps forward): "
                         f"Debian cron runs the job soon after, at {fire.isoformat()}")
        previous = fire
    return notes


def next_fires(schedule: str, tz_name: str, after: datetime | None = None, count: int = 3) -> list[datetime]:
    """The next *count* fires of *schedule* by Debian cron in the zone (:func:`next_fire`)."""
    fires: list[datetime] = []
    after = after or datetime.now(timezone.utc)
    for _i in range(count):
        fire = next_fire(schedule, after, tz_name)
        if fire is None:
            break
        fires.append(fire)
        after = fire
    return fires
