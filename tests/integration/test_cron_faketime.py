# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Debian's cron across a clock change, under libfaketime: T0 fires once across spring forward and
fall back. The faked daemon runs in a private mount namespace with its own spool, so unlike
test_cron_daemon.py it shares nothing with root's crontab or the real daemon and runs beside the
other integration tests (it mostly sleeps).

Needs root, Debian's faketime, unshare and cron (skips with the reason otherwise).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAEMON_TZ = "America/New_York"

pytestmark = pytest.mark.slow


# -- Debian's cron across a clock change, under libfaketime ----------------------------------------------
#
# Feasible: libfaketime (Debian's `faketime`) speeds up both the clock cron reads and the sleep() it
# waits with, so `cron -f` under FAKETIME="@<start> x30" lives an hour in two real minutes and crosses a
# DST change like a daemon on a box. It runs in a private mount namespace (unshare -m) with its own
# spool, /etc/cron.d, /etc/crontab and /run, so it neither sees root's real crontab nor collides with
# the real daemon's pid file. Its jobs do not inherit LD_PRELOAD (cron builds their environment), so
# they stamp real time; the test maps it back to fake time from the daemon's start (error well under
# the minute that matters: one fake minute is two real seconds).

SPEED = 30
FAKELIB = "/usr/$LIB/faketime/libfaketime.so.1"


def _fake_cron(tmp_path: Path, start: datetime, tz: str, schedules: dict[str, str], fake_minutes: int) -> dict:
    """Run Debian's cron under libfaketime from *start* for *fake_minutes*; return each label's fires
    (fake time, UTC)."""
    log = tmp_path / "fires.log"
    lines = [f"{schedule} echo {label} $(date +\\%s.\\%N) >> {log}" for label, schedule in schedules.items()]
    tab = tmp_path / "root.tab"
    tab.write_text("\n".join(lines) + "\n")
    empty = tmp_path / "empty"
    empty.write_text("")
    tmp_path.chmod(0o755)
    script = (
        "set -e; mount -t tmpfs -o mode=0755 tmpfs /run; "
        "mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs; "
        f"install -m 600 -o root {tab} /var/spool/cron/crontabs/root; "
        "mount -t tmpfs tmpfs /etc/cron.d; "
        f"mount --bind {empty} /etc/crontab; "
        f"exec env -i TZ={tz} PATH=/usr/bin:/bin LD_PRELOAD='{FAKELIB}' "
        f"FAKETIME='@{start.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S} x{SPEED}' /usr/sbin/cron -f -L 0"
    )
    real0 = time.time()
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(fake_minutes * 60 / SPEED + 2)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    fires: dict[str, list[datetime]] = {label: [] for label in schedules}
    text = log.read_text() if log.exists() else ""
    assert text, f"the faked cron ran no job: {out[-1000:]}"
    for line in text.splitlines():
        label, real = line.split()
        fake = start.timestamp() + (float(real) - real0) * SPEED
        fires[label].append(datetime.fromtimestamp(fake, ZoneInfo("UTC")))
    return fires


@pytest.fixture
def faketime_ready():
    if os.geteuid() != 0:
        pytest.skip("needs root (a private mount namespace for the faked daemon)")
    if not shutil.which("faketime") or not shutil.which("unshare") or not Path("/usr/sbin/cron").exists():
        pytest.skip("needs Debian's faketime, unshare and cron (make bootstrap installs them as root)")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")


def _assert_fires(fires: dict, label: str, want: datetime | None, tolerance: float = 30) -> None:
    got = fires[label]
    if want is None:
        assert got == [], (label, got)
        return
    assert got, (label, "did not fire; want", want)
    gap = (got[0] - want).total_seconds()
    assert 0 <= gap < tolerance, (label, [g.isoformat() for g in got], want.isoformat())
    assert len(got) == 1, (label, "fired more than once", [g.isoformat() for g in got])


def test_faked_cron_fires_at_t0_across_spring_forward(faketime_ready, tmp_path):
    """New York, 2027-03-14 02:00 EST -> 03:00 EDT: T0 = completion + 2 min lands on 03:00 EDT on absolute
    time; Debian's cron fires its entry there, once. The wall-clock entry of the old code (02:30, a time
    that does not exist) runs 'soon after the change', at 03:00 too: the model says so and cron agrees."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor as ca

    start = datetime(2027, 3, 14, 6, 58, tzinfo=ZoneInfo("UTC"))  # 01:58 EST
    anchor = ca.compute_anchor(start, 120, DAEMON_TZ, now=start)
    assert anchor.t0.isoformat() == "2027-03-14T03:00:00-04:00" and anchor.schedule == "0 3 * * 0"
    schedules = {"t0": anchor.schedule, "gap": "30 2 * * 0", "tick": "* * * * *"}
    fires = _fake_cron(tmp_path, start, DAEMON_TZ, schedules, fake_minutes=5)
    _assert_fires(fires, "t0", anchor.t0)
    model_gap = ca.next_fire("30 2 * * 0", start, DAEMON_TZ, daemon_start=start)
    _assert_fires(fires, "gap", model_gap)
    print(f"\nspring forward: T0 {anchor.t0.isoformat()} fired {fires['t0'][0].astimezone(ZoneInfo(DAEMON_TZ)).isoformat()}"
          f"; 02:30 entry fired {fires['gap'][0].astimezone(ZoneInfo(DAEMON_TZ)).isoformat()}")


def test_faked_cron_fires_at_moved_t0_across_fall_back(faketime_ready, tmp_path):
    """New York, 2027-11-07 02:00 EDT -> 01:00 EST: completion + 1 h is the second 01:10, which Debian's
    cron never runs a fixed-time job at; T0 moves to 02:00 EST and cron fires it there, once. The unmoved
    entry stays silent through the repeated hour, and an 01:59 entry runs in the first pass only."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor as ca

    completion = datetime(2027, 11, 7, 5, 10, tzinfo=ZoneInfo("UTC"))
    anchor = ca.compute_anchor(completion, 3600, DAEMON_TZ, now=completion)
    assert anchor.t0.isoformat() == "2027-11-07T02:00:00-05:00" and "happens twice" in anchor.calendar_note
    start = datetime(2027, 11, 7, 5, 57, tzinfo=ZoneInfo("UTC"))  # 01:57 EDT, before the first 01:59
    schedules = {"t0": anchor.schedule, "unmoved": "10 1 * * 0", "first_pass": "59 1 * * 0", "tick": "* * * * *"}
    fires = _fake_cron(tmp_path, start, DAEMON_TZ, schedules, fake_minutes=66)
    _assert_fires(fires, "t0", anchor.t0)
    _assert_fires(fires, "unmoved", None)
    _assert_fires(fires, "first_pass", datetime(2027, 11, 7, 5, 59, tzinfo=ZoneInfo("UTC")))
    assert len(fires["tick"]) >= 60  # the wildcard job ran through both passes of the hour
    print(f"\nfall back: T0 {anchor.t0.isoformat()} fired {fires['t0'][0].astimezone(ZoneInfo(DAEMON_TZ)).isoformat()}"
          f"; ticks {len(fires['tick'])}")
