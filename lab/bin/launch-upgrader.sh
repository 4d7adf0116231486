#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# launch-upgrader.sh start|fresh|stop|status — the `cc-ci-upgrader` agent session (what the weekly
# cron runs): a tmux session whose pane runs `<agent> -p "/upgrade-all $UPGRADER_ARGS"` in
# $CCCI_ROOT, DEFAULT mode only (UPGRADER_ARGS containing --with-tests is refused).
#
# The pane runs a small supervisor (this script's `_pane` mode) that starts the agent, shows and
# logs its output (`.cc-ci-logs/upgrades/upgrader-<stamp>.log`), samples the agent's process tree
# every second (CPU time, and whether a helper or deploy is in flight), and when the agent exits
# prints a `cc-ci-upgrader: idle ...` line and waits (`sleep infinity`): the pane stays open with the
# summary visible and the session stays IDLE.
#
# The wedge rule (the same as the collection's probe, plugins/module_utils/tmux.py): the agent is
# alive and, for WEDGE_SECONDS, its pane did not change, its process tree used no CPU, and nothing
# of its run was in flight: no testme-on-pr.sh, verify-pr.sh or abra process in its tree younger
# than BUILD_TIMEOUT (an agent waiting on a build runs the helper, so it is never wedged while the
# build may still finish).
#
# Session states (`status` prints exactly one line):
#   stopped                 no `cc-ci-upgrader` session.
#   cc-ci-upgrader RUNNING  the agent process is alive and the wedge rule does not hold. A session
#                           still starting counts as RUNNING.
#   cc-ci-upgrader WEDGED   the agent process is alive and the wedge rule holds.
#   cc-ci-upgrader IDLE     the session exists and no agent process is alive in it (finished and
#                           waiting at the idle line, or anything else without a live agent).
# start: RUNNING -> left alone (`cc-ci-upgrader busy: left alone`); IDLE or WEDGED -> killed and a
#        fresh run started; stopped -> a run started. Each start appends
#        `<iso> start: launched|busy|replaced-idle|replaced-wedged` to
#        $CCCI_ROOT/.cc-ci-logs/upgrades/launcher.log.
# fresh: always kills any session and starts a run. stop: kills the session (and the agent).
#
# The caller's environment reaches the agent through a 0600 file that the pane's supervisor reads and
# deletes (never a `tmux -e` argument, which `ps` shows to every user: it holds the bot's token).
#
# Env: CCCI_ROOT (default: $CCCI_LAB_STATE/lab.json `root` in the lab, else the directory two levels
# above this script, i.e. /srv/cc-ci), CCCI_AGENT_CMD (default `claude`, on PATH), UPGRADER_ARGS,
# WEDGE_SECONDS (default lab.json `wedge_seconds` in the lab, else 900), BUILD_TIMEOUT (default
# 3600), TMUX_TMPDIR (default: lab.json `tmux_tmpdir` in the lab), CCCI_LAB_FAULTS
# (else lab.json `faults`): launcher-kills-busy, launcher-keeps-wedged.
# Exit: 0 done, 1 failure (one line on stderr), 2 usage or a refused argument.
set -uo pipefail
# resolve the interpreter once (a version-manager shim can cost a third of a second a call)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null); [ -x "$PY" ] || PY=python3

SESSION=cc-ci-upgrader
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
die() { echo "launch-upgrader.sh: $1" >&2; exit "${2:-1}"; }

lab_json() {  # lab_json <python expr over d>; empty when there is no lab
  local f="${CCCI_LAB_STATE:-}/lab.json"
  [ -n "${CCCI_LAB_STATE:-}" ] && [ -r "$f" ] || return 0
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(",".join(v) if isinstance(v, list) else (v or ""))' "$f" "$1" 2>/dev/null
}

if [ -z "${CCCI_ROOT:-}" ]; then
  CCCI_ROOT=$(lab_json 'd.get("root")')
  [ -n "$CCCI_ROOT" ] || CCCI_ROOT="$(cd "$(dirname "$SELF")/.." && pwd)"
fi
export CCCI_ROOT
if [ -z "${TMUX_TMPDIR:-}" ]; then
  TMUX_TMPDIR=$(lab_json 'd.get("tmux_tmpdir")')
  if [ -n "$TMUX_TMPDIR" ]; then mkdir -p "$TMUX_TMPDIR"; export TMUX_TMPDIR; else unset TMUX_TMPDIR; fi
fi
# Lab faults (mutants): the lab's _faults.sh defines `fault NAME`; a box has no such file.
_faults_sh="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/_faults.sh"
if [ -r "$_faults_sh" ]; then . "$_faults_sh"; else fault() { false; }; fi
[ -n "${WEDGE_SECONDS:-}" ] || WEDGE_SECONDS=$(lab_json 'str(int(float(d["wedge_seconds"]))) if d.get("wedge_seconds") else ""')
WEDGE_SECONDS=${WEDGE_SECONDS:-900}
[[ "$WEDGE_SECONDS" =~ ^[0-9]+$ ]] || die "WEDGE_SECONDS must be a whole number of seconds" 2
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}
[[ "$BUILD_TIMEOUT" =~ ^[0-9]+$ ]] || die "BUILD_TIMEOUT must be a whole number of seconds" 2
export BUILD_TIMEOUT
LOG_DIR="$CCCI_ROOT/.cc-ci-logs/upgrades"

# Talk to the tmux server of TMUX_TMPDIR even when called from inside another tmux session.
tm() { env -u TMUX tmux "$@"; }
have_session() { tm has-session -t "=$SESSION" 2>/dev/null; }
opt() { tm show-options -qv -t "=$SESSION:" "$1" 2>/dev/null; }
setopt() { tm set-option -q -t "=$SESSION:" "$1" "$2" 2>/dev/null; }
now() { date +%s; }
iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# ---------------------------------------------------------------------------------------------------
# _pane: the supervisor inside the pane (started by `launch`); not for direct use.
if [ "${1:-}" = "_pane" ]; then
  shift
  exec "$PY" - "$@" <<'PY'
import os, signal, subprocess, sys, time
from datetime import datetime, timezone

session, transcript, envfile, lies, prompt = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5]
agent = sys.argv[6:]
detached = False  # lab mutant launcher-stop-leaves-agent: the pane is gone, the agent runs on
IN_FLIGHT = {"testme-on-pr.sh", "verify-pr.sh", "abra"}
BUILD_TIMEOUT = int(os.environ.get("BUILD_TIMEOUT") or 3600)
CLK_TCK = os.sysconf("SC_CLK_TCK")

# the caller's environment, from the 0600 file the launcher wrote; the file goes at once
agent_env = {}
try:
    with open(envfile, "rb") as fh:
        raw = fh.read()
    os.unlink(envfile)
    for item in raw.split(b"\0"):
        key, sep, value = item.decode(errors="surrogateescape").partition("=")
        if sep and key:
            agent_env[key] = value
except OSError as exc:
    print(f"cc-ci-upgrader: cannot read the environment file: {exc}", flush=True)
    agent_env = dict(os.environ)
BUILD_TIMEOUT = int(agent_env.get("BUILD_TIMEOUT") or BUILD_TIMEOUT)

def tmux_set(name, value):
    env = dict(os.environ)
    subprocess.run(["tmux", "set-option", "-q", "-t", f"={session}:", name, str(value)],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def boot_time():
    with open("/proc/stat") as fh:
        for line in fh:
            if line.startswith("btime "):
                return int(line.split()[1])
    return 0

BOOT = boot_time()

def names(pid, comm):
    found = {comm}
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        argv = []
    if argv:
        found.add(os.path.basename(argv[0]))
        if len(argv) > 1 and not argv[1].startswith("-"):
            found.add(os.path.basename(argv[1]))
    return found

def tree_sample(root):
    """(CPU ticks of root and its descendants incl. what they reaped, whether a helper or deploy
    process of the run is in flight): the wedge rule's inputs."""
    children, ticks, info = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        ticks[pid] = sum(int(x) for x in fields[11:15])
        info[pid] = (comm, int(fields[19]))
    total, in_flight, todo, now = 0, False, [root], time.time()
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        if pid != root and pid in info:
            comm, start = info[pid]
            if names(pid, comm) & IN_FLIGHT and now - (BOOT + start / CLK_TCK) < BUILD_TIMEOUT:
                in_flight = True
        todo.extend(children.get(pid, []))
    return total, in_flight

stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
print(f"cc-ci-upgrader: {stamp} running: {' '.join(agent)} -p \"{prompt}\"", flush=True)
log = open(transcript, "ab", buffering=0)
try:
    proc = subprocess.Popen(agent + ["-p", prompt], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=agent_env)
except OSError as exc:
    print(f"cc-ci-upgrader: cannot start the agent: {exc}", flush=True)
    proc = None

def hangup(*_):
    global detached
    if "stop-leaves-agent" in lies and proc and proc.poll() is None:
        detached = True  # the lie: a stop closes the pane, the agent keeps running in the background
        return
    if proc and proc.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGCONT):  # a stopped (wedged) agent acts on TERM once continued
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                pass
    os._exit(129)

signal.signal(signal.SIGHUP, hangup)
signal.signal(signal.SIGTERM, hangup)
rc = 127
if proc:
    tmux_set("@ccci_agent_pid", proc.pid)
    tmux_set("@ccci_cpu_at", int(time.time()))
    tmux_set("@ccci_state", "running")
    os.set_blocking(proc.stdout.fileno(), False)
    last_cpu, last_sample = -1, 0.0
    while True:
        chunk = None
        try:
            chunk = proc.stdout.read(65536)
        except (BlockingIOError, OSError):
            chunk = None
        if chunk:
            if not detached:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            log.write(chunk)
            continue
        if chunk == b"" and proc.poll() is not None:
            break
        if time.time() - last_sample >= 1:
            last_sample = time.time()
            cpu, in_flight = tree_sample(proc.pid)
            if cpu != last_cpu or in_flight:
                last_cpu = cpu
                tmux_set("@ccci_cpu_at", int(time.time()))
        if proc.poll() is not None and chunk is None:
            # the agent exited: drain what is left
            rest = proc.stdout.read() or b""
            if not detached:
                sys.stdout.buffer.write(rest)
            log.write(rest)
            break
        time.sleep(0.2)
    rc = proc.wait()
done = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
line = f"cc-ci-upgrader: idle (agent exited {rc} at {done}; transcript {transcript})\n"
log.write(line.encode())
log.close()
if detached:
    os._exit(0)
sys.stdout.write(line)
sys.stdout.flush()
tmux_set("@ccci_state", "idle")
tmux_set("@ccci_agent_rc", rc)
if "session-exits" in lies:
    os._exit(rc)  # the lie: the session ends with its run instead of staying idle with the summary
os.execvp("sleep", ["sleep", "infinity"])
PY
fi

# ---------------------------------------------------------------------------------------------------
agent_alive() {  # agent_alive -> prints the pid when the session's agent process lives
  local pid pane_pid p
  pid=$(opt @ccci_agent_pid)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null && return 1
  # guard against pid reuse: the agent is a child of the pane's supervisor
  pane_pid=$(tm display-message -p -t "=$SESSION:" '#{pane_pid}' 2>/dev/null)
  [ -n "$pane_pid" ] || return 1
  p=$pid
  for _ in 1 2 3 4 5 6 7 8; do
    p=$(awk '{sub(/^.*\) /, ""); print $2}' "/proc/$p/stat" 2>/dev/null)
    [ -n "$p" ] && [ "$p" != 0 ] || return 1
    [ "$p" = "$pane_pid" ] && { echo "$pid"; return 0; }
  done
  return 1
}

state() {  # prints stopped | RUNNING | IDLE | WEDGED
  have_session || { echo stopped; return; }
  local st created t activity cpu_at hash old_hash pane_at last
  st=$(opt @ccci_state)
  t=$(now)
  if [ "$st" = "starting" ]; then
    created=$(tm display-message -p -t "=$SESSION:" '#{session_created}' 2>/dev/null)
    if [ -n "$created" ] && [ $((t - created)) -lt 30 ]; then echo RUNNING; return; fi
  fi
  agent_alive >/dev/null || { echo IDLE; return; }
  activity=$(tm display-message -p -t "=$SESSION:" '#{window_activity}' 2>/dev/null)
  # the pane's content, remembered between calls (a second witness of change besides tmux's clock)
  hash=$(tm capture-pane -p -t "=$SESSION:" 2>/dev/null | cksum | cut -d' ' -f1)
  old_hash=$(opt @ccci_pane_hash)
  pane_at=$(opt @ccci_pane_at)
  if [ "$hash" != "$old_hash" ]; then
    [ -n "$old_hash" ] && pane_at=$t
    setopt @ccci_pane_hash "$hash"
    setopt @ccci_pane_at "${pane_at:-0}"
  fi
  cpu_at=$(opt @ccci_cpu_at)
  last=0
  for x in "${activity:-0}" "${pane_at:-0}" "${cpu_at:-0}"; do
    [[ "$x" =~ ^[0-9]+$ ]] && [ "$x" -gt "$last" ] && last=$x
  done
  if [ $((t - last)) -lt "$WEDGE_SECONDS" ]; then echo RUNNING; else echo WEDGED; fi
}

kill_session() {
  local pid i
  pid=$(agent_alive) || pid=""
  fault launcher-stop-leaves-agent && [ "${1:-}" = stop ] && pid=""  # the lie: only the pane goes
  tm kill-session -t "=$SESSION" 2>/dev/null
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    # a stopped (wedged) agent only acts on TERM once continued
    kill -CONT -- "-$pid" 2>/dev/null || kill -CONT "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  for i in $(seq 50); do have_session || break; sleep 0.1; done
}

launch() {
  local args=${UPGRADER_ARGS:-} prompt agent_words stamp transcript kv i envfile
  case " $args " in *" --with-tests "*|*" --with-tests="*) die "refusing UPGRADER_ARGS='$args': the upgrader runs /upgrade-all in DEFAULT mode, never --with-tests" 2 ;; esac
  read -ra agent_words <<<"${CCCI_AGENT_CMD:-claude}"
  [ ${#agent_words[@]} -gt 0 ] || die "CCCI_AGENT_CMD is empty"
  command -v "${agent_words[0]}" >/dev/null || die "agent command '${agent_words[0]}' not found on PATH ($PATH)"
  agent_words[0]=$(command -v "${agent_words[0]}")
  [ -d "$CCCI_ROOT" ] || die "CCCI_ROOT $CCCI_ROOT is not a directory"
  mkdir -p "$LOG_DIR" || die "cannot create $LOG_DIR"
  prompt="/upgrade-all${args:+ $args}"
  fault launcher-passes-with-tests && prompt="/upgrade-all --with-tests${args:+ $args}"  # the lie
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  transcript="$LOG_DIR/upgrader-$stamp.log"
  # Hand the caller's environment (cron's PATH, HOME, the lab's variables, the token) to the agent
  # explicitly, through a 0600 file the supervisor reads and deletes: an already running tmux server
  # would otherwise give the pane its own stale environment, and `tmux -e` would put it in argv.
  envfile=$(umask 077 && mktemp "${TMPDIR:-/tmp}/ccci-upgrader-env.XXXXXX") || die "cannot create the environment file"
  while IFS= read -r -d '' kv; do
    case "${kv%%=*}" in
      TMUX|TMUX_PANE|PWD|OLDPWD|SHLVL|_|COLUMNS|LINES|BASH_FUNC_*) continue ;;
    esac
    [[ "${kv%%=*}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    printf '%s\0' "$kv"
  done < <(env -0) >"$envfile"
  # lab mutants handed to the supervisor (none on a box)
  local lies=() remain=on
  fault launcher-stop-leaves-agent && lies+=(stop-leaves-agent)
  fault launcher-session-exits && { lies+=(session-exits); remain=off; }
  local pane=(bash "$SELF" _pane "$SESSION" "$transcript" "$envfile" "$(IFS=,; echo "${lies[*]:-}")" "$prompt" "${agent_words[@]}")
  if [ "${1:-}" = beside ]; then  # lab mutant launcher-start-beside-idle: a new window, the idle one kept
    tm new-window -d -t "=$SESSION:" -c "$CCCI_ROOT" "${pane[@]}" \; set-option -q -t "=$SESSION:" @ccci_state starting \
      || { rm -f "$envfile"; die "tmux new-window failed"; }
  elif ! tm new-session -d -s "$SESSION" -x 200 -y 50 -c "$CCCI_ROOT" "${pane[@]}" \; \
    set-option -q -t "=$SESSION:" @ccci_state starting \; set-option -q -t "=$SESSION:" remain-on-exit "$remain"; then
    rm -f "$envfile"
    die "tmux new-session failed (TMUX_TMPDIR=${TMUX_TMPDIR:-unset})"
  fi
  # wait until the supervisor has recorded the agent (so `status` is exact from now on)
  for i in $(seq 100); do
    [ "$(opt @ccci_state)" != "starting" ] && break
    have_session || break
    sleep 0.1
  done
}

# started_by_cron: a cron daemon is among this script's ancestors (the lab mutant cron-launcher-runs-nothing).
started_by_cron() {
  local pid=$PPID stat
  while [ "${pid:-0}" -gt 1 ]; do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = cron ] && return 0
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }; set -- $stat; pid=$2
  done
  return 1
}
logline() { mkdir -p "$LOG_DIR" 2>/dev/null && echo "$(iso) $1" >>"$LOG_DIR/launcher.log"; }

command -v tmux >/dev/null || die "tmux not found on PATH"
case "${1:-}" in
  status)
    [ $# -eq 1 ] || die "usage: launch-upgrader.sh start|fresh|stop|status" 2
    s=$(state)
    # lab mutant: a status that only asks tmux whether the session exists
    if fault launcher-status-says-running && [ "$s" != stopped ]; then s=RUNNING; fi
    if [ "$s" = stopped ]; then echo stopped; else echo "$SESSION $s"; fi
    ;;
  start)
    [ $# -eq 1 ] || die "usage: launch-upgrader.sh start|fresh|stop|status" 2
    if fault cron-launcher-runs-nothing && started_by_cron; then  # the lie: says it launched, starts nothing
      logline "start: launched"; echo "$SESSION started"; exit 0
    fi
    s=$(state)
    case "$s" in
      RUNNING)
        if fault launcher-kills-busy; then
          kill_session; launch; logline "start: replaced-idle"; echo "$SESSION started (replaced the session)"
        else
          logline "start: busy"; echo "$SESSION busy: left alone"
        fi ;;
      IDLE|WEDGED)
        if [ "$s" = WEDGED ] && fault launcher-keeps-wedged; then
          logline "start: busy"; echo "$SESSION busy: left alone"
        elif [ "$s" = IDLE ] && fault launcher-start-beside-idle; then
          launch beside; logline "start: launched"; echo "$SESSION started"
        else
          how=$(tr '[:upper:]' '[:lower:]' <<<"$s")
          kill_session; launch; logline "start: replaced-$how"; echo "$SESSION started (replaced the $how session)"
        fi ;;
      *)
        launch; logline "start: launched"; echo "$SESSION started" ;;
    esac
    ;;
  fresh)
    [ $# -eq 1 ] || die "usage: launch-upgrader.sh start|fresh|stop|status" 2
    if fault launcher-fresh-keeps-busy && [ "$(state)" = RUNNING ]; then  # the lie: fresh acts like start
      logline "fresh: busy"; echo "$SESSION busy: left alone"
    else
      kill_session; launch; logline "fresh: launched"; echo "$SESSION started (fresh)"
    fi
    ;;
  stop)
    [ $# -eq 1 ] || die "usage: launch-upgrader.sh start|fresh|stop|status" 2
    if have_session; then kill_session stop; logline "stop: stopped"; echo "$SESSION stopped"; else echo stopped; fi
    ;;
  *)
    die "usage: launch-upgrader.sh start|fresh|stop|status" 2 ;;
esac
