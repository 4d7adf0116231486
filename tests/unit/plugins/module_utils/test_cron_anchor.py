# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cron_anchor: T0 on the cron daemon's wall clock, the schedule, the marker, the next fires."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor as ca

UTC = timezone.utc


def test_anchor_in_new_york_is_local_wall_clock():
    done = datetime(2026, 11, 23, 21, 4, 30, tzinfo=UTC)  # 16:04:30 in New York (EST)
    a = ca.compute_anchor(done, 3600, "America/New_York", now=done)
    assert a.t0.isoformat() == "2026-11-23T17:05:00-05:00"  # rounded up: never before completion + offset
    assert a.schedule == "5 17 * * 1"  # Monday
    assert not a.moved and a.notes == []
    assert ca.schedule_for(a.t0.astimezone(UTC)) == "5 22 * * 1"  # what a UTC assumption would get wrong


def test_exact_minute_is_kept_and_sunday_is_zero():
    done = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)  # a Sunday
    a = ca.compute_anchor(done, 3600, "UTC", now=done)
    assert a.t0 == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    assert a.schedule == "0 11 * * 0"


def test_passed_slot_moves_to_offset_from_now_and_says_so():
    done = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    now = datetime(2026, 11, 23, 12, 30, 10, tzinfo=UTC)
    a = ca.compute_anchor(done, 3600, "UTC", now=now)
    assert a.moved
    assert a.t0 == datetime(2026, 11, 23, 13, 31, tzinfo=UTC)
    assert a.wanted == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert "had passed" in a.notes[0] and "T0 moved to 2026-11-23T13:31:00+00:00" in a.notes[0]


def test_too_close_counts_as_passed():
    now = datetime(2026, 11, 23, 12, 0, 50, tzinfo=UTC)
    a = ca.compute_anchor(now - timedelta(seconds=60), 70, "UTC", now=now, min_lead=30)
    assert a.moved and (a.t0 - now).total_seconds() >= 60


def test_next_fires_weekly_in_daemon_zone():
    t0 = datetime(2026, 11, 23, 17, 5, tzinfo=ca.zone("America/New_York"))
    fires = ca.next_fires("5 17 * * 1", "America/New_York", after=t0 - timedelta(minutes=1))
    assert [f.isoformat() for f in fires] == ["2026-11-23T17:05:00-05:00", "2026-11-30T17:05:00-05:00",
                                              "2026-12-07T17:05:00-05:00"]


def test_marker_roundtrip():
    t0 = datetime(2026, 11, 23, 21, 5, tzinfo=ca.zone("America/New_York"))
    marker = ca.format_marker(t0)
    assert marker == "ccci-upgrade-all anchor=2026-11-23T21:05:00-05:00"
    assert ca.anchor_from_marker(marker) == t0
    assert ca.anchor_from_marker("other anchor=2026-11-23T21:05:00-05:00") is None
    assert ca.anchor_from_marker("ccci-upgrade-all anchor=garbage") is None
    assert ca.anchor_from_marker("ccci-upgrade-all anchor=2026-11-23T21:05:00") is None  # no offset: unusable


def test_parse_time():
    assert ca.parse_time("2026-11-23T21:05:00Z") == datetime(2026, 11, 23, 21, 5, tzinfo=UTC)
    assert ca.parse_time("2026-11-23T21:05:00") == datetime(2026, 11, 23, 21, 5, tzinfo=UTC)
    assert ca.parse_time("1700000000") == datetime.fromtimestamp(1700000000, UTC)
    assert ca.parse_time(None).tzinfo is not None


def fake_proc(root: Path, pid: int, comm: str, ppid: int = 1, env: dict | None = None) -> None:
    d = root / str(pid)
    d.mkdir(parents=True)
    (d / "comm").write_text(comm + "\n")
    (d / "stat").write_text(f"{pid} ({comm}) S {ppid} " + " ".join(["0"] * 40) + "\n")
    (d / "environ").write_bytes(b"\0".join(f"{k}={v}".encode() for k, v in (env or {}).items()) + b"\0")


def fake_etc(root: Path, zone: str | None, timezone_file: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if zone:
        os.symlink(f"/usr/share/zoneinfo/{zone}", root / "localtime")
    if timezone_file:
        (root / "timezone").write_text(timezone_file + "\n")
    return root


def test_daemon_tz_from_its_environment(tmp_path):
    proc = tmp_path / "proc"
    fake_proc(proc, 400, "cron", env={"TZ": ":America/New_York", "PATH": "/bin"})
    fake_proc(proc, 401, "cron", ppid=400)  # a job's child cron: not a daemon
    fake_proc(proc, 402, "bash")
    dtz = ca.daemon_timezone(proc=str(proc), etc=str(fake_etc(tmp_path / "etc", "Europe/Berlin")))
    assert dtz.name == "America/New_York" and dtz.daemon_pids == [400]
    assert "TZ in the environment of cron (pid 400)" in dtz.source


def test_daemon_without_tz_uses_system_zone(tmp_path):
    proc = tmp_path / "proc"
    fake_proc(proc, 400, "crond", env={"PATH": "/bin"})
    dtz = ca.daemon_timezone(proc=str(proc), etc=str(fake_etc(tmp_path / "etc", "Europe/Berlin")))
    assert dtz.name == "Europe/Berlin" and "has no TZ" in dtz.source
    etc2 = fake_etc(tmp_path / "etc2", None, "Asia/Tokyo")
    assert ca.daemon_timezone(proc=str(proc), etc=str(etc2)).name == "Asia/Tokyo"
    assert ca.daemon_timezone(proc=str(proc), etc=str(tmp_path / "none")).name == "UTC"


def test_a_daemon_whose_environment_is_unreadable_is_still_a_running_daemon(tmp_path):
    proc = tmp_path / "proc"
    fake_proc(proc, 400, "cron", env={"TZ": "America/New_York"})
    (proc / "400" / "environ").chmod(0)  # root's daemon, read by the box user
    if os.access(proc / "400" / "environ", os.R_OK):
        (proc / "400" / "environ").unlink()  # root reads anything: the file is gone instead
    dtz = ca.daemon_timezone(proc=str(proc), etc=str(fake_etc(tmp_path / "etc", "Europe/Berlin")))
    assert dtz.daemon_pids == [400] and dtz.name == "Europe/Berlin"
    assert "cron (pid 400) runs, its environment unreadable" in dtz.source and "ccci_cron_timezone" in dtz.source


def test_no_daemon_and_override(tmp_path):
    proc = tmp_path / "proc"
    proc.mkdir()
    dtz = ca.daemon_timezone(proc=str(proc), etc=str(fake_etc(tmp_path / "etc", "Etc/UTC")))
    assert dtz.daemon_pids == [] and "no cron daemon running" in dtz.source
    assert ca.daemon_timezone(proc=str(proc), override="Europe/Paris").source == "given"
    with pytest.raises(ValueError, match="unknown timezone"):
        ca.daemon_timezone(proc=str(proc), override="Mars/Olympus")
