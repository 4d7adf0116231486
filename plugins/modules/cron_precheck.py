#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: cron_precheck
short_description: Run the weekly job's exact command as cron would, with a cheap dry run
version_added: 0.1.0
description:
  - Reads the entry installed by M(coopcloud.cc_ci.completion_cron) back from the crontab, takes the
    environment cron would give it (C(SHELL=/bin/sh), C(PATH=/usr/bin:/bin), C(HOME), C(LOGNAME) and
    C(USER) from passwd, then every variable line above the job) and nothing else, and runs the
    entry's command line with C(fresh) instead of C(start) and C(UPGRADER_ARGS=--dry-run), through
    C(/bin/sh -c), in HOME, as the crontab's user.
  - Then asserts, in that same environment - the agent command (C(CCCI_AGENT_CMD), default C(claude))
    and C(tmux) are found on its PATH, HOME holds the agent's login (O(agent_login)), the launcher
    exited 0, the session ran and went idle, and a dry-run summary appeared - a new C(upgrade-all-*.md),
    else the run's session transcript C(upgrader-*.log) ending with the agent's C(RESULT:) line.
  - On failure RV(diagnosis) names what the cron environment lacks. The module itself fails only
    when it cannot run the pre-check at all; a pre-check that ran and failed returns RV(passed=false).
  - A passed pre-check is recorded in O(state_file) under the entry's hash; a later run with the same
    entry returns that record (RV(cached=true)) without restarting the session, unless O(force=true).
    A busy (RUNNING) C(cc-ci-upgrader) session is never killed for a pre-check.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  user:
    description: The crontab's user (as whom cron runs the job). Default the user running the module.
    type: str
  tabfile:
    description: Read the entry from this file instead of the user's crontab.
    type: path
  launcher:
    description: Path of C(launch-upgrader.sh); the entry's command must be the one written for it.
    type: path
    required: true
  log:
    description: The job's log (as given to M(coopcloud.cc_ci.completion_cron)).
    type: path
    required: true
  summary_dir:
    description: Where C(/upgrade-all) writes C(upgrade-all-*.md). Default the folder of O(log).
    type: path
  agent_login:
    description: The agent's login file, relative to HOME.
    type: str
    default: .claude/.credentials.json
  upgrader_args:
    description: C(UPGRADER_ARGS) for the pre-check run.
    type: str
    default: --dry-run
  timeout:
    description:
      - Seconds to wait for the dry run to finish and its summary to appear.
      - The wait ends sooner when the session has not been RUNNING for 30 s and no summary appeared (the agent
        ended or never started).
    type: int
    default: 300
  state_file:
    description: The state file of M(coopcloud.cc_ci.completion_cron); the result is recorded there.
    type: path
  force:
    description: Run even when a passed pre-check of the same entry is recorded.
    type: bool
    default: false
  marker_id:
    description: The entry's marker id.
    type: str
    default: ccci-upgrade-all
attributes:
  check_mode:
    support: partial
    details: In check mode nothing is run; RV(passed) is null.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Pre-check the weekly job from cron's environment
  coopcloud.cc_ci.cron_precheck:
    user: cc-ci
    launcher: /srv/cc-ci/cc-ci-plan/launch-upgrader.sh
    log: /srv/cc-ci/.cc-ci-logs/upgrades/cron.log
    state_file: /srv/cc-ci/.cc-ci-logs/upgrades/ccci-cron.json
  register: precheck

- name: Stop when cron's environment lacks something
  ansible.builtin.assert:
    that: precheck.passed
    fail_msg: "{{ precheck.diagnosis }}"
"""

RETURN = r"""
passed:
  description: Whether every assertion held (null in check mode).
  type: bool
  returned: always
diagnosis:
  description: What the cron environment lacks, one sentence per problem joined by C(; ).
  type: str
  returned: always
problems:
  description: The problems, one per item.
  type: list
  elements: str
  returned: always
cached:
  description: The result is the recorded one of an earlier run of the same entry.
  type: bool
  returned: always
command:
  description: The command line run (the entry's, with C(fresh)).
  type: str
  returned: when run
env_keys:
  description: The variables the job got (names only).
  type: list
  elements: str
  returned: when run
found:
  description: What was found in the cron environment - C(agent), C(tmux) (paths or null), C(login) (bool).
  type: dict
  returned: when run
launcher_rc:
  description: The launcher's exit code from the job's log line.
  type: int
  returned: when run
output:
  description: What the run wrote into the job's log.
  type: str
  returned: when run
session_status:
  description: Launcher C(status) lines seen, in order.
  type: list
  elements: str
  returned: when run
summary:
  description: The dry-run summary file.
  type: str
  returned: when run
seconds:
  description: How long the pre-check took.
  type: float
  returned: always
"""

import glob
import hashlib
import json
import os
import re
import shlex
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry, systemd_unit
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import read_state, utc_now, write_state
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span

# Seconds a session may stay not RUNNING without a dry-run summary before the pre-check stops waiting:
# the agent has ended (or never started), so waiting out the whole timeout would only wait for nothing.
SETTLE = 30
FIX = "set it in cc-ci-loops.service (Environment=) or ccci_cron_extra_env and re-provision"


def status_of(launcher, env, user):
    rc, out = cron_entry.run_as_cron(f"{shlex.quote(launcher)} status", env, user, timeout=30)
    line = out.strip().splitlines()[-1] if out.strip() else f"(no output, rc {rc})"
    return line


def probe(env, user, agent_login):
    agent_words = shlex.split(env.get("CCCI_AGENT_CMD") or "claude") or ["claude"]
    agent = agent_words[0]
    script = ('command -v "$1" || echo MISSING; command -v tmux || echo MISSING; '
              'if [ -r "$HOME/$2" ]; then echo LOGIN; else echo NOLOGIN; fi')
    rc, out = cron_entry.run_as_cron(f"set -- {shlex.quote(agent)} {shlex.quote(agent_login)}; {script}",
                                     env, user, timeout=30)
    lines = out.strip().splitlines() + ["", "", ""]
    return agent, {
        "agent": None if lines[0] in ("MISSING", "") else lines[0],
        "tmux": None if lines[1] in ("MISSING", "") else lines[1],
        "login": lines[2] == "LOGIN",
    }


def dry_run_summary(folder, old_summaries, old_transcripts, since):
    """The dry run's summary: a new ``upgrade-all-*.md``, else the new session transcript
    (``upgrader-*.log``) that ends with the agent's ``RESULT:`` line (a dry run may write no file)."""
    new = [f for f in set(glob.glob(os.path.join(folder, "upgrade-all-*.md"))) - old_summaries
           if os.path.getmtime(f) >= since - 1]
    if new:
        return sorted(new, key=os.path.getmtime)[-1]
    for path in sorted(set(glob.glob(os.path.join(folder, "upgrader-*.log"))) - old_transcripts,
                       key=os.path.getmtime, reverse=True):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        if re.search(r"^\s*RESULT\s*:", text, re.MULTILINE):
            return path
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type="str"),
            tabfile=dict(type="path"),
            launcher=dict(type="path", required=True),
            log=dict(type="path", required=True),
            summary_dir=dict(type="path"),
            agent_login=dict(type="str", default=".claude/.credentials.json", no_log=False),
            upgrader_args=dict(type="str", default="--dry-run"),
            timeout=dict(type="int", default=300),
            state_file=dict(type="path"),
            force=dict(type="bool", default=False),
            marker_id=dict(type="str", default="ccci-upgrade-all"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    started = time.time()
    import pwd  # pylint: disable=import-outside-toplevel

    user = p["user"] or pwd.getpwuid(os.getuid()).pw_name
    io = cron_entry.CrontabIO(user=None if p["tabfile"] else user, tabfile=p["tabfile"])
    try:
        text = io.read()
        env, command = cron_entry.effective_env(text, user, p["marker_id"], owner=p["launcher"])
    except cron_entry.CrontabError as exc:
        module.fail_json(msg=f"{exc} ({io.where}): install it first (coopcloud.cc_ci.completion_cron)")
    env_files = cron_entry.sourced_files(command)
    expected = cron_entry.job_command(p["launcher"], "start", p["log"], p["marker_id"], env_files)
    if command != expected:
        module.fail_json(msg=f"the {p['marker_id']} entry in the {io.where} does not run {p['launcher']} start "
                             "the way completion_cron writes it: re-provision it", command=command)
    entry_sha = hashlib.sha256(json.dumps([env, command], sort_keys=True).encode()).hexdigest()
    state = read_state(p["state_file"]) if p["state_file"] else {}
    recorded = state.get("precheck") or {}
    if recorded.get("entry") == entry_sha and recorded.get("passed") and not p["force"]:
        module.exit_json(changed=False, cached=True, passed=True, diagnosis="", problems=[],
                         recorded_at=recorded.get("at"), summary=recorded.get("summary"),
                         found=recorded.get("found"), seconds=round(time.time() - started, 3))
    if module.check_mode:
        module.exit_json(changed=False, cached=False, passed=None, problems=[],
                         diagnosis="check mode: the pre-check was not run", seconds=0.0)

    # what the job's `set -a; . file` adds at each fire (the unit's EnvironmentFiles), for the probes below
    sourced_env: dict[str, str] = {}
    for path in env_files:
        try:
            with open(path, encoding="utf-8") as handle:
                sourced_env.update(systemd_unit.parse_env_file(handle.read(), where=path))
        except (OSError, ValueError) as exc:
            module.exit_json(changed=False, cached=False, passed=False, problems=[f"the job sources {path}, which "
                             f"{user} cannot read: {exc}"], diagnosis=f"the job sources {path}, which {user} cannot "
                             f"read: {exc}: make it readable by {user} and re-provision", seconds=0.0)
    run_env = dict(env, **sourced_env, UPGRADER_ARGS=p["upgrader_args"])
    problems: list[str] = []
    agent, found = probe(run_env, user, p["agent_login"])
    path_value = run_env.get("PATH", "")
    if not found["agent"]:
        problems.append(f"the cron environment lacks the agent command '{agent}' (not found on PATH={path_value}): "
                        f"add its folder to PATH ({FIX})")
    if not found["tmux"]:
        problems.append(f"the cron environment lacks tmux (not found on PATH={path_value}): {FIX}")
    if not found["login"]:
        problems.append(f"the cron environment lacks the agent's login: HOME={run_env.get('HOME')} has no readable "
                        f"{p['agent_login']} for {user}: set HOME to the logged-in account's home ({FIX})")

    statuses = [status_of(p["launcher"], run_env, user)]
    if statuses[0].endswith("RUNNING"):
        problems.append("cc-ci-upgrader is busy (RUNNING): the pre-check would kill a live run; run it again when idle")
        module.exit_json(changed=False, cached=False, passed=False, problems=problems, diagnosis="; ".join(problems),
                         found=found, session_status=statuses, env_keys=sorted(run_env),
                         seconds=round(time.time() - started, 3))

    summary_dir = p["summary_dir"] or os.path.dirname(p["log"])
    before_summaries = set(glob.glob(os.path.join(summary_dir, "upgrade-all-*.md")))
    before_transcripts = set(glob.glob(os.path.join(summary_dir, "upgrader-*.log")))
    try:
        offset = os.path.getsize(p["log"])
    except OSError:
        offset = 0
    pre_command = cron_entry.job_command(p["launcher"], "fresh", p["log"], p["marker_id"], env_files)
    t_run = time.time()
    # the job's own command sources the files itself, from cron's environment as the crontab gives it
    rc, direct = cron_entry.run_as_cron(pre_command, dict(env, UPGRADER_ARGS=p["upgrader_args"]), user, timeout=120)
    output = direct
    try:
        with open(p["log"], "rb") as fh:
            fh.seek(offset)
            output = fh.read().decode(errors="replace") + direct
    except OSError:
        pass
    m = re.search(r"ccci-upgrade-all fresh: exit (\d+)", output.replace(p["marker_id"], "ccci-upgrade-all"))
    launcher_rc = int(m.group(1)) if m else None
    if rc != 0 or launcher_rc is None:
        problems.append(f"the job's shell failed (rc {rc}) before the launcher reported: {output.strip()[-300:]}")
    elif launcher_rc != 0:
        lines = [ln for ln in output.splitlines() if "ccci-upgrade-all" not in ln and ln.strip()]
        problems.append(f"{os.path.basename(p['launcher'])} fresh exited {launcher_rc} in the cron environment: "
                        f"{lines[-1] if lines else 'no output'}")

    summary = None
    deadline = time.time() + p["timeout"]
    settled = None  # since when the session has not been RUNNING: a dry run that ended writes its summary by then
    if launcher_rc == 0:
        with Span("launcher", "the dry run started from cron's environment") as span:
            while True:
                st = status_of(p["launcher"], run_env, user)
                span.state(st)
                if st != statuses[-1]:
                    statuses.append(st)
                settled = None if st.endswith("RUNNING") else settled or time.time()
                if settled is not None:
                    summary = dry_run_summary(summary_dir, before_summaries, before_transcripts, t_run)
                    if summary:
                        break
                if time.time() > deadline or (settled is not None and time.time() - settled > SETTLE):
                    break
                time.sleep(1)
        if summary is None:
            waited = f"{p['timeout']} s" if time.time() > deadline else f"{SETTLE} s after it stopped running"
            problems.append(f"no dry-run summary (upgrade-all-*.md, or a session transcript with a RESULT line) "
                            f"appeared in {summary_dir} within "
                            f"{waited} (session: {statuses[-1]}); the agent did not finish /upgrade-all "
                            f"{p['upgrader_args']} from the cron environment")
    passed = not problems
    changed = True
    at = utc_now().replace(microsecond=0).isoformat()
    if p["state_file"]:
        fresh_state = read_state(p["state_file"])
        fresh_state["precheck"] = {"entry": entry_sha, "passed": passed, "at": at, "summary": summary,
                                   "found": found, "problems": problems}
        try:
            write_state(p["state_file"], fresh_state)
        except OSError as exc:
            problems.append(f"cannot record the pre-check in {p['state_file']}: {exc}")
    module.exit_json(changed=changed, cached=False, passed=passed, problems=problems, diagnosis="; ".join(problems),
                     command=pre_command, env_keys=sorted(run_env), found=found, launcher_rc=launcher_rc,
                     output=output[-4000:], session_status=statuses, summary=summary, recorded_at=at,
                     seconds=round(time.time() - started, 3))


if __name__ == "__main__":
    main()
