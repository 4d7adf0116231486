#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: upgrader_session
short_description: Status, start, fresh, stop and wait of the cc-ci-upgrader tmux session
version_added: 0.1.0
description:
  - Drives the C(cc-ci-upgrader) agent session through the box's launcher
    (C(launch-upgrader.sh start|fresh|stop)) and classifies the session by probing tmux and
    C(/proc) itself. The launcher's own words are returned as RV(launcher_output) and never used
    for RV(status).
  - "The classification samples the session twice, O(sample_seconds) apart."
  - C(ABSENT) means there is no such session.
  - C(IDLE) means the session is there but no agent process (see O(agent_names)) lives in its
    panes' process trees, or the agent is quiet and the pane matches O(idle_pattern).
  - "C(WEDGED) is the wedge rule: an agent process is alive and, for O(wedge_seconds), its pane did
    not change, its process tree used no CPU, and nothing of its run was in flight (a process named
    in O(in_flight_names) in the agent's tree, younger than O(build_timeout): a helper waiting on a
    build, or a deploy). A healthy agent waiting on a build within the build timeout is never wedged."
  - C(RUNNING) means an agent process is alive and the wedge rule does not hold.
  - The time of the last change is remembered between module runs in a small file under
    O(state_dir), keyed by session id, creation time and pane pid, so a wedge longer than one run is
    seen; without an earlier run the quiet time counts from the first sample.
  - Identity before and after an action is the pane id, the pane process (pid and start time) and
    each agent process (pid and start time), so a replaced session, a restarted agent or a second
    session beside the first are told apart from the same one, whatever the launcher says.
  - With O(state=finished) the module waits (polling every O(interval)) until the session is
    C(IDLE) and then returns the newest C(upgrade-all-*.md) summary under
    C(<root>/.cc-ci-logs/upgrades/) written since O(since), and the pane text.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  name:
    description: The tmux session name.
    type: str
    default: cc-ci-upgrader
  state:
    description:
      - V(status) only probes.
      - V(started) runs C(<launcher> start); the launcher decides whether to leave a busy run alone
        or replace it, and RV(replaced) tells which happened.
      - V(fresh) runs C(<launcher> fresh) (always a new run).
      - V(stopped) runs C(<launcher> stop) when the session exists and fails if it is still there
        or if an agent process that lived before outlives the stop (RV(survivors)).
      - V(finished) waits until the session is C(IDLE) and captures the summary; it fails when the
        session is C(ABSENT) (it did not stay after its run) or C(WEDGED) meanwhile, or on O(timeout).
      - V(wedged) seeds a wedged session through the launcher itself, so the launcher sees it as its
        own. It runs C(<launcher> fresh) (give C(UPGRADER_ARGS=--dry-run) in O(env) so it opens nothing),
        then as soon as the agent process appears its process tree is stopped with SIGSTOP (alive,
        silent, no CPU, nothing in flight), and the module waits until the wedge rule holds. An agent
        that ended before it could be stopped is seeded again, up to O(seed_attempts) times.
        tmux itself continues a pane's own process when it stops, so this needs the agent to run
        under the pane's process (as the lab launcher's supervisor runs it); otherwise the module
        fails saying so.
    type: str
    choices: [status, started, fresh, stopped, finished, wedged]
    default: status
  launcher:
    description:
      - Path of C(launch-upgrader.sh) (the variable C(ccci_launcher)).
      - Without it, V(started) and V(fresh) need O(command), and V(stopped) kills the session with tmux.
    type: path
  command:
    description:
      - What the session runs when started without O(launcher), as an argv list (run without a shell).
    type: list
    elements: str
  chdir:
    description: Working directory for O(command) sessions, and for the launcher.
    type: path
  env:
    description:
      - Environment for the launcher (or the O(command) session), e.g. C(UPGRADER_ARGS=--dry-run),
        C(CCCI_ROOT), C(CCCI_AGENT_CMD), C(WEDGE_SECONDS).
      - Values of keys that look secret (C(TOKEN), C(SECRET), C(PASSWORD), C(KEY)) are masked in the output.
    type: dict
    default: {}
  root:
    description: The orchestration repo (C(ccci_root)), where C(.cc-ci-logs/upgrades/) is.
    type: path
  since:
    description:
      - With O(state=finished), only summaries modified at or after this unix time count.
      - Default the creation time of the session being waited for, so a run that ended before the
        wait began still has its summary found, and an older run's summary never is.
    type: float
  timeout:
    description: With O(state=finished), how long to wait for C(IDLE), in seconds.
    type: int
    default: 3600
  interval:
    description: With O(state=finished), seconds between probes.
    type: float
    default: 10
  sample_seconds:
    description: Seconds between the two samples of one probe.
    type: float
    default: 2
  wedge_seconds:
    description: Quiet time (no pane change, no CPU) after which a live agent is C(WEDGED).
    type: float
    default: 900
  build_timeout:
    description: How long a helper or deploy process may be in flight before it no longer excuses a quiet agent (the build timeout).
    type: float
    default: 3600
  in_flight_names:
    description: Names of the processes in the agent's tree that mean a build, helper or deploy of its run is in flight.
    type: list
    elements: str
    default: [testme-on-pr.sh, verify-pr.sh, abra]
  seed_attempts:
    description: With O(state=wedged), how many times to seed when the agent ends before it is stopped.
    type: int
    default: 3
  appear_seconds:
    description:
      - With O(state=wedged), how long after the launcher returned an attempt waits for the agent to appear;
        an agent that came and went between two looks is then seeded again at once, not after O(launcher_timeout).
    type: float
    default: 15
  launcher_status:
    description:
      - After the action, also run C(<launcher> status) and return its words as RV(launcher_status)
        with RV(launcher_status_stable) (whether the session was the same before and after that call),
        for a comparison with RV(status). Never used for RV(status).
    type: bool
    default: false
  agent_names:
    description:
      - Names of the agent process, matched by basename against its command name, C(argv[0]) and
        the script an interpreter runs (so C(python3 /path/claude) matches C(claude)).
      - An empty list means any live process in the pane that is not a shell.
    type: list
    elements: str
    default: [claude]
  idle_pattern:
    description:
      - A regular expression. When the agent is alive but quiet and the last pane lines match it,
        the session is C(IDLE) (for an agent that stays up at a prompt after its run).
    type: str
  state_dir:
    description: Where the probe remembers the last change between runs. Default a per-user folder in the temp directory.
    type: path
  tmux_path:
    description: The tmux binary. Default C(tmux) on C(PATH).
    type: path
  tmux_tmpdir:
    description:
      - C(TMUX_TMPDIR) of the tmux server to talk to (the lab uses a private one); also given to the
        launcher. Default C(TMUX_TMPDIR) in O(env), else the module's own environment.
    type: path
  launcher_timeout:
    description: Seconds the launcher may take.
    type: int
    default: 120
  tail_lines:
    description: How many last pane lines go into C(pane_tail) of RV(evidence).
    type: int
    default: 40
attributes:
  check_mode:
    support: full
    details: Probes only; V(started), V(fresh) and V(stopped) report whether the session would be replaced or killed.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Cheap run of the cron-equivalent path
  coopcloud.cc_ci.upgrader_session:
    state: fresh
    launcher: "{{ ccci_launcher }}"
    env:
      UPGRADER_ARGS: --dry-run
  register: _v8a_fresh

- name: A second start while busy must leave the run alone
  coopcloud.cc_ci.upgrader_session:
    state: started
    launcher: "{{ ccci_launcher }}"
  register: _v8a_busy

- name: Wait for the run to finish and stay idle, with its summary
  coopcloud.cc_ci.upgrader_session:
    state: finished
    root: "{{ ccci_root }}"
    timeout: 1800
    interval: 10
  register: _v8a_done

- name: Same session and process as the one started?
  ansible.builtin.assert:
    that:
      - _v8a_busy.session_id == _v8a_fresh.session_id
      - _v8a_busy.pane_pid == _v8a_fresh.pane_pid

- name: Stop it (V9)
  coopcloud.cc_ci.upgrader_session:
    state: stopped
    launcher: "{{ ccci_launcher }}"
"""

RETURN = r"""
status:
  description: C(RUNNING), C(IDLE), C(WEDGED) or C(ABSENT), from tmux and /proc (after the action).
  type: str
  returned: always
  sample: IDLE
evidence:
  description:
    - What the status rests on. C(pane_pid), C(pane_id), C(pane_current_command), C(pane_dead),
      C(agent_pids), C(agent_commands), C(processes), C(pane_changed), C(seconds_since_change),
      C(cpu_ticks), C(cpu_ticks_delta), C(pane_tail) (the last pane lines), C(sample_seconds),
      C(wedge_seconds), C(tmux_tmpdir), C(state_file).
  type: dict
  returned: always
session_id:
  description: tmux's session id (e.g. C($3)); with RV(session_created) and RV(pane_pid) it tells the same session from a replaced one.
  type: str
  returned: when the session exists
session_created:
  description: Unix time the session was created.
  type: int
  returned: when the session exists
pane_pid:
  description: The pid of the session's first pane process.
  type: int
  returned: when the session exists
previous:
  description:
    - C(status), C(session_id), C(session_created), C(pane_id), C(pane_pid), C(pane_start) and C(agents)
      (pid, start, key, state, argv) before the action.
  type: dict
  returned: always
current:
  description: The same after the action.
  type: dict
  returned: always
survivors:
  description:
    - The agent processes of before (C(pid@start)) that still live after the action; when the
      session changed, after waiting up to 10 s for them to go.
  type: list
  elements: str
  returned: when state is started, fresh, stopped or wedged
frozen:
  description: With O(state=wedged), the processes stopped (pid, command).
  type: list
  elements: dict
  returned: when state=wedged
seed_attempts_used:
  description: With O(state=wedged), how many seeds it took.
  type: int
  returned: when state=wedged
alive_at_action:
  description: The agent processes of before (C(pid@start)) still alive right before the launcher was called.
  type: list
  elements: str
  returned: when the launcher or tmux acted
acted_at:
  description: When the launcher (or tmux) was called and when it returned (epoch seconds).
  type: dict
  returned: when the launcher or tmux acted
finished_after_stop:
  description:
    - >-
      With O(state=stopped), the C(upgrade-all-*.md) summaries written more than a second after the
      launcher's stop returned while an agent alive at the stop had not yet gone (path and seconds
      after the stop): a stopped run that carried on to its end.
  type: list
  elements: dict
  returned: when state=stopped
launcher_status:
  description: What C(<launcher> status) printed after the action (with O(launcher_status)).
  type: str
  returned: when launcher_status is true
launcher_status_stable:
  description: Whether the session (identity and agents) was the same just before and after the status call.
  type: bool
  returned: when launcher_status is true
replaced:
  description: Whether the session after the action is another one than before (or a new one).
  type: bool
  returned: always
launcher_output:
  description: What the launcher printed (stdout then stderr), for the record only.
  type: str
  returned: when the launcher ran
launcher_rc:
  description: The launcher's exit code.
  type: int
  returned: when the launcher ran
waited_seconds:
  description: How long O(state=finished) waited.
  type: float
  returned: when state=finished
summary_path:
  description: The newest C(upgrade-all-*.md) written since O(since); null when none.
  type: str
  returned: when state=finished
summary_text:
  description: Its content.
  type: str
  returned: when state=finished
pane_text:
  description: The pane text with scrollback.
  type: str
  returned: when state=finished
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError, CliRunner, last_line
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import secret_values
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.tmux import (
    ABSENT,
    IDLE,
    IN_FLIGHT_NAMES,
    RUNNING,
    WEDGED,
    Probe,
    SessionProbe,
    Tmux,
    freeze_tree,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span


class Launcher(CliRunner):
    binary_name = "launch-upgrader.sh"
    path_option = "ccci_launcher (option launcher)"


def _summaries(root: str) -> list[tuple[float, str]]:
    """(mtime, path) of every upgrade-all summary under the root."""
    found = []
    for path in glob.glob(os.path.join(root, ".cc-ci-logs", "upgrades", "upgrade-all-*.md")):
        try:
            found.append((os.path.getmtime(path), path))
        except OSError:
            continue
    return found


def newest_summary(root: str, since: float) -> tuple[str | None, str | None]:
    found = [(m, p) for m, p in _summaries(root) if m >= since - 1]  # file systems with whole-second times
    if not found:
        return None, None
    path = max(found)[1]
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return path, fh.read()
    except OSError:
        return path, None


def summaries_after(root: str, since: float) -> list[dict]:
    """The upgrade-all summaries written after *since* (path, seconds after)."""
    return [{"path": path, "seconds_after_stop": round(mtime - since, 1)}
            for mtime, path in sorted(_summaries(root)) if mtime > since]


def wait_gone(prober: SessionProbe, keys: list[str], seconds: float) -> list[str]:
    """Wait (bounded) until these processes are gone; the ones still alive."""
    deadline = time.monotonic() + seconds
    alive = prober.alive(keys)
    if not alive or seconds <= 0:
        return alive
    # the agents' exit after the launcher acted is the box's time, not the collection's
    with Span("launcher", f"agent process(es) {', '.join(alive)} to exit", exits=len(alive)):
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = prober.alive(alive)
    return alive


class Session:
    """One module run: the launcher (or a plain tmux command) acting on the session, and the probe."""

    def __init__(self, module: AnsibleModule, tmux: Tmux, launcher: Launcher | None, prober: SessionProbe,
                 env: dict[str, str]) -> None:
        self.module, self.tmux, self.launcher, self.prober, self.env = module, tmux, launcher, prober, env
        self.p = module.params
        self.extra: dict = {}

    def act(self, verb: str, before: Probe) -> str | None:
        """Run the launcher's *verb* (or its tmux equivalent); a failure message or None."""
        # which agents of before still lived the moment the launcher was called (a run that ended
        # during the probe is not a busy run the launcher could leave alone)
        self.extra["alive_at_action"] = self.prober.alive(before.agent_keys)
        called = time.time()
        try:
            return self._act(verb, before)
        finally:
            self.extra["acted_at"] = {"called": called, "returned": time.time()}

    def _act(self, verb: str, before: Probe) -> str | None:
        name = self.p["name"]
        if self.launcher:
            # the launcher's own run (a shell script on the box driving tmux) is a wait on a component
            with Span("launcher", f"launch-upgrader.sh {verb}", verb=verb):
                rc, out, err = self.launcher.run([verb])
            self.extra.update(launcher_rc=rc, launcher_output=(out + err).strip())
            if rc != 0:
                reason = (err.strip().splitlines() or out.strip().splitlines() or ["no output"])[-1]
                return f"launcher {verb} failed (rc {rc}): {reason}"
            return None
        if verb in ("stop", "fresh") or before.status in (IDLE, WEDGED):
            self.tmux.kill_session(name)
        if verb != "stop" and (verb == "fresh" or before.status != RUNNING):
            self.tmux.new_session(name, self.p["command"], env=self.env, cwd=self.p["chdir"])
        return None

    def status_words(self, after: Probe) -> None:
        """The launcher's own `status`, with whether the session held still around the call."""
        if not (self.launcher and self.p["launcher_status"]):
            return
        with Span("launcher", "launch-upgrader.sh status", verb="status"):
            rc, out, err = self.launcher.run(["status"])
        now = self.prober.agents_now()
        still = (self.tmux.has_session(self.p["name"]) == (after.status != ABSENT)
                 and sorted(x.key for x in now) == sorted(after.agent_keys))
        self.extra.update(launcher_status=(out if rc == 0 else out + err).strip(), launcher_status_stable=still)

    def finish(self, after: Probe, before: Probe, failed: str | None = None, **extra) -> None:
        replaced = after.identity is not None and after.identity != before.identity
        if self.p["state"] in ("started", "fresh", "stopped", "wedged") and "survivors" not in extra:
            # the agents of before that still live: a replaced or stopped session's must go (bounded wait)
            gone_expected = after.identity != before.identity
            extra["survivors"] = wait_gone(self.prober, before.agent_keys, 10 if gone_expected else 0)
        self.status_words(after)
        result = dict(
            status=after.status,
            evidence=after.evidence,
            session_id=after.session_id,
            session_created=after.session_created,
            pane_pid=after.pane_pid,
            previous=before.brief(),
            current=after.brief(),
            replaced=replaced,
            **self.extra,
            **extra,
        )
        result.setdefault("changed", False)
        if failed:
            self.module.fail_json(msg=failed, **result)
        self.module.exit_json(**result)

    def seed_wedge(self, before: Probe) -> None:
        """fresh through the launcher, stop the agent's tree the moment it appears, wait for the rule."""
        p = self.p
        frozen: list[dict] = []
        for attempt in range(1, p["seed_attempts"] + 1):
            failed = self.act("fresh", before)
            if failed:
                self.finish(self.prober.probe(), before, failed=failed, changed=True)
            # an agent appears within moments of the launcher's return; one not seen by then came and went
            deadline = time.monotonic() + min(p["launcher_timeout"], p["appear_seconds"])
            agents = self.prober.agents_now()
            while not agents and time.monotonic() < deadline and self.tmux.has_session(p["name"]):
                time.sleep(0.02)
                agents = self.prober.agents_now()
            frozen = [{"pid": x.pid, "command": x.command} for a in agents for x in freeze_tree(a.pid, self.prober.proc_root)]
            if frozen and self.prober.alive([a.key for a in agents]):
                break
        else:
            self.finish(self.prober.probe(), before, changed=True, seed_attempts_used=p["seed_attempts"],
                        failed=f"could not seed a wedged agent: in {p['seed_attempts']} fresh run(s) through the launcher "
                               "the agent ended (or never appeared) before it could be stopped")
        # the rule needs wedge_seconds of quiet; wait for it, bounded
        deadline = time.monotonic() + p["wedge_seconds"] + max(10.0, 3 * p["interval"] + 2 * p["sample_seconds"])
        current = self.prober.probe()
        if current.status == RUNNING:
            # the box's wedge rule needs wedge_seconds of quiet: a wait on the box's setting
            with Span("launcher", f"the wedge rule's {p['wedge_seconds']:g} s of quiet on the stopped agent",
                      window=p["wedge_seconds"]) as span:
                while current.status == RUNNING and time.monotonic() < deadline:
                    time.sleep(min(p["interval"], max(0.2, p["wedge_seconds"] / 4)))
                    current = self.prober.probe()
                    span.state(current.status)
        failed = None
        if current.status != WEDGED:
            own = current.pane_pid in [f["pid"] for f in frozen]
            failed = (f"the seeded wedge reads {current.status}, not WEDGED, {p['wedge_seconds']}s after its agent was "
                      "stopped" + ("; the agent is the pane's own process, which tmux continues when it stops" if own else ""))
        self.finish(current, before, failed=failed, changed=True, frozen=frozen, seed_attempts_used=attempt)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", default="cc-ci-upgrader"),
            state=dict(type="str", default="status",
                       choices=["status", "started", "fresh", "stopped", "finished", "wedged"]),
            launcher=dict(type="path"),
            command=dict(type="list", elements="str"),
            chdir=dict(type="path"),
            env=dict(type="dict", default={}, no_log=False),
            root=dict(type="path"),
            since=dict(type="float"),
            timeout=dict(type="int", default=3600),
            interval=dict(type="float", default=10),
            sample_seconds=dict(type="float", default=2),
            wedge_seconds=dict(type="float", default=900),
            build_timeout=dict(type="float", default=3600),
            in_flight_names=dict(type="list", elements="str", default=list(IN_FLIGHT_NAMES)),
            seed_attempts=dict(type="int", default=3),
            appear_seconds=dict(type="float", default=15),
            launcher_status=dict(type="bool", default=False),
            agent_names=dict(type="list", elements="str", default=["claude"]),
            idle_pattern=dict(type="str"),
            state_dir=dict(type="path"),
            tmux_path=dict(type="path"),
            tmux_tmpdir=dict(type="path"),
            launcher_timeout=dict(type="int", default=120),
            tail_lines=dict(type="int", default=40),
        ),
        mutually_exclusive=[("launcher", "command")],
        supports_check_mode=True,
    )
    p = module.params
    name, state = p["name"], p["state"]
    env = {str(k): str(v) for k, v in (p["env"] or {}).items()}
    module.no_log_values.update(secret_values(env))
    tmpdir = p["tmux_tmpdir"] or env.get("TMUX_TMPDIR")
    if tmpdir:
        env["TMUX_TMPDIR"] = tmpdir
    if state in ("started", "fresh", "wedged") and not (p["launcher"] or p["command"]):
        module.fail_json(msg=f"state={state} needs launcher (set ccci_launcher) or command")

    try:
        tmux = Tmux(path=p["tmux_path"], tmpdir=tmpdir)
        launcher = Launcher(path=p["launcher"], env=env, cwd=p["chdir"], timeout=p["launcher_timeout"]) \
            if p["launcher"] else None
    except CliError as exc:
        module.fail_json(msg=str(exc))
    prober = SessionProbe(
        tmux,
        name,
        sample_seconds=p["sample_seconds"],
        wedge_seconds=p["wedge_seconds"],
        state_dir=p["state_dir"],
        agent_names=p["agent_names"] or None,
        idle_pattern=p["idle_pattern"],
        tail_lines=p["tail_lines"],
        in_flight_names=p["in_flight_names"],
        build_timeout=p["build_timeout"],
    )
    session = Session(module, tmux, launcher, prober, env)
    finish = session.finish

    try:
        before = prober.probe()
        if state == "status":
            finish(before, before)

        if state == "finished":
            with Span("launcher", f"the {prober.session} session to finish its run") as span:
                run_finished(module, prober, before, finish, span)

        if module.check_mode:
            would = {
                "started": before.status != RUNNING,
                "fresh": True,
                "wedged": True,
                "stopped": before.status != ABSENT,
            }[state]
            finish(before, before, changed=would, msg=f"check mode: would {'change' if would else 'leave'} the session")

        if state == "wedged":
            session.seed_wedge(before)

        if state == "stopped" and before.status == ABSENT:
            finish(before, before, changed=False, survivors=[])

        failed = session.act({"started": "start", "fresh": "fresh", "stopped": "stop"}[state], before)
        after = prober.probe()
        changed = after.identity != before.identity
        if failed:
            finish(after, before, failed=failed, changed=changed)
        if state == "stopped":
            survivors = wait_gone(prober, before.agent_keys, 10)
            # an agent that lived at the stop must not carry its run to the end afterwards (a run
            # that ends within the wait above leaves no survivor, but it leaves its summary); a
            # second's grace for an agent writing its summary the moment the stop came
            returned = session.extra["acted_at"]["returned"]
            late = (summaries_after(p["root"], returned + 1)
                    if session.extra.get("alive_at_action") and p["root"] else [])
            if after.status != ABSENT:
                failed = f"session {name} is still there after stop ({after.status})"
            elif survivors:
                failed = f"stop left the agent process(es) {', '.join(survivors)} running after the session was gone"
            elif late:
                failed = (f"the stopped agent finished its run after the stop: {late[0]['path']} written "
                          f"{late[0]['seconds_after_stop']} s after the launcher's stop returned")
            finish(after, before, failed=failed, changed=changed, survivors=survivors, finished_after_stop=late)
        if after.status == ABSENT:
            said = last_line(session.extra.get("launcher_output") or "") or "nothing"
            finish(after, before, changed=changed,
                   failed=f"the session did not stay: no session {name} right after {state} (the launcher said: {said})")
        finish(after, before, changed=changed)
    except CliError as exc:
        module.fail_json(msg=str(exc))


def run_finished(module: AnsibleModule, prober: SessionProbe, before: Probe, finish, span: Span) -> None:
    p = module.params
    t0 = time.time()
    deadline = time.monotonic() + p["timeout"]
    current = before
    while True:
        waited = round(time.time() - t0, 3)
        if current.status == IDLE:
            since = p["since"] if p["since"] is not None else float(current.session_created or t0)
            path = text = None
            if p["root"]:
                path, text = newest_summary(p["root"], since)
            finish(current, before, waited_seconds=waited, since=since, summary_path=path, summary_text=text,
                   pane_text=prober.text())
        if current.status == ABSENT:
            seen = "" if before.status == ABSENT else f" (it was {before.status} in pane {before.pane_id})"
            finish(current, before, waited_seconds=waited,
                   failed=f"the session did not stay: no tmux session {prober.session} after its run{seen}; "
                          "it must stay idle with its output")
        if current.status == WEDGED:
            finish(current, before, waited_seconds=waited, pane_text=prober.text(),
                   failed=f"session {prober.session} is WEDGED: agent pid(s) {current.evidence.get('agent_pids')} quiet "
                          f"for {current.evidence.get('seconds_since_change')}s with nothing in flight")
        if time.monotonic() + p["interval"] > deadline:
            finish(current, before, waited_seconds=waited, pane_text=prober.text(),
                   failed=f"session {prober.session} still {current.status} after {p['timeout']}s")
        time.sleep(p["interval"])
        current = prober.probe()
        span.state(current.status)


if __name__ == "__main__":
    main()
