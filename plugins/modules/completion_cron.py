#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: completion_cron
short_description: The completion-anchored weekly /upgrade-all crontab entry
version_added: 0.1.0
description:
  - Installs one weekly crontab entry C(MM HH * * DOW) that runs C(<launcher> start) (the
    C(cc-ci-upgrader) agent running C(/upgrade-all)), anchored to completion - T0 = O(completion) +
    O(offset), rounded up to the minute, on the wall clock of the cron daemon's timezone (the C(TZ)
    of the running daemon, else the system zone; never assumed UTC). The first fire is at T0, then
    every 7 days at that slot.
  - When T0 has already passed (or is under O(min_lead) seconds away) as the entry is put in place,
    T0 moves to the next slot that still gives a first fire O(offset) seconds out, and RV(notes) says so.
  - The entry's environment mirrors the service O(loops_unit) (C(cc-ci-loops.service)), which is what
    the box's agent loops run with - read from systemd (C(systemctl show)) where it runs, else parsed
    from the unit file as systemd does (several C(Environment=) lines and assignments per line,
    quotes, escapes, C(EnvironmentFile=) with and without C(-), later assignments win, environment
    files override C(Environment=)). The crontab gets C(SHELL=/bin/sh), C(PATH) (the unit's, else
    systemd's default), C(HOME) (the unit's, else the passwd home of its C(User=)), every other
    variable of the unit, then O(extra_env). The crontab is the unit's C(User=)'s unless O(user) says otherwise.
  - The entry is a marker-delimited block found by its marker comment id
    (C(ccci-upgrade-all anchor=<T0 ISO 8601>)); it is never duplicated and every other line of the
    crontab stays byte for byte as it was. Re-running keeps the anchor (from the marker, else the
    state file) and changes nothing unless O(reanchor=true) or the unit's environment changed.
  - Values of variables whose name looks secret (C(TOKEN), C(SECRET), C(PASSWORD), C(KEY), C(AUTH),
    C(CREDENTIAL), or listed in O(secret_keys)) are written to the crontab but masked in the diff
    and in everything returned.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
requirements:
  - python-crontab on the controller (the action plugin reads the written job line back with it); the box
    needs only its own C(python3) and C(crontab).
options:
  state:
    description: V(present) installs or updates the entry; V(absent) removes it and the state file.
    type: str
    choices: [present, absent]
    default: present
  loops_unit:
    description:
      - The service whose environment the job mirrors - a unit name (C(cc-ci-loops.service)) or the
        path of its unit file (variable C(ccci_loops_unit)). Required with O(state=present).
    type: str
  unit_source:
    description:
      - Where to read O(loops_unit) from. V(auto) asks systemd for a unit name when systemd runs,
        else reads the file (a name is looked up in systemd's unit folders).
    type: str
    choices: [auto, systemd, file]
    default: auto
  user:
    description:
      - Whose crontab gets the entry (and as whom the job runs). Default the unit's C(User=), else the
        user running the module. Writing another user's crontab needs root.
    type: str
  tabfile:
    description: Write this file instead of a user's crontab (tests; a file the daemon does not read).
    type: path
  launcher:
    description: Path of C(launch-upgrader.sh) (variable C(ccci_launcher)). Required with O(state=present).
    type: path
  root:
    description: The orchestration repo (variable C(ccci_root)); the log goes under C(<root>/.cc-ci-logs/upgrades/).
    type: path
  log:
    description: The job's log file. Default C(<root>/.cc-ci-logs/upgrades/cron.log).
    type: path
  offset:
    description: Seconds from completion to the first fire.
    type: int
    default: 3600
  completion:
    description:
      - The completion time (ISO 8601, naive = UTC, or unix seconds). Default now. Only used when a new
        anchor is computed.
    type: str
  min_lead:
    description: A T0 less than this many seconds away counts as passed (the entry must be in place before the minute).
    type: int
    default: 30
  reanchor:
    description: Compute a new anchor even when the entry or the state file has one.
    type: bool
    default: false
  timezone:
    description: The cron daemon's timezone. Default found on the machine (daemon's C(TZ), C(/etc/localtime), C(/etc/timezone), UTC).
    type: str
  env_exclude:
    description: Variables of the unit not to put into the crontab.
    type: list
    elements: str
    default: []
  extra_env:
    description: More variables for the job; they win over the unit's.
    type: dict
    default: {}
  secret_keys:
    description: More variable names whose values are masked.
    type: list
    elements: str
    default: []
  state_file:
    description:
      - A small JSON file that keeps the anchor, the schedule and the timezone (the pre-check and the
        first-fire observation add theirs). Removed with O(state=absent).
    type: path
  marker_id:
    description: The entry's marker id.
    type: str
    default: ccci-upgrade-all
attributes:
  action:
    description: Runs an action plugin on the controller that checks the job line with python-crontab.
    support: full
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff is the crontab before and after, with secret values masked.
notes:
  - Vixie/Debian cron has one timezone (no C(CRON_TZ)); a variable line applies to every later line of
    the crontab, so the block is appended at the end of a crontab that has none.
seealso:
  - module: coopcloud.cc_ci.cron_precheck
  - module: coopcloud.cc_ci.cron_first_fire
"""

EXAMPLES = r"""
- name: Install the weekly /upgrade-all job, first fire an hour after completion
  coopcloud.cc_ci.completion_cron:
    loops_unit: cc-ci-loops.service
    launcher: /srv/cc-ci/cc-ci-plan/launch-upgrader.sh
    root: /srv/cc-ci
    offset: 3600
    state_file: /srv/cc-ci/.cc-ci-logs/upgrades/ccci-cron.json
  register: cron_entry

- name: Show the schedule
  ansible.builtin.debug:
    msg: "{{ cron_entry.schedule }} (T0 {{ cron_entry.anchor.t0 }}, {{ cron_entry.anchor.tz }})"

- name: Move the anchor to now + 1 h
  coopcloud.cc_ci.completion_cron:
    loops_unit: /etc/systemd/system/cc-ci-loops.service
    launcher: /srv/cc-ci/cc-ci-plan/launch-upgrader.sh
    root: /srv/cc-ci
    reanchor: true

- name: Remove it
  coopcloud.cc_ci.completion_cron:
    state: absent
    user: cc-ci
"""

RETURN = r"""
schedule:
  description: The cron schedule C(MM HH * * DOW) on the daemon's wall clock.
  type: str
  returned: state=present
  sample: 5 21 * * 1
line:
  description: The job line as written (it carries no variable values).
  type: str
  returned: state=present
command:
  description: The job's command, as cron hands it to C(/bin/sh -c) (the line's command with C(\%) read back as C(%)).
  type: str
  returned: state=present
block:
  description: The managed block as written, secret values masked.
  type: list
  elements: str
  returned: state=present
anchor:
  description: T0 and how it was chosen.
  type: dict
  returned: state=present
  contains:
    t0:
      description: T0, ISO 8601 with the daemon's UTC offset.
      type: str
      sample: "2026-11-23T21:05:00-05:00"
    t0_epoch:
      description: T0 in unix seconds.
      type: float
    tz:
      description: The daemon's timezone name.
      type: str
    tz_source:
      description: Where the timezone was found.
      type: str
    daemon_pids:
      description: Running cron daemons.
      type: list
      elements: int
    source:
      description: C(marker), C(state_file) or C(computed).
      type: str
    moved:
      description: Whether T0 moved because its slot had passed.
      type: bool
next_fires:
  description: The next three fires by Debian cron's rules (DST included), ISO 8601.
  type: list
  elements: str
  returned: state=present
env:
  description: The variables the crontab gives the job, secret values masked (those of RV(sourced) files are not among them).
  type: dict
  returned: state=present
sourced:
  description:
    - The unit's EnvironmentFiles the job reads at each fire (C(set -a; . file; set +a)), with the names they set
      (no values); their variables, tokens among them, are not written into the crontab, so a rotated token needs
      no re-provisioning. A file sh would read otherwise than systemd is not sourced (its values are written,
      masked in the output; a note says why). A file the job's user cannot read (a root-only one) fails the task
      before anything is written, naming the fix (C(chgrp <user> FILE && chmod 640 FILE)).
  type: list
  elements: dict
  returned: state=present
crontab:
  description: Which crontab was written.
  type: str
  returned: always
user:
  description: The crontab user.
  type: str
  returned: always
unit:
  description: What was read from the unit (source, user, working directory, environment files; no values).
  type: dict
  returned: state=present
entry_sha256:
  description: Hash of the block (the pre-check and first-fire records are keyed by it).
  type: str
  returned: state=present
notes:
  description: Things a person should know (slot moved, DST, optional environment file missing).
  type: list
  elements: str
  returned: always
"""

import hashlib
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_anchor, cron_entry, redaction, systemd_unit
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import MASK, secret_names
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import read_state, utc_now, write_state


def redact_text(text: str, env: dict, secrets: set[str]) -> str:
    """Mask secret values in *text*: their variable lines and any other occurrence."""
    out = []
    for line in text.split("\n"):
        var = cron_entry.parse_var_line(line)
        out.append(f"{var[0]}={MASK}" if var and var[0] in secrets else line)
    return redaction.redact_text("\n".join(out), (env.get(name, "") for name in secrets))


def sourceable(unit: systemd_unit.UnitEnv) -> tuple[list[dict], list[str]]:
    """The unit's EnvironmentFiles the job sources at each fire (read by sh as systemd reads them), each with the
    names it sets, and why any other was not (the job's user can read every one: checked before)."""
    files, why = [], []
    for path in unit.files_read:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        if not cron_entry.shell_safe_env_file(text):
            why.append(f"EnvironmentFile {path} has lines sh would read otherwise than systemd: its values are "
                       "written into the crontab")
        else:
            files.append({"path": path, "names": sorted(systemd_unit.parse_env_file(text, where=path))})
    return files, why


def job_env(unit: systemd_unit.UnitEnv, exclude: list[str], extra: dict) -> dict[str, str]:
    """SHELL, PATH, HOME first, then the unit's other variables, then *extra*."""
    env: dict[str, str] = {"SHELL": "/bin/sh",
                           "PATH": unit.environment.get("PATH") or systemd_unit.DEFAULT_PATH,
                           "HOME": unit.home() or "/"}
    for key, value in unit.environment.items():
        if key not in env and key not in exclude:
            env[key] = value
    for key in ("PATH", "HOME"):
        if key in exclude:
            env.pop(key, None)
    for key, value in (extra or {}).items():
        env[str(key)] = "" if value is None else str(value)
    return env


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            loops_unit=dict(type="str"),
            unit_source=dict(type="str", choices=["auto", "systemd", "file"], default="auto"),
            user=dict(type="str"),
            tabfile=dict(type="path"),
            launcher=dict(type="path"),
            root=dict(type="path"),
            log=dict(type="path"),
            offset=dict(type="int", default=3600),
            completion=dict(type="str"),
            min_lead=dict(type="int", default=30),
            reanchor=dict(type="bool", default=False),
            timezone=dict(type="str"),
            env_exclude=dict(type="list", elements="str", default=[]),
            extra_env=dict(type="dict", default={}),
            secret_keys=dict(type="list", elements="str", default=[], no_log=False),
            state_file=dict(type="path"),
            marker_id=dict(type="str", default=cron_anchor.MARKER_ID),
        ),
        required_if=[("state", "present", ("loops_unit", "launcher"))],
        supports_check_mode=True,
    )
    p = module.params
    marker_id = p["marker_id"]
    notes: list[str] = []

    unit = None
    if p["state"] == "present":
        try:
            # the job runs as its user and sources the unit's EnvironmentFiles at each fire: one it cannot read
            # would give it no tokens, and copying them into the crontab would hand that user what the file kept
            # from it; so it is refused, naming the fix, before anything is read or written
            head = systemd_unit.load(p["loops_unit"], p["unit_source"], files=False)
            job_user = p["user"] or head.user or pwd.getpwuid(os.getuid()).pw_name
            unreadable = systemd_unit.unreadable_env_files(head, job_user)
            if unreadable:
                module.fail_json(msg=systemd_unit.not_readable_fix(unreadable[0], job_user))
            unit = systemd_unit.load(p["loops_unit"], p["unit_source"])
        except systemd_unit.UnitError as exc:
            module.fail_json(msg=str(exc))
        notes.extend(unit.notes)
    user = p["user"] or (unit.user if unit else None) or pwd.getpwuid(os.getuid()).pw_name
    io = cron_entry.CrontabIO(user=None if p["tabfile"] else user, tabfile=p["tabfile"])
    try:
        before = io.read()
    except cron_entry.CrontabError as exc:
        module.fail_json(msg=str(exc), crontab=io.where, user=user)
    lines = before.split("\n")
    root = (p["root"] or (os.path.dirname(os.path.dirname(p["launcher"])) if p["launcher"] else "")).rstrip("/")
    owner = f"{root}/" if root else None  # an entry is this box's only when its job line names this root
    located = cron_entry.locate(lines, marker_id, owner)
    state = read_state(p["state_file"])

    if p["state"] == "absent":
        after = cron_entry.splice(before, None, marker_id, owner)
        changed = after != before or bool(p["state_file"] and os.path.exists(p["state_file"]))
        secrets_env = {k: v for k, v in (cron_entry.parse_var_line(line) or (None, None) for line in lines) if k}
        secrets = secret_names(secrets_env, p["secret_keys"])
        diff = {"before": redact_text(before, secrets_env, secrets), "after": redact_text(after, secrets_env, secrets),
                "before_header": io.where, "after_header": io.where}
        if changed and not module.check_mode:
            try:
                if after != before:
                    io.write(after)
                if p["state_file"] and os.path.exists(p["state_file"]):
                    os.unlink(p["state_file"])
            except (cron_entry.CrontabError, OSError) as exc:
                module.fail_json(msg=f"cannot remove the entry from the {io.where}: {exc}")
        module.exit_json(changed=changed, crontab=io.where, user=user, notes=notes, diff=diff)

    # -- present -----------------------------------------------------------------------------------
    if p["offset"] <= 0:
        module.fail_json(msg=f"offset must be a positive number of seconds, not {p['offset']} (ccci_cron_offset)")
    notes.extend(located.notes)
    try:
        dtz = cron_anchor.daemon_timezone(override=p["timezone"])
        tz = cron_anchor.zone(dtz.name)
    except (ValueError, OSError) as exc:
        module.fail_json(msg=f"cannot tell the cron daemon's timezone: {exc}: set timezone (ccci_cron_timezone)")
    now = utc_now()
    source = "computed"
    moved = False
    t0 = None
    anchor_notes: list[str] = []
    calendar_note = ""
    if located.foreign_blocks:
        notes.append(f"the crontab also holds a {marker_id} entry of another cc-ci root (not {root}): left alone, "
                     "its anchor not used")
    if not p["reanchor"]:
        if located.anchor is not None:
            t0, source = located.anchor, "marker"
        elif state.get("anchor") and state.get("marker_id", marker_id) == marker_id and state.get("root", root) == root:
            try:
                kept = cron_anchor.parse_time(state["anchor"])
            except ValueError:
                kept = None
            if kept is not None and (kept - now).total_seconds() >= p["min_lead"]:
                t0, source = kept, "state_file"
            elif kept is not None:
                notes.append(f"the entry was missing and the anchor {state['anchor']} in {p['state_file']} had "
                             "passed: a new anchor was computed")
    if t0 is not None and state.get("anchor") and cron_anchor.parse_time(state["anchor"]).timestamp() == t0.timestamp():
        anchor_notes = list(state.get("anchor_notes") or [])  # as written when the anchor was computed
        calendar_note = state.get("calendar_note") or ""
    if t0 is None:
        try:
            completion = cron_anchor.parse_time(p["completion"])
        except ValueError:
            module.fail_json(msg=f"completion {p['completion']!r} is not ISO 8601 or unix seconds (ccci_cron_completion)")
        try:
            anchor = cron_anchor.compute_anchor(completion, p["offset"], dtz.name, now=now, min_lead=p["min_lead"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        t0, moved, calendar_note = anchor.t0, anchor.moved, anchor.calendar_note
        anchor_notes = anchor.notes + cron_anchor.weekly_notes(anchor.t0, dtz.name)
        notes.extend(anchor_notes)
    t0 = t0.astimezone(tz)
    schedule = cron_anchor.schedule_for(t0)
    passed = t0 <= now

    log = p["log"] or os.path.join(root, ".cc-ci-logs", "upgrades", "cron.log")
    sourced, not_sourced = sourceable(unit)
    notes.extend(not_sourced)
    env_files = [f["path"] for f in sourced]
    from_files = {name for f in sourced for name in f["names"]} - set(p["extra_env"] or {})
    # the job sources these files at each fire: their variables (tokens among them) stay out of the crontab
    env = job_env(unit, list(p["env_exclude"]) + sorted(from_files), p["extra_env"])
    secrets = secret_names(env, p["secret_keys"])
    command = cron_entry.job_command(p["launcher"], "start", log, marker_id, env_files)
    try:
        block = cron_entry.block_lines(env, schedule, command, cron_anchor.format_marker(t0, marker_id), marker_id)
    except cron_entry.CrontabError as exc:
        module.fail_json(msg=f"{exc}: fix the unit {p['loops_unit']} or set env_exclude")
    after = cron_entry.splice(before, block, marker_id, owner)
    entry_sha = hashlib.sha256("\n".join(block).encode()).hexdigest()

    new_state = dict(state)
    new_state.update({"marker_id": marker_id, "anchor": t0.isoformat(), "schedule": schedule, "tz": dtz.name,
                      "crontab": io.where, "user": user, "log": log, "launcher": p["launcher"], "root": root,
                      "entry_sha256": entry_sha, "anchor_notes": anchor_notes, "calendar_note": calendar_note})
    if state.get("entry_sha256") != entry_sha or after != before:
        new_state["installed_at"] = now.replace(microsecond=0).isoformat()
        new_state.pop("precheck", None)
    changed_tab = after != before
    changed_state = bool(p["state_file"]) and new_state != state
    changed = changed_tab or changed_state

    if changed and not module.check_mode:
        try:
            if changed_tab:
                io.write(after)
                if io.read() != after:
                    module.fail_json(msg=f"the {io.where} did not read back as written")
            if changed_state:
                write_state(p["state_file"], new_state)
        except (cron_entry.CrontabError, OSError) as exc:
            module.fail_json(msg=f"cannot write the {io.where}: {exc}")

    fires = [f.isoformat() for f in cron_anchor.next_fires(schedule, dtz.name, after=now)]
    if not dtz.daemon_pids and not p["tabfile"]:
        notes.append("no cron daemon runs here: the entry will not fire until one is started")
    masked_env = {k: (MASK if k in secrets else v) for k, v in env.items()}
    unit_info = unit.as_dict()
    unit_info["environment"] = sorted(unit_info["environment"])
    module.exit_json(
        changed=changed,
        crontab=io.where,
        user=user,
        schedule=schedule,
        line=block[-2],
        command=command,
        block=[redact_text(line, env, secrets) for line in block],
        anchor={"t0": t0.isoformat(), "t0_epoch": t0.timestamp(), "tz": dtz.name, "tz_source": dtz.source,
                "daemon_pids": dtz.daemon_pids, "source": source, "moved": moved, "passed": passed,
                "notes": anchor_notes, "calendar_note": calendar_note},
        next_fires=fires,
        env=masked_env,
        sourced=sourced,
        log=log,
        unit=unit_info,
        entry_sha256=entry_sha,
        state_file=p["state_file"],
        notes=notes,
        diff={"before": redact_text(before, env, secrets), "after": redact_text(after, env, secrets),
              "before_header": io.where, "after_header": io.where},
    )


if __name__ == "__main__":
    main()
