# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The calendar: T0 on absolute time, the entry's next fire under Debian cron's DST rules.

The oracle is ``cron_anchor.next_fire`` (Debian cron's main loop with fast-forward between events);
it is itself checked against ``reference_fire`` below, a plain minute-by-minute transliteration of
cron.c's loop with no shortcuts. Property tests run over every zone ``zoneinfo`` knows and instants
across two years, with a bias towards the hours around each zone's clock changes (both directions,
30- and 45-minute offsets included).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor as ca

UTC = timezone.utc
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)
ZONES = sorted(available_timezones())
ODD_ZONES = ["Australia/Lord_Howe", "Asia/Kathmandu", "Australia/Eucla", "Pacific/Chatham", "Asia/Kolkata",
             "America/St_Johns", "Australia/Adelaide", "Antarctica/Troll"]


def _state(minute: int, tz) -> tuple[int, bool]:
    local = datetime.fromtimestamp(minute * 60, tz)
    return int(local.utcoffset().total_seconds()) // 60, bool(local.dst())


@lru_cache(maxsize=None)
def transitions(name: str) -> tuple[datetime, ...]:
    """Instants in [START, END) at which the zone's UTC offset or isdst changes (daily probes, bisection)."""
    tz = ZoneInfo(name) if name not in ("UTC",) else UTC
    found = []
    day = int(START.timestamp()) // 60
    end = int(END.timestamp()) // 60
    prev = _state(day, tz)
    while day < end:
        nxt = day + 1440
        state = _state(nxt, tz)
        if state != prev:
            low, high = day, nxt
            while high - low > 1:
                mid = (low + high) // 2
                if _state(mid, tz) == prev:
                    low = mid
                else:
                    high = mid
            found.append(datetime.fromtimestamp(high * 60, UTC))
        prev, day = state, nxt
    return tuple(found)


def reference_fire(schedule: str, after: datetime, tz, until: datetime) -> datetime | None:
    """cron.c's loop, one real minute at a time, nothing skipped: the first fire after *after*."""
    spec = ca.parse_spec(schedule)
    real = math.floor(after.timestamp() / 60) - 240
    gmtoff, isdst = _state(real, tz)
    virtual = real + gmtoff
    after_min = math.floor(after.timestamp() / 60)
    while real * 60 <= until.timestamp():
        real += 1
        offset, dst = _state(real, tz)
        if dst != isdst:
            gmtoff, isdst = offset, dst
        running = real + gmtoff
        diff = running - virtual
        runs = []
        if diff == 1:
            virtual = running
            runs = [(running, True, True)]
        elif diff > 180 or diff <= -180:
            virtual = running
            runs = [(running, True, True)]
        elif diff > 5:
            runs = [(running, True, False)]
            while virtual < running:
                virtual += 1
                runs.append((virtual, False, True))
        elif diff > 0:
            while virtual < running:
                virtual += 1
                runs.append((virtual, True, True))
        else:
            runs = [(running, True, False)]
        for wall_minute, wild, fixed in runs:
            wall = datetime(1970, 1, 1) + timedelta(minutes=wall_minute)
            if spec.matches(wall) and ((wild and spec.wildcard) or (fixed and not spec.wildcard)) and real > after_min:
                return datetime.fromtimestamp(real * 60, tz)
    return None


def ts(when: datetime | None) -> float | None:
    """Unix seconds: aware datetimes in one zone compare by wall clock, ignoring fold (PEP 495)."""
    return None if when is None else when.timestamp()


def tzof(name: str):
    return ca.zone(name)


# -- Debian cron's documented DST rules, by hand ------------------------------------------------------

NY = "America/New_York"
FALL_2026 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 02:00 EDT -> 01:00 EST
SPRING_2027 = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 02:00 EST -> 03:00 EDT


@pytest.mark.parametrize("schedule,after,want", [
    # a fixed-time job in the skipped hour runs soon after the change (man cron: "run soon after")
    ("30 2 * * 0", SPRING_2027 - timedelta(hours=2), "2027-03-14T03:00:00-04:00"),
    ("0 3 * * 0", SPRING_2027 - timedelta(hours=2), "2027-03-14T03:00:00-04:00"),
    ("1 3 * * 0", SPRING_2027 - timedelta(hours=2), "2027-03-14T03:01:00-04:00"),
    # a wildcard job runs on the new time at once: 02:xx does not happen that day
    ("*/15 2 * * *", SPRING_2027 - timedelta(hours=2), "2027-03-15T02:00:00-04:00"),
    # a repeated hour is not run twice: the first pass runs it, the second does not
    ("30 1 * * 0", FALL_2026 - timedelta(hours=2), "2026-11-01T01:30:00-04:00"),
    ("30 1 * * 0", FALL_2026 - timedelta(minutes=30), "2026-11-08T01:30:00-05:00"),
    ("0 2 * * 0", FALL_2026 - timedelta(hours=2), "2026-11-01T02:00:00-05:00"),
    # a wildcard job runs in both passes
    ("*/20 1 * * *", FALL_2026 - timedelta(minutes=1), "2026-11-01T01:00:00-05:00"),
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2026-10-04
    ("15 2 * * 0", datetime(2026, 10, 3, 13, 0, tzinfo=UTC), "2026-10-04T02:30:00+11:00"),
])
def test_debian_dst_rules(schedule, after, want):
    zone_name = "Australia/Lord_Howe" if "+11:00" in want else NY
    got = ca.next_fire(schedule, after, zone_name)
    assert got is not None and got.isoformat() == want
    ref = reference_fire(schedule, after, tzof(zone_name), got.astimezone(UTC) + timedelta(minutes=1))
    assert ts(ref) == ts(got)


def test_spec_fields_and_flags():
    spec = ca.parse_spec("5 21 * * 7")
    assert spec.dows == {0} and not spec.wildcard and spec.dom_star
    assert ca.parse_spec("*/15 2 * * mon-fri").wildcard
    assert ca.parse_spec("0 0 1,15 jan sun").matches(datetime(2026, 1, 4))  # dom OR dow when neither is '*'
    for bad in ("61 * * * *", "* * * *", "@weekly", "5-1 * * * *", "*/0 * * * *"):
        with pytest.raises(ValueError):
            ca.parse_spec(bad)


# -- the anchor ---------------------------------------------------------------------------------------

def test_fall_back_second_pass_moves_to_first_unique_minute_and_says_why():
    done = FALL_2026 + timedelta(minutes=10) - timedelta(seconds=3600)  # completion + 1 h = the second 01:10
    a = ca.compute_anchor(done, 3600, NY, now=done)
    assert a.wanted.isoformat() == "2026-11-01T01:10:00-05:00"
    assert a.t0.isoformat() == "2026-11-01T02:00:00-05:00" and a.schedule == "0 2 * * 0"
    assert "happens twice" in a.calendar_note and "first occurrence" in a.calendar_note
    assert "T0 moved to 2026-11-01T02:00:00-05:00" in a.calendar_note


def test_fall_back_first_pass_is_kept():
    done = FALL_2026 - timedelta(minutes=30) - timedelta(seconds=3600)  # the first 01:30 (EDT)
    a = ca.compute_anchor(done, 3600, NY, now=done)
    assert a.t0.isoformat() == "2026-11-01T01:30:00-04:00" and a.calendar_note == ""


def test_spring_forward_is_absolute_not_wall_clock():
    done = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)  # 01:30 EST; + 1 h is 03:30 EDT, not the missing 02:30
    a = ca.compute_anchor(done, 3600, NY, now=done)
    assert a.t0.isoformat() == "2027-03-14T03:30:00-04:00" and not a.moved and a.calendar_note == ""


def test_bad_offsets_are_refused():
    for bad in (0, -60, "abc", 1.5, True):
        with pytest.raises(ValueError, match="offset must be a positive number of seconds"):
            ca.compute_anchor(START, bad, NY, now=START)


def test_weekly_notes_name_the_skipped_slot():
    notes = ca.weekly_notes(datetime(2027, 3, 7, 2, 30, tzinfo=tzof(NY)), NY)
    assert notes == ["the slot Sun 2027-03-14 02:30 does not exist (the clock jumps forward): Debian cron runs "
                     "the job soon after, at 2027-03-14T03:00:00-04:00"]


# -- properties ---------------------------------------------------------------------------------------

@st.composite
def completions(draw):
    """(zone, completion, offset): anywhere in two years, or within four hours of a clock change."""
    name = draw(st.one_of(st.sampled_from(ZONES), st.sampled_from(ODD_ZONES)))
    offset = draw(st.one_of(st.just(3600), st.integers(min_value=60, max_value=3 * 3600)))
    changes = transitions(name)
    if changes and draw(st.integers(0, 3)) > 0:
        change = draw(st.sampled_from(changes))
        when = change - timedelta(seconds=offset) + timedelta(seconds=draw(st.integers(-4 * 3600, 4 * 3600)))
    else:
        when = START + timedelta(seconds=draw(st.integers(0, int((END - START).total_seconds()))))
    return name, when, offset


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(completions())
@example(("Australia/Lord_Howe", datetime(2026, 4, 4, 14, 40, tzinfo=UTC), 3600))  # 01:40 again (30-min fall-back)
@example(("America/New_York", datetime(2026, 11, 1, 5, 10, tzinfo=UTC), 3600))  # the second 01:10
@example(("Australia/Eucla", datetime(2026, 6, 1, 0, 0, 30, tzinfo=UTC), 3600))  # +08:45, no DST
@example(("Asia/Kathmandu", datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC), 90))  # +05:45, a year's end
def test_installed_entry_fires_at_t0(case):
    name, completion, offset = case
    tz = tzof(name)
    a = ca.compute_anchor(completion, offset, name, now=completion)
    wanted = ca.ceil_minute(completion + timedelta(seconds=offset))
    local = a.t0.astimezone(tz)
    # the entry is T0's wall clock in the daemon's zone (Sunday = 0)
    assert a.schedule == f"{local.minute} {local.hour} * * {local.isoweekday() % 7}"
    # Debian cron's next run of that entry, after the moment it is installed, is T0 (oracle and reference)
    assert ts(ca.next_fire(a.schedule, completion, tz)) == ts(a.t0)
    assert ts(reference_fire(a.schedule, completion, tz, a.t0.astimezone(UTC) + timedelta(minutes=1))) == ts(a.t0)
    # never early, and late only for a wall time the clock shows twice, by at most the repeated time
    assert a.t0 >= wanted and not a.moved
    if ts(a.t0) != ts(wanted):
        w = wanted.astimezone(tz)
        assert w.replace(fold=1 - w.fold).utcoffset() != w.utcoffset(), (w, a.calendar_note)
        assert a.t0 - wanted <= timedelta(hours=3) and a.calendar_note
    else:
        assert a.calendar_note == ""


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(ODD_ZONES + ["America/New_York", "Europe/Dublin", "America/Havana", "Africa/Casablanca"]),
       minute=st.one_of(st.integers(0, 59).map(str), st.sampled_from(["*", "*/7", "15-45/10"])),
       hour=st.one_of(st.integers(0, 23).map(str), st.sampled_from(["*", "1-3"])),
       dow=st.sampled_from(["*", "0", "1-5", "6,0"]),
       pick=st.integers(0, 50), delta=st.integers(-5 * 60, 5 * 60))
def test_next_fire_equals_the_minute_by_minute_loop(name, minute, hour, dow, pick, delta):
    tz = tzof(name)
    changes = transitions(name) or (START + timedelta(days=pick),)
    after = changes[pick % len(changes)] + timedelta(minutes=delta)
    schedule = f"{minute} {hour} * * {dow}"
    got = ca.next_fire(schedule, after, tz, horizon_days=2)
    ref = reference_fire(schedule, after, tz, after + timedelta(days=2))
    assert ts(got) == ts(ref), (schedule, after)


def test_every_zone_around_every_clock_change():
    """Each zone zoneinfo knows; each of its clock changes in two years, approached from both sides."""
    checked = 0
    for name in ZONES:
        tz = tzof(name)
        near = [c + timedelta(minutes=m) for c in transitions(name) for m in (-61, -30, -1, 0, 1, 29, 59, 61)]
        points = [START + timedelta(days=100)] + near
        for t0_wanted in points:
            completion = t0_wanted - timedelta(seconds=3600)
            a = ca.compute_anchor(completion, 3600, name, now=completion)
            assert ts(ca.next_fire(a.schedule, completion, tz)) == ts(a.t0), (name, t0_wanted, a)
            assert timedelta(0) <= a.t0 - ca.ceil_minute(t0_wanted) <= timedelta(hours=3)
            checked += 1
    assert checked > len(ZONES)
