# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tmux wrapper, /proc process trees, and a probe that classifies an agent session.

The probe believes nothing a launcher prints: it reads the session's panes from tmux, the process
tree under each pane from ``/proc``, samples twice, and classifies:

``ABSENT``   no such session.
``IDLE``     the session is there but no agent process lives in any pane's process tree
             (or, with ``idle_pattern``, the agent is quiet and the pane shows its idle prompt).
``WEDGED``   the wedge rule (below) holds.
``RUNNING``  an agent process is alive and the wedge rule does not hold.

The wedge rule (the same one the lab's launcher applies): a session is wedged when its agent process
is alive and, for ``wedge_seconds``, its panes did not change, the agent's process tree used no CPU,
and nothing of its run was in flight. "In flight" is read cold from ``/proc``: a helper or deploy
process (``in_flight_names``: ``testme-on-pr.sh``, ``verify-pr.sh``, ``abra``) in the agent's process
tree, younger than ``build_timeout``. An agent waiting on a build runs the helper, so a healthy wait
of any length within the build timeout is never wedged. (Drone's own build state is not read here:
the probe runs on the box, where no Drone token is.)

A module run is short, so the time of the last change is kept between runs in a small JSON file
under ``state_dir``, keyed by session id, creation time and pane pid (a replaced session starts a
new history). ``TMUX_TMPDIR`` is honoured (the lab uses a private one).
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError, CliRunner
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import read_state, write_state

__all__ = [
    "ABSENT",
    "IDLE",
    "RUNNING",
    "WEDGED",
    "Pane",
    "Proc",
    "Probe",
    "SessionProbe",
    "Tmux",
    "proc_table",
    "process_tree",
    "read_proc",
    "freeze_tree",
    "IN_FLIGHT_NAMES",
    "WEDGE_RULE",
]

ABSENT, IDLE, RUNNING, WEDGED = "ABSENT", "IDLE", "RUNNING", "WEDGED"
IN_FLIGHT_NAMES = ("testme-on-pr.sh", "verify-pr.sh", "abra")
WEDGE_RULE = ("wedged = the agent is alive and, for wedge_seconds, its pane did not change, its process tree used "
              "no CPU, and no helper or deploy of its run (a testme-on-pr.sh, verify-pr.sh or abra process in its "
              "tree younger than build_timeout) was in flight")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "ash", "busybox", "tmux", "login"})


# -- /proc ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    state: str
    ticks: int  # utime + stime + cutime + cstime (clock ticks)
    argv: tuple[str, ...] = ()
    start: int = 0  # start time in clock ticks after boot: (pid, start) names one process for good

    @property
    def key(self) -> str:
        """``pid@start``: tells this process from a later one that reuses its pid."""
        return f"{self.pid}@{self.start}"

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - started_at(self.start))

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X", "x")

    @property
    def command(self) -> str:
        return " ".join(self.argv) if self.argv else f"[{self.comm}]"

    def names(self) -> set[str]:
        """Names this process answers to: comm, argv[0] and the script an interpreter runs."""
        found = {self.comm}
        if self.argv:
            found.add(os.path.basename(self.argv[0]))
            if len(self.argv) > 1 and self.argv[1] and not self.argv[1].startswith("-"):
                found.add(os.path.basename(self.argv[1]))
        return found


def read_proc(pid: int, proc_root: str = "/proc") -> Proc | None:
    """One process from ``/proc/<pid>/stat`` (+ cmdline); None when it is gone."""
    try:
        with open(f"{proc_root}/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: it ends at the last ')'
    open_, close = stat.find("("), stat.rfind(")")
    if open_ < 0 or close < 0:
        return None
    comm = stat[open_ + 1 : close]
    fields = stat[close + 2 :].split()
    try:
        state, ppid = fields[0], int(fields[1])
        ticks = sum(int(x) for x in fields[11:15])
        start = int(fields[19])
    except (IndexError, ValueError):
        return None
    try:
        with open(f"{proc_root}/{pid}/cmdline", "rb") as fh:
            argv = tuple(a.decode(errors="replace") for a in fh.read().split(b"\0") if a)
    except OSError:
        argv = ()
    return Proc(pid=pid, ppid=ppid, comm=comm, state=state, ticks=ticks, argv=argv, start=start)


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _boot_time(proc_root: str = "/proc") -> float:
    try:
        with open(f"{proc_root}/stat", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0.0


def started_at(start_ticks: int, proc_root: str = "/proc") -> float:
    """A process's start time (``/proc/<pid>/stat`` field 22) as unix time."""
    return _boot_time(proc_root) + start_ticks / _CLK_TCK


def freeze_tree(root: int, proc_root: str = "/proc") -> list[Proc]:
    """SIGSTOP *root* and its descendants (children first is not needed: stopped parents fork nothing).

    A stopped process is alive, prints nothing and uses no CPU: what a hung agent looks like from
    outside, whatever it hangs on. Returns the processes stopped.
    """
    stopped = []
    for proc in process_tree(root, proc_table(proc_root)):
        try:
            os.kill(proc.pid, signal.SIGSTOP)
            stopped.append(proc)
        except OSError:
            continue
    return stopped


def proc_table(proc_root: str = "/proc") -> dict[int, Proc]:
    table: dict[int, Proc] = {}
    try:
        entries = os.listdir(proc_root)
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            proc = read_proc(int(entry), proc_root)
            if proc:
                table[proc.pid] = proc
    return table


def process_tree(root: int, table: Mapping[int, Proc] | None = None) -> list[Proc]:
    """*root* and all its descendants (root first, breadth first); [] when root is gone."""
    table = proc_table() if table is None else table
    if root not in table:
        return []
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    out, todo, seen = [], [root], set()
    while todo:
        pid = todo.pop(0)
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        out.append(table[pid])
        todo.extend(sorted(children.get(pid, [])))
    return out


# -- tmux ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pane:
    pane_id: str
    pane_pid: int
    current_command: str
    dead: bool
    session_id: str
    session_created: int
    window_index: int
    history_size: int


_PANE_FORMAT = "\t".join(
    "#{%s}" % f
    for f in ("pane_id", "pane_pid", "pane_current_command", "pane_dead", "session_id", "session_created",
              "window_index", "history_size")
)


class Tmux(CliRunner):
    """The tmux CLI against one server (``TMUX_TMPDIR`` / ``-L socket``), never the caller's own."""

    binary_name = "tmux"
    path_option = "tmux_path"

    def __init__(
        self,
        path: str | None = None,
        tmpdir: str | None = None,
        socket_name: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 30,
    ) -> None:
        env = dict(env or {})
        if tmpdir:
            os.makedirs(tmpdir, mode=0o700, exist_ok=True)
            env["TMUX_TMPDIR"] = tmpdir
        super().__init__(path=path, env=env, timeout=timeout, base_args=["-L", socket_name] if socket_name else ())
        # inside a tmux pane $TMUX would point us at that server instead of TMUX_TMPDIR's
        self.env.pop("TMUX", None)
        self.env.pop("TMUX_PANE", None)

    @property
    def tmpdir(self) -> str | None:
        return self.env.get("TMUX_TMPDIR")

    def has_session(self, name: str) -> bool:
        return self.run(["has-session", "-t", f"={name}"])[0] == 0

    def panes(self, name: str) -> list[Pane]:
        """All panes of the session (every window); [] when there is no such session or server."""
        rc, out, err = self.run(["list-panes", "-s", "-t", f"={name}", "-F", _PANE_FORMAT])
        if rc != 0:
            if re.search(r"can't find (session|window|pane)|no server running|error connecting|No such file", err):
                return []
            raise CliError(f"tmux list-panes -t ={name} failed (rc {rc}): {err.strip()}", rc=rc, err=err)
        panes = []
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) != 8:
                continue
            try:
                panes.append(
                    Pane(pane_id=parts[0], pane_pid=int(parts[1]), current_command=parts[2], dead=parts[3] == "1",
                         session_id=parts[4], session_created=int(parts[5] or 0), window_index=int(parts[6] or 0),
                         history_size=int(parts[7] or 0))
                )
            except ValueError:
                continue
        return panes

    def capture(self, target: str, history: int = 0) -> str:
        """The pane's text (visible screen, plus *history* lines of scrollback); ``""`` if it is gone."""
        args = ["capture-pane", "-p", "-J", "-t", target]
        if history:
            args += ["-S", f"-{history}"]
        rc, out, dummy = self.run(args)
        return out if rc == 0 else ""

    def kill_session(self, name: str) -> bool:
        """Kill the session; True when there was one."""
        if not self.has_session(name):
            return False
        rc, dummy, err = self.run(["kill-session", "-t", f"={name}"])
        if rc != 0 and self.has_session(name):
            raise CliError(f"tmux kill-session -t ={name} failed (rc {rc}): {err.strip()}", rc=rc, err=err)
        return True

    def new_session(
        self,
        name: str,
        command: str | Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        width: int = 200,
        height: int = 50,
    ) -> None:
        """A detached session running *command* (a shell string, or argv run without a shell)."""
        args = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height)]
        if cwd:
            args += ["-c", cwd]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        if isinstance(command, str):
            args.append(command)
        elif command:
            args += list(command)
        self.run_checked(args, what=f"tmux new-session -s {name}")


# -- the probe -----------------------------------------------------------------------------------


@dataclass
class Probe:
    """One classification of a session, with the evidence it rests on."""

    status: str
    session: str
    session_id: str | None = None
    session_created: int | None = None
    pane_pid: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    pane_id: str | None = None
    pane_start: int | None = None  # the pane process's start (clock ticks after boot)
    agents: list[dict[str, Any]] = field(default_factory=list)  # {pid, start, key, state, argv}

    @property
    def identity(self) -> tuple | None:
        """Same value = same session, pane and pane process; differs when the session was replaced."""
        if self.status == ABSENT:
            return None
        return (self.session_id, self.session_created, self.pane_id, self.pane_pid, self.pane_start)

    @property
    def agent_keys(self) -> list[str]:
        return [a["key"] for a in self.agents]

    def brief(self) -> dict[str, Any]:
        """What tells this session and its processes from any other: for before/after comparisons."""
        return dict(status=self.status, session_id=self.session_id, session_created=self.session_created,
                    pane_id=self.pane_id, pane_pid=self.pane_pid, pane_start=self.pane_start,
                    agents=[dict(a) for a in self.agents])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Snap:
    at: float
    panes: list[Pane]
    text: str
    fingerprint: str
    agents: list[Proc]
    cpu: int
    tree: list[Proc]
    in_flight: list[Proc]
    table: dict[int, Proc]

    @property
    def first(self) -> Pane:
        return self.panes[0]

    @property
    def agent_pids(self) -> list[int]:
        return [p.pid for p in self.agents]


class SessionProbe:
    """Classify a tmux session as ABSENT / IDLE / RUNNING / WEDGED (see the module docstring).

    *agent_names* says which processes are the agent (matched against comm, argv[0] and the script
    an interpreter runs, by basename); None means any live non-shell process in the pane's tree.
    """

    def __init__(
        self,
        tmux: Tmux,
        session: str,
        sample_seconds: float = 2.0,
        wedge_seconds: float = 900.0,
        state_dir: str | None = None,
        agent_names: Iterable[str] | None = None,
        idle_pattern: str | None = None,
        tail_lines: int = 20,
        proc_root: str = "/proc",
        in_flight_names: Iterable[str] | None = IN_FLIGHT_NAMES,
        build_timeout: float = 3600.0,
    ) -> None:
        self.tmux = tmux
        self.session = session
        self.sample_seconds = max(0.0, float(sample_seconds))
        self.wedge_seconds = float(wedge_seconds)
        self.state_dir = state_dir or os.path.join(tempfile.gettempdir(), f"ccci-session-probe-{os.getuid()}")
        self.agent_names = set(agent_names) if agent_names else None
        self.idle_re = re.compile(idle_pattern, re.M) if idle_pattern else None
        self.tail_lines = tail_lines
        self.proc_root = proc_root
        self.in_flight_names = frozenset(in_flight_names or ())
        self.build_timeout = float(build_timeout)

    # -- sampling ------------------------------------------------------------------------------
    def is_agent(self, proc: Proc) -> bool:
        if not proc.alive:
            return False
        if self.agent_names is None:
            argv0 = os.path.basename(proc.argv[0]) if proc.argv else proc.comm
            return proc.comm not in SHELLS and argv0 not in SHELLS
        return bool(proc.names() & self.agent_names)

    def snapshot(self) -> _Snap | None:
        at = time.time()
        panes = self.tmux.panes(self.session)
        if not panes:
            return None
        table = proc_table(self.proc_root)
        texts, tree = [], []
        for pane in panes:
            texts.append(self.tmux.capture(pane.pane_id))
            if not pane.dead:
                tree.extend(process_tree(pane.pane_pid, table))
        agents = [p for p in tree if self.is_agent(p)]
        # CPU of the agents and everything under them (children's time is folded in when reaped)
        agent_tree: dict[int, Proc] = {}
        for agent in agents:
            for proc in process_tree(agent.pid, table):
                agent_tree[proc.pid] = proc
        cpu = sum(p.ticks for p in agent_tree.values())
        # a helper waiting on a build, or a deploy, of the agent's run: not wedged while it lasts
        in_flight = [p for p in agent_tree.values() if p.pid not in {a.pid for a in agents}
                     and p.names() & self.in_flight_names and p.age(at) < self.build_timeout]
        text = "\n".join(texts)
        marks = "|".join(f"{p.pane_id}:{p.history_size}:{p.dead}" for p in panes)
        fingerprint = hashlib.sha256((marks + "\n" + text).encode()).hexdigest()[:16]
        return _Snap(at=at, panes=panes, text=text, fingerprint=fingerprint, agents=agents, cpu=cpu, tree=tree,
                     in_flight=in_flight, table=table)

    def _state_path(self, snap: _Snap) -> str:
        key = f"{self.session}-{snap.first.session_id}-{snap.first.session_created}-{snap.first.pane_pid}"
        return os.path.join(self.state_dir, re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".json")

    def _save(self, path: str, data: Mapping[str, Any]) -> None:
        try:
            write_state(path, dict(data), folder_mode=0o700)
        except OSError:
            pass  # the probe still works, only without memory between runs

    # -- classification ------------------------------------------------------------------------
    def probe(self) -> Probe:
        first = self.snapshot()
        if first is None:
            return Probe(ABSENT, self.session, evidence={"reason": f"no tmux session {self.session}",
                                                         "tmux_tmpdir": self.tmux.tmpdir})
        if self.sample_seconds:
            # watching the agent: a wait on it (make bench counts it so, at the box's window)
            with Span("agent", f"the {self.session} pane to show whether its agent is busy",
                      sample=self.sample_seconds, ticker=False):
                time.sleep(self.sample_seconds)
        second = self.snapshot()
        if second is None:
            return Probe(ABSENT, self.session, evidence={"reason": f"tmux session {self.session} ended while sampled",
                                                         "tmux_tmpdir": self.tmux.tmpdir})
        now = time.time()
        same = (first.first.session_id, first.first.session_created, first.first.pane_pid) == (
            second.first.session_id, second.first.session_created, second.first.pane_pid)
        pane_changed = not same or first.fingerprint != second.fingerprint
        cpu_delta = second.cpu - first.cpu if same else 0
        agents_changed = not same or first.agent_pids != second.agent_pids
        in_flight = second.in_flight or first.in_flight
        active = pane_changed or cpu_delta > 0 or agents_changed or bool(in_flight)

        path = self._state_path(second)
        prev = read_state(path)
        if active:
            last_change = now
        elif prev.get("fingerprint") == second.fingerprint and prev.get("cpu") == second.cpu \
                and isinstance(prev.get("last_change"), (int, float)):
            last_change = float(prev["last_change"])
        else:
            last_change = first.at  # changed since the previous run, or no previous run: quiet since sample 1
        self._save(path, {"fingerprint": second.fingerprint, "cpu": second.cpu, "last_change": last_change, "at": now})
        quiet = round(max(0.0, now - last_change), 3)

        lines = second.text.rstrip("\n").splitlines()
        tail = "\n".join(lines[-self.tail_lines:]) if self.tail_lines else ""
        pane = second.first
        evidence = {
            "pane_pid": pane.pane_pid,
            "pane_id": pane.pane_id,
            "pane_current_command": pane.current_command,
            "pane_dead": pane.dead,
            "pane_pids": [p.pane_pid for p in second.panes],
            "agent_pids": second.agent_pids,
            "agent_commands": [p.command for p in second.agents],
            "processes": [{"pid": p.pid, "ppid": p.ppid, "comm": p.comm} for p in second.tree],
            "pane_changed": pane_changed,
            "seconds_since_change": quiet,
            "cpu_ticks": second.cpu,
            "cpu_ticks_delta": cpu_delta,
            "in_flight": [{"pid": p.pid, "command": p.command, "age": round(p.age(now), 1)} for p in in_flight],
            "pane_ids": [p.pane_id for p in second.panes],
            "panes": [{"pane_id": p.pane_id, "pane_pid": p.pane_pid,
                       "pane_start": second.table[p.pane_pid].start if p.pane_pid in second.table else None}
                      for p in second.panes],
            "sample_seconds": self.sample_seconds,
            "wedge_seconds": self.wedge_seconds,
            "build_timeout": self.build_timeout,
            "rule": WEDGE_RULE,
            "pane_tail": tail,
            "tmux_tmpdir": self.tmux.tmpdir,
            "state_file": path,
        }
        if not second.agents:
            status = IDLE
        elif active:
            status = RUNNING
        elif self.idle_re and self.idle_re.search(tail):
            status = IDLE
        elif quiet >= self.wedge_seconds:
            status = WEDGED
        else:
            status = RUNNING
        pane_proc = second.table.get(pane.pane_pid)
        agents = [{"pid": p.pid, "start": p.start, "key": p.key, "state": p.state, "argv": list(p.argv)}
                  for p in second.agents]
        return Probe(status, self.session, pane.session_id, pane.session_created, pane.pane_pid, evidence,
                     pane_id=pane.pane_id, pane_start=pane_proc.start if pane_proc else None, agents=agents)

    def alive(self, keys: Iterable[str]) -> list[str]:
        """Which of these ``pid@start`` processes still live (anywhere, in this session or not)."""
        out = []
        for key in keys:
            pid, dummy, start = str(key).partition("@")
            proc = read_proc(int(pid), self.proc_root) if pid.isdigit() else None
            if proc and proc.alive and str(proc.start) == start:
                out.append(key)
        return out

    def agents_now(self) -> list[Proc]:
        """The live agent processes in the session right now (one quick look, no sampling)."""
        snap = self.snapshot()
        return snap.agents if snap else []

    def text(self, history: int = 2000) -> str:
        """The text of the session's first pane, with up to *history* lines of scrollback."""
        panes = self.tmux.panes(self.session)
        return self.tmux.capture(panes[0].pane_id, history=history) if panes else ""
