#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: cron_first_fire
short_description: Observe the weekly job's first fire at T0
version_added: 0.1.0
description:
  - Watches for the evidence that the entry of M(coopcloud.cc_ci.completion_cron) really fired at T0 -
    the job's own C(fired) line in its log with a timestamp in the T0 minute, the launcher's
    C(start:) line in C(launcher.log), the C(cc-ci-upgrader) session seen RUNNING (or already IDLE
    with this run's summary), C(/upgrade-all) on the session's pane, and a summary C(upgrade-all-*.md)
    written after T0.
  - Each call waits at most O(wait_seconds), then returns RV(done). Loop it with C(until) so the
    play shows progress; RV(timeline) lists what was seen when, and O(progress_log) gets one line per
    observation.
  - Passing time is never evidence. When T0 + O(grace) passes without the fired line (or T0 + O(grace) +
    O(summary_wait) without a summary), RV(done=true) and RV(passed=false) with a diagnosis - no cron
    daemon running, the daemon started after T0, the entry missing from the daemon's crontab, the
    daemon in another timezone, the job fired but the launcher failed, a session left busy. A session
    started at T0 that is not RUNNING, its pane quiet for 30 s, with no summary is a run that ended without
    one, and RV(done=true) comes then, not after O(summary_wait).
  - A passed observation is recorded in O(state_file); later runs for the same T0 re-read the log
    lines it rests on and return the record (RV(cached=true)).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  t0:
    description: T0, ISO 8601 with offset (RV(coopcloud.cc_ci.completion_cron#module:anchor.t0)).
    type: str
    required: true
  grace:
    description: Seconds after T0 by which the fire must be seen.
    type: int
    default: 120
  summary_wait:
    description: Seconds after T0 + O(grace) to wait for the run's summary.
    type: int
    default: 600
  require_summary:
    description: Whether a summary is required for a pass.
    type: bool
    default: true
  wait_seconds:
    description: The longest this call waits before returning RV(done=false) (0 looks once).
    type: int
    default: 30
  log:
    description: The job's log (C(<root>/.cc-ci-logs/upgrades/cron.log)).
    type: path
    required: true
  launcher_log:
    description: The launcher's log. Default C(launcher.log) next to O(log).
    type: path
  summary_dir:
    description: Where summaries go. Default the folder of O(log).
    type: path
  launcher:
    description: C(launch-upgrader.sh), asked for C(status) in the job's environment.
    type: path
    required: true
  user:
    description: The crontab's user. Default the user running the module.
    type: str
  tabfile:
    description: The entry lives in this file instead of a user's crontab (it then cannot fire).
    type: path
  spool_dir:
    description: Where the daemon reads users' crontabs.
    type: path
    default: /var/spool/cron/crontabs
  marker_id:
    description: The entry's marker id.
    type: str
    default: ccci-upgrade-all
  state_file:
    description: The state file of M(coopcloud.cc_ci.completion_cron); a pass is recorded there.
    type: path
  progress_log:
    description: Append one line per observation here (C(tail -f) it to watch).
    type: path
  since:
    description:
      - When this run began (ISO 8601 or unix seconds). A T0 whose grace had already ended by then, with
        no fire for it in the job's log, is reported at once (RV(t0_passed=true)) with what to do - re-anchor,
        or the date of the next weekly fire - instead of waiting for a minute that has passed.
    type: str
  timezone:
    description: The cron daemon's timezone, for the date of the next fire. Default found on the machine.
    type: str
attributes:
  check_mode:
    support: full
    details: It only observes (the record in O(state_file) is not written in check mode).
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Wait for the first fire at T0 (progress in cron-first-fire.log)
  coopcloud.cc_ci.cron_first_fire:
    t0: "{{ cron_entry.anchor.t0 }}"
    grace: 120
    launcher: /srv/cc-ci/cc-ci-plan/launch-upgrader.sh
    log: /srv/cc-ci/.cc-ci-logs/upgrades/cron.log
    user: cc-ci
    progress_log: /srv/cc-ci/.cc-ci-logs/upgrades/cron-first-fire.log
  register: fire
  until: fire.done
  retries: 200
  delay: 0
"""

RETURN = r"""
done:
  description: Whether the observation is over (passed, or failed for good).
  type: bool
  returned: always
passed:
  description: The fire was observed with all its evidence.
  type: bool
  returned: always
diagnosis:
  description: Why it did not pass (empty when it did or is not done).
  type: str
  returned: always
fired_at:
  description: The timestamp of the job's fired line.
  type: str
  returned: always
gap_seconds:
  description: Seconds from T0 to the fired line.
  type: float
  returned: always
launcher_line:
  description: The launcher's C(start:) line after T0.
  type: str
  returned: always
launcher_rc:
  description: The launcher's exit code from the job's log.
  type: int
  returned: always
session_status:
  description: The first session status seen after the fire.
  type: str
  returned: always
seen_at:
  description: When the session status was first seen after the fire.
  type: str
  returned: always
ran_upgrade_all:
  description: Whether C(/upgrade-all) was seen on the session's pane or a summary came after T0.
  type: bool
  returned: always
summary:
  description: The summary written after T0.
  type: str
  returned: always
timeline:
  description: What was seen, with times.
  type: list
  elements: str
  returned: always
remaining:
  description: Seconds left until the observation gives up.
  type: float
  returned: always
cached:
  description: The result is the recorded pass of an earlier run for this T0.
  type: bool
  returned: always
t0_passed:
  description: T0 had passed before this run began and the job's log holds no fire for it.
  type: bool
  returned: always
next_fire:
  description: The entry's next weekly fire (Debian cron's rules), ISO 8601; set when RV(t0_passed).
  type: str
  returned: always
"""

import glob
import os
import re
import shlex
import subprocess
import time
from datetime import datetime, timedelta, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor, cron_entry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import read_state, utc_now, write_state
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span

# What Watch keeps for itself, not returned.
_INTERNAL = ("last_status", "job_output", "other_fires", "stale_session", "no_session", "no_summary")
# Seconds a session started at T0 may sit not RUNNING with a quiet pane and no summary before the run
# counts as ended without one (it writes its summary before it goes idle): summary_wait would wait for nothing.
IDLE_SETTLE = 30
_ISO = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:?\d\d)?)"


def _iso(text):
    return cron_anchor.parse_time(text)


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


class Watch:
    """One observation of the first fire."""

    def __init__(self, module):
        p = module.params
        self.p = p
        self.module = module
        self.t0 = _iso(p["t0"])
        self.user = p["user"] or __import__("pwd").getpwuid(os.getuid()).pw_name
        self.summary_dir = p["summary_dir"] or os.path.dirname(p["log"])
        self.launcher_log = p["launcher_log"] or os.path.join(os.path.dirname(p["log"]), "launcher.log")
        self.timeline: list[str] = []
        self.env = None
        self.entry_error = None
        io = cron_entry.CrontabIO(user=None if p["tabfile"] else self.user, tabfile=p["tabfile"])
        try:
            self.env, _command = cron_entry.effective_env(io.read(), self.user, p["marker_id"], owner=p["launcher"])
        except cron_entry.CrontabError as exc:
            self.entry_error = f"{exc} ({io.where})"
        self.r = {"fired_at": None, "gap_seconds": None, "launcher_line": None, "launcher_rc": None,
                  "session_status": None, "seen_at": None, "ran_upgrade_all": False, "summary": None,
                  "other_fires": []}

    def note(self, text):
        stamp = utc_now().replace(microsecond=0).isoformat()
        line = f"{stamp} {text}"
        self.timeline.append(line)
        if self.p["progress_log"] and not self.module.check_mode:
            try:
                with open(self.p["progress_log"], "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            except OSError:
                pass

    def look(self):
        """Read the logs and the session; fill self.r; return True when everything is there."""
        p, r = self.p, self.r
        marker = re.escape(p["marker_id"])
        t0_end = self.t0 + timedelta(seconds=60)
        fired_re = re.compile(rf"^{_ISO} {marker} start: fired")
        exit_re = re.compile(rf"^{_ISO} {marker} start: exit (\d+)")
        lines = read_lines(p["log"])
        fired_index = None
        for i, line in enumerate(lines):
            m = fired_re.match(line)
            if not m:
                continue
            when = _iso(m.group(1))
            if self.t0 <= when < t0_end and r["fired_at"] is None:
                r["fired_at"] = when.isoformat()
                r["gap_seconds"] = round((when - self.t0).total_seconds(), 3)
                fired_index = i
                self.note(f"job fired: {line}")
            elif when >= self.t0 - timedelta(hours=14) and line not in r["other_fires"]:
                r["other_fires"].append(line)
        if fired_index is not None and r["launcher_rc"] is None:
            for line in lines[fired_index + 1:]:
                m = exit_re.match(line)
                if m:
                    r["launcher_rc"] = int(m.group(2))
                    self.note(f"launcher exited {r['launcher_rc']}")
                    break
            r["job_output"] = "\n".join(lines[fired_index:fired_index + 20])
        if r["launcher_line"] is None:
            for line in read_lines(self.launcher_log):
                m = re.match(rf"^{_ISO} start: (\S+)", line)
                if m and self.t0 - timedelta(seconds=1) <= _iso(m.group(1)) < self.t0 + timedelta(seconds=p["grace"]):
                    r["launcher_line"] = line
                    self.note(f"launcher: {line}")
                    break
        if r["fired_at"] and self.env is not None:
            rc, out = cron_entry.run_as_cron(f"{shlex.quote(p['launcher'])} status", self.env, self.user, timeout=30)
            status = out.strip().splitlines()[-1] if out.strip() else f"(status rc {rc})"
            if r["session_status"] is None or status != r.get("last_status"):
                if r["session_status"] is None:
                    r["session_status"] = status
                    r["seen_at"] = utc_now().replace(microsecond=0).isoformat()
                self.note(f"session: {status}")
            r["last_status"] = status
            if status.endswith("RUNNING") and "RUNNING" not in (r["session_status"] or ""):
                r["session_status"] = status
                r["seen_at"] = utc_now().replace(microsecond=0).isoformat()
            created = self.session_created()
            started = bool(r["launcher_line"]) and " start: busy" not in r["launcher_line"]
            if started and r["launcher_rc"] == 0 and not status.endswith("RUNNING") and r["summary"] is None:
                fired = _iso(r["fired_at"])
                if created is not None and created < self.t0.timestamp() - 1 and not r.get("stale_session"):
                    r["stale_session"] = datetime.fromtimestamp(created, timezone.utc).isoformat()
                    self.note(f"the session ({status}) was created at {r['stale_session']}, before T0")
                elif created is None and (utc_now() - fired).total_seconds() > 30 and not r.get("no_session"):
                    r["no_session"] = True
                    self.note("no cc-ci-upgrader session 30 s after the fire")
            fresh_pane = created is not None and created >= self.t0.timestamp() - 1
            if (fresh_pane and r["launcher_rc"] == 0 and not status.endswith("RUNNING") and not r.get("no_summary")
                    and self.find_summary() is None):
                quiet = time.time() - (self.session_time("window_activity") or time.time())
                if quiet > IDLE_SETTLE:  # the run ended (its pane quiet, not RUNNING): no summary is coming
                    r["no_summary"] = status
                    self.note(f"the session is {status}, its pane quiet for {quiet:.0f} s, without a summary")
            if not r["ran_upgrade_all"] and fresh_pane and self.pane_has_upgrade_all():
                r["ran_upgrade_all"] = True
                self.note("pane shows /upgrade-all")
        self.find_summary()
        return self.complete()

    def find_summary(self):
        """The first upgrade-all-*.md written after T0 (kept in r["summary"]), or None."""
        r = self.r
        if r["summary"] is None:
            new = [f for f in glob.glob(os.path.join(self.summary_dir, "upgrade-all-*.md"))
                   if os.path.getmtime(f) >= self.t0.timestamp()]
            if new:
                r["summary"] = sorted(new, key=os.path.getmtime)[0]
                r["ran_upgrade_all"] = True
                self.note(f"summary: {r['summary']}")
        return r["summary"]

    def session_created(self):
        """Unix time the cc-ci-upgrader tmux session was created (None: no session)."""
        return self.session_time("session_created")

    def session_time(self, name):
        """A unix time tmux keeps for the cc-ci-upgrader session (session_created; window_activity: its pane last wrote)."""
        try:
            out = subprocess.run(["tmux", "display-message", "-p", "-t", "=cc-ci-upgrader:", "#{%s}" % name],
                                 env=dict(self.env), capture_output=True, text=True, timeout=10, check=False,
                                 **cron_entry.user_kwargs(self.user)).stdout.strip()
        except (OSError, subprocess.TimeoutExpired, cron_entry.CrontabError):
            return None
        return int(out) if out.isdigit() else None

    def pane_has_upgrade_all(self):
        env = dict(self.env)
        try:
            kwargs = cron_entry.user_kwargs(self.user)
            out = subprocess.run(["tmux", "capture-pane", "-p", "-S", "-200", "-t", "=cc-ci-upgrader:"], env=env,
                                 capture_output=True, text=True, timeout=10, check=False, **kwargs).stdout
        except (OSError, subprocess.TimeoutExpired, cron_entry.CrontabError):
            return False
        return "/upgrade-all" in out

    def session_ok(self):
        status = self.r["session_status"] or ""
        return status.endswith("RUNNING") or (status.endswith("IDLE") and self.r["summary"] is not None)

    def complete(self):
        r = self.r
        fired = r["fired_at"] is not None and r["launcher_rc"] == 0
        started = bool(r["launcher_line"]) and " start: busy" not in r["launcher_line"]
        summary_ok = r["summary"] is not None or not self.p["require_summary"]
        return fired and started and self.session_ok() and r["ran_upgrade_all"] and summary_ok

    def diagnose(self):
        """Why the fire was not observed: the most basic cause first."""
        p, r = self.p, self.r
        problems = []
        if self.entry_error:
            problems.append(f"the entry is gone: {self.entry_error}")
        if r["fired_at"] is None:
            pids = cron_anchor.cron_daemons()
            if p["tabfile"]:
                problems.append(f"the entry lives in {p['tabfile']}, which no cron daemon reads")
            elif not pids:
                problems.append("no cron daemon is running: start cron (systemctl enable --now cron)")
            else:
                started = _daemon_start(pids[0])
                if started and started > self.t0.timestamp():
                    problems.append(f"the cron daemon (pid {pids[0]}) started after T0")
                spool = os.path.join(p["spool_dir"], self.user)
                if os.access(spool, os.R_OK):
                    text = "\n".join(read_lines(spool))
                else:  # the spool is root's (crontab group, no read): the user's crontab -l is the same text
                    try:
                        text = cron_entry.CrontabIO(user=self.user).read()
                    except cron_entry.CrontabError as exc:
                        text = ""
                        problems.append(f"cannot read the daemon's crontab {spool} nor crontab -l: {exc}")
                if not cron_entry.locate(text.split("\n"), p["marker_id"], p["launcher"]).job_indexes:
                    problems.append(f"the entry is not in the daemon's crontab {spool} (the crontab of {self.user})")
                try:
                    dtz = cron_anchor.daemon_timezone()
                    here = self.t0.astimezone(cron_anchor.zone(dtz.name))
                    if here.utcoffset() != self.t0.utcoffset():
                        problems.append(f"the daemon runs in {dtz.name} ({dtz.source}) but the entry was anchored "
                                        f"at {self.t0.isoformat()}: its slot is {here:%H:%M} on the daemon's clock")
                except (ValueError, OSError):
                    pass
                if r["other_fires"]:
                    problems.append(f"the job fired outside the T0 minute: {r['other_fires'][-1]}")
                if not problems:
                    problems.append(f"no '{p['marker_id']} start: fired' line in {p['log']} for the T0 minute "
                                    f"although the daemon (pid {pids[0]}) runs and holds the entry: see the daemon's "
                                    "log (syslog) for a job that could not start")
        elif r["launcher_rc"] is None:
            problems.append(f"the job fired at {r['fired_at']} but never reported the launcher's exit: "
                            f"{(r.get('job_output') or '').strip()[-300:]}")
        elif r.get("stale_session") or r.get("no_session"):
            which = (f"the cc-ci-upgrader session is the one created at {r['stale_session']}, before T0 "
                     f"({r['session_status']})" if r.get("stale_session") else "no cc-ci-upgrader session exists")
            problems.append(f"the job fired at {r['fired_at']} and the launcher exited 0 ({r['launcher_line']}), but "
                            f"it started no run of /upgrade-all: {which}")
        elif r.get("no_summary"):
            problems.append(f"the job fired at {r['fired_at']} and the launcher started a session ({r['launcher_line']}), "
                            f"but the run ended without a summary: the session is {r['no_summary']} and no "
                            f"upgrade-all-*.md after T0 appeared in {self.summary_dir} within {IDLE_SETTLE} s")
        elif r["launcher_rc"] != 0:
            problems.append(f"the job fired at {r['fired_at']} but the launcher failed (exit {r['launcher_rc']}): "
                            f"{(r.get('job_output') or '').strip()[-300:]}")
        else:
            if not r["launcher_line"]:
                problems.append(f"the launcher logged no 'start:' line in {self.launcher_log} after T0")
            elif " start: busy" in r["launcher_line"]:
                problems.append("a cc-ci-upgrader session was still RUNNING at T0, so the fire left it alone "
                                f"({r['launcher_line']})")
            if not self.session_ok():
                problems.append(f"the upgrader session was not seen RUNNING (status {r['session_status']})")
            if not r["ran_upgrade_all"]:
                problems.append("/upgrade-all was not seen on the session's pane")
            if self.p["require_summary"] and r["summary"] is None:
                problems.append(f"no upgrade-all-*.md summary after T0 in {self.summary_dir}")
        return "; ".join(problems)


def _daemon_start(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            stat = fh.read()
        ticks = int(stat[stat.rfind(")") + 2:].split()[19])
        with open("/proc/stat", encoding="utf-8") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            t0=dict(type="str", required=True),
            grace=dict(type="int", default=120),
            summary_wait=dict(type="int", default=600),
            require_summary=dict(type="bool", default=True),
            wait_seconds=dict(type="int", default=30),
            log=dict(type="path", required=True),
            launcher_log=dict(type="path"),
            summary_dir=dict(type="path"),
            launcher=dict(type="path", required=True),
            user=dict(type="str"),
            tabfile=dict(type="path"),
            spool_dir=dict(type="path", default="/var/spool/cron/crontabs"),
            since=dict(type="str"),
            timezone=dict(type="str"),
            marker_id=dict(type="str", default="ccci-upgrade-all"),
            state_file=dict(type="path"),
            progress_log=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        watch = Watch(module)
    except ValueError:
        module.fail_json(msg=f"t0 {p['t0']!r} is not an ISO 8601 time")
    t0 = watch.t0
    fire_deadline = t0 + timedelta(seconds=p["grace"])
    final_deadline = fire_deadline + timedelta(seconds=p["summary_wait"] if p["require_summary"] else 0)

    state = read_state(p["state_file"]) if p["state_file"] else {}
    rec = state.get("first_fire") or {}
    if rec.get("t0") == t0.isoformat() and rec.get("passed"):
        fired_line = rec.get("fired_line") or ""
        if fired_line and fired_line in read_lines(p["log"]):
            module.exit_json(changed=False, cached=True, done=True, passed=True, diagnosis="", t0_passed=False,
                             next_fire=None,
                             timeline=rec.get("timeline", []), remaining=0.0,
                             **{k: rec.get(k) for k in ("fired_at", "gap_seconds", "launcher_line", "launcher_rc",
                                                        "session_status", "seen_at", "ran_upgrade_all", "summary")})

    since = None
    if p["since"]:
        try:
            since = cron_anchor.parse_time(p["since"])
        except ValueError:
            module.fail_json(msg=f"since {p['since']!r} is not an ISO 8601 time or unix seconds")
    if since is not None and since > fire_deadline:
        watch.look()
        if watch.r["fired_at"] is None:
            try:
                tz_name = p["timezone"] or cron_anchor.daemon_timezone().name
                nxt = cron_anchor.next_fires(cron_anchor.schedule_for(t0.astimezone(cron_anchor.zone(tz_name))),
                                             tz_name, after=utc_now(), count=1)
            except (ValueError, OSError):
                nxt = []
            when = nxt[0].isoformat() if nxt else "unknown"
            diagnosis = (f"T0 {t0.isoformat()} had passed before this run began and {p['log']} holds no fire for it: "
                         "the first fire was not recorded and cannot be observed now. Re-run with "
                         f"-e ccci_cron_reanchor=true to anchor a new first fire at now + the offset, or run "
                         f"install-cron.yml again after the next weekly fire, {when}")
            watch.note(f"not observed: {diagnosis}")
            module.exit_json(changed=False, cached=False, done=True, passed=False, diagnosis=diagnosis,
                             timeline=watch.timeline, remaining=0.0, t0_passed=True, next_fire=when,
                             other_fires=watch.r["other_fires"],
                             **{k: v for k, v in watch.r.items()
                                if k not in _INTERNAL})

    budget_end = time.monotonic() + max(p["wait_seconds"], 0)
    if utc_now() < t0:
        watch.note(f"waiting for T0 {t0.isoformat()} ({(t0 - utc_now()).total_seconds():.0f} s)")
    passed = False
    with Span("cron", f"the first fire at T0 {t0.strftime('%H:%M:%S')}", t0=t0.isoformat()) as span:
        while True:
            passed = watch.look()
            now = utc_now()
            span.state("fired" if watch.r["fired_at"] else ("T0 passed" if now >= t0 else "before T0"))
            if passed:
                break
            if now > final_deadline or (now > fire_deadline and watch.r["fired_at"] is None):
                break
            if now > fire_deadline and watch.r["launcher_rc"] not in (None, 0):
                break
            if watch.r.get("stale_session") or watch.r.get("no_session") or watch.r.get("no_summary"):
                break
            if time.monotonic() >= budget_end:
                break
            time.sleep(min(2.0, max(0.2, budget_end - time.monotonic())))
        span.set(fired_at=watch.r["fired_at"])
    now = utc_now()
    done = passed or now > final_deadline or bool(watch.r.get("stale_session") or watch.r.get("no_session")
                                                  or watch.r.get("no_summary")) or (
        now > fire_deadline and (watch.r["fired_at"] is None or watch.r["launcher_rc"] not in (None, 0)))
    diagnosis = "" if passed or not done else watch.diagnose()
    if done and not passed:
        watch.note(f"not observed: {diagnosis}")
    elif not done:
        watch.note(f"still waiting ({(final_deadline - now).total_seconds():.0f} s left)")
    r = {k: v for k, v in watch.r.items()
         if k not in _INTERNAL}
    changed = False
    if passed and p["state_file"] and not module.check_mode:
        fired_line = next((ln for ln in read_lines(p["log"]) if ln.startswith(r["fired_at"][:19])
                           and "start: fired" in ln), None)
        fresh = read_state(p["state_file"])
        fresh["first_fire"] = dict(r, t0=t0.isoformat(), passed=True, fired_line=fired_line, timeline=watch.timeline)
        try:
            write_state(p["state_file"], fresh)
            changed = True
        except OSError as exc:
            watch.note(f"cannot record the observation in {p['state_file']}: {exc}")
    module.exit_json(changed=changed, cached=False, done=done, passed=passed, diagnosis=diagnosis,
                     t0_passed=False, next_fire=None, timeline=watch.timeline, remaining=round(max((final_deadline - now).total_seconds(), 0), 1),
                     other_fires=watch.r["other_fires"], **r)


if __name__ == "__main__":
    main()
