# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab daemon (``python -m lab serve``) and the controls ``up``/``down``/``status`` use on it.

The daemon seeds Gitea's repositories, then starts the services in order gitea, registry, drone,
bridge (each later one sees the earlier URLs in the shared LabConfig), lays out the box, waits until
every service answers and only then writes ``lab.json``: a lab.json on disk means a lab that
answers. A service that fails to start stops the daemon with its error (``lab up`` shows it).
SIGTERM stops the services in reverse order and removes lab.json.

One daemon per state dir: it holds ``<state>/.daemon.lock`` for its life, and ``up``/``down``
hold ``<state>/.up.lock`` while they start or stop it, so two ``lab up`` at once start one daemon
(the second waits, then reuses it) and ``down`` never misses a daemon that is starting.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from lab import faults as lab_faults
from lab import seed
from lab.bridge import Bridge
from lab.config import LAB_DIR, LabConfig
from lab.crontab_sync import CrontabSync
from lab.drone import DroneService
from lab.gitea import GiteaService
from lab.registry import RegistryService

log = logging.getLogger("lab.daemon")

REPO_ROOT = LAB_DIR.parent
START_TIMEOUT = float(os.environ.get("CCCI_LAB_START_TIMEOUT", "20"))
# How long a `lab up`/`lab down` waits for another one on the same state dir to finish.
LOCK_TIMEOUT = START_TIMEOUT * 3 + 30


class Service(Protocol):
    def start(self) -> str | None: ...
    def stop(self) -> None: ...


# -- the daemon -----------------------------------------------------------------------------------
def _ports(state: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads((state / "ports.json").read_text()).items()}
    except (OSError, ValueError):
        return {}


def _try_lock(path: Path) -> IO[str] | None:
    """An exclusive flock on ``path`` (held while the returned file stays open), or None if taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - the lock lives as long as the handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


@contextmanager
def exclusive(state: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold ``<state>/.up.lock``: one ``up``/``down`` at a time per state dir; others wait."""
    path = state / ".up.lock"
    deadline = time.monotonic() + timeout
    while (handle := _try_lock(path)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"another `lab up`/`lab down` (pid {_holder(path)}) has held {path} for more than "
                               f"{timeout:.0f}s")
        time.sleep(0.1)
    try:
        yield
    finally:
        handle.close()


def answers(url: str, path: str = "/") -> bool:
    """Any HTTP answer (also 401/404) means the server is up."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + path, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def serve(state_dir: str, faults: list[str], build_seconds: float, poll_interval: float, *,
          runners: int = 1, max_response_items: int = 50) -> int:
    cfg = LabConfig.new(state_dir, faults, build_seconds, poll_interval, runners=runners,
                        max_response_items=max_response_items)
    state = Path(cfg.state_dir)
    daemon_lock = _try_lock(state / ".daemon.lock")
    if daemon_lock is None:
        log.error("a lab daemon (pid %s) already serves %s", _holder(state / ".daemon.lock"), state)
        return 1
    with daemon_lock:  # held until the daemon has stopped its services
        return _run(cfg, state)


def _run(cfg: LabConfig, state: Path) -> int:
    cfg.pid = os.getpid()
    (state / "lab.pid").write_text(str(cfg.pid))
    # Children (the harness, abra, tmux) find the lab the way the box scripts do.
    os.environ["CCCI_LAB_STATE"] = cfg.state_dir
    os.environ[lab_faults.ENV] = ",".join(cfg.faults)  # what this lab runs with, whatever the caller had
    os.environ["ABRA_DIR"] = cfg.abra_dir
    os.environ["PATH"] = f"{cfg.bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    ports = _ports(state)
    started: list[tuple[str, Service]] = []
    try:
        gitea = GiteaService(cfg, port=ports.get("gitea", 0))
        seed.seed_gitea(cfg, gitea.store, gitea.git_root)
        cfg.gitea_url = gitea.start()
        started.append(("gitea", gitea))
        registry = RegistryService(cfg, port=ports.get("registry", 0))
        cfg.registry_url = registry.start()
        started.append(("registry", registry))
        drone = DroneService(cfg)
        drone_url = drone.start()
        started.append(("drone", drone))
        if not drone_url:
            raise RuntimeError("drone started without a URL")
        cfg.drone_url = drone_url
        log.info("drone started on %s", cfg.drone_url)
        bridge = Bridge(cfg)
        bridge.start()
        started.append(("bridge", bridge))
        log.info("bridge started")
        seed.lay_out_box(cfg)
        sync = CrontabSync(cfg)  # the box's provisioning: under a cron-sync-* mutant it rewrites the entry
        sync.start()
        started.append(("crontab sync", sync))
        _wait_until_answering(cfg)
    except Exception as exc:  # any service's error ends the daemon; `lab up` shows the last line
        log.exception("traceback")
        _stop_all(started)
        _cleanup(state, cfg.pid)
        log.error("lab failed to start: %s: %s", type(exc).__name__, exc)
        return 1
    (state / "ports.json").write_text(json.dumps(
        {n: int(u.rsplit(":", 1)[1]) for n, u in (("gitea", cfg.gitea_url), ("registry", cfg.registry_url))}))
    cfg.write()
    log.info("lab up: %s (faults: %s)", cfg.path, ",".join(cfg.faults) or "none")
    stop.wait()
    log.info("stopping")
    failed = _stop_all(started)
    _cleanup(state, cfg.pid)
    if failed:
        log.error("stopped; these failed to stop cleanly: %s", ", ".join(failed))
        return 1
    log.info("stopped")
    return 0


def _wait_until_answering(cfg: LabConfig) -> None:
    checks = [(cfg.gitea_url, "/api/v1/version"), (cfg.registry_url, "/v2/"), (cfg.drone_url, "/")]
    deadline = time.monotonic() + START_TIMEOUT
    for url, path in checks:
        while not answers(url, path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}{path} does not answer")
            time.sleep(0.1)


def _stop_all(started: list[tuple[str, Service]]) -> list[str]:
    """Stop every service even when one fails; the names of those that failed (logged with why)."""
    failed = []
    for name, svc in reversed(started):
        t0 = time.monotonic()
        try:
            svc.stop()
            log.info("%s stopped in %.2fs", name, time.monotonic() - t0)
        except Exception:  # stopping the others first; the daemon's exit status reports this one
            log.exception("stopping %s failed", name)
            failed.append(name)
    return failed


def _cleanup(state: Path, pid: int) -> None:
    for name in ("lab.json", "lab.pid"):
        path = state / name
        try:
            if name == "lab.pid" and path.read_text().strip() != str(pid):
                continue
            if name == "lab.json" and json.loads(path.read_text()).get("pid") != pid:
                continue
            path.unlink()
        except (OSError, ValueError):
            pass


# -- controls used by the CLI ---------------------------------------------------------------------
def _alive(pid: int) -> bool:
    """Our daemon only: a live pid whose command line is ``python -m lab serve``."""
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        pass
    return b"lab" in cmdline and b"serve" in cmdline


def running(state: Path) -> LabConfig | None:
    """The running lab's config, or None when the lab is down."""
    try:
        cfg = LabConfig.load(state)
    except (OSError, ValueError, TypeError):
        return None
    if not _alive(cfg.pid) or not answers(cfg.gitea_url, "/api/v1/version"):
        return None
    return cfg


def _daemon_pid(state: Path) -> int:
    """The live daemon of this state dir: lab.pid, lab.json, or the holder of .daemon.lock (the
    daemon writes it first, so also one that never got as far as lab.pid)."""
    for name in ("lab.pid", "lab.json", ".daemon.lock"):
        try:
            text = (state / name).read_text()
            pid = int(json.loads(text)["pid"]) if name == "lab.json" else int(text)
        except (OSError, ValueError, KeyError):
            continue
        if _alive(pid):
            return pid
    return 0


def up(state: Path, faults: list[str], build_seconds: float, poll_interval: float,
       fresh: bool, *, runners: int = 1, max_response_items: int = 50) -> tuple[Path, bool]:
    """Start the lab unless it already runs with these settings; (lab.json, whether it started).
    Two at once on one state dir: the second waits for the first, then reuses its lab."""
    lab_faults.validate(faults)
    if max_response_items < 1:
        raise ValueError(f"max_response_items must be at least 1, not {max_response_items}")
    state.mkdir(parents=True, exist_ok=True)
    with exclusive(state):
        return _up(state, faults, build_seconds, poll_interval, fresh, runners, max_response_items)


def _up(state: Path, faults: list[str], build_seconds: float, poll_interval: float,
        fresh: bool, runners: int, max_response_items: int = 50) -> tuple[Path, bool]:
    if fresh:
        _down(state)
        for entry in state.iterdir():  # everything but the locks (this `up` holds one, make run another)
            if entry.name.startswith(".") and entry.name.endswith(".lock"):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    current = running(state)
    if current is not None:
        if (sorted(current.faults) == sorted(set(faults)) and current.build_seconds == build_seconds
                and current.poll_interval == poll_interval and current.runners == runners
                and current.max_response_items == max_response_items):
            return current.path, False
        log.info("lab up with other settings: restarting")
        _down(state)
    elif _daemon_pid(state):
        _down(state)  # a daemon that never came up (or stopped answering)
    state.mkdir(parents=True, exist_ok=True)
    (state / "lab.json").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "lab", "serve", "--state", str(state), "--faults", ",".join(faults),
           "--build-seconds", str(build_seconds), "--poll-interval", str(poll_interval), "--runners", str(runners),
           "--max-response-items", str(max_response_items)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.pop("TMUX", None)  # lab tmux sessions must never land on the operator's tmux server
    with open(state / "lab.log", "ab") as logf:
        child = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT + 5
    while time.monotonic() < deadline:
        if child.poll() is not None:
            tail = _tail(state / "lab.log")
            raise RuntimeError(f"{tail.splitlines()[-1] if tail else 'no log'}\n(the lab daemon exited with "
                               f"{child.returncode}; the end of {state / 'lab.log'}:)\n{tail}")
        try:
            if json.loads((state / "lab.json").read_text()).get("pid") == child.pid:
                return state / "lab.json", True
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    _terminate(child.pid)
    raise RuntimeError(f"lab did not come up within {START_TIMEOUT + 5:.0f}s; see {state / 'lab.log'}:\n"
                       + _tail(state / "lab.log"))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL; then whatever is left in its process group (its children)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    for sig in (signal.SIGKILL,):
        try:
            os.killpg(pid, sig)  # the daemon leads its own session: pgid == pid
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def down(state: Path) -> bool:
    """Stop the daemon, the lab tmux server and the lab's cron entries. True if a daemon ran."""
    if not state.is_dir():
        return False
    with exclusive(state):
        return _down(state)


def _down(state: Path) -> bool:
    pid = _daemon_pid(state)
    if pid:
        _terminate(pid)
    tmux_dir = _tmux_dir(state)
    if tmux_dir:
        _kill_tmux(tmux_dir)
    _drop_cron_entries(state)
    for name in ("lab.json", "lab.pid"):
        (state / name).unlink(missing_ok=True)
    return bool(pid)


def _tmux_dir(state: Path) -> Path | None:
    try:
        return Path(json.loads((state / "lab.json").read_text())["tmux_tmpdir"])
    except (OSError, ValueError, KeyError):
        path = state / "tmux"
        return path if path.is_dir() else None


def _kill_tmux(tmux_dir: Path) -> None:
    """Only servers whose socket is under the lab's TMUX_TMPDIR: never the operator's tmux."""
    if not shutil.which("tmux") or not tmux_dir.is_dir():
        return
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    env["TMUX_TMPDIR"] = str(tmux_dir)
    sockets = [p for p in tmux_dir.rglob("*") if p.is_socket()]
    for sock in sockets:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], env=env, capture_output=True, check=False)


def _drop_cron_entries(state: Path) -> None:
    """The lab's weekly job: crontab lines naming this lab's state dir, with the whole managed
    BEGIN..END block around them; then the cron daemon the lab run started (its pid file), unless the
    crontab still holds another lab's entry: that lab (a parallel mutant run) waits on the daemon's fire."""
    others = False
    if shutil.which("crontab"):
        proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            lines = proc.stdout.splitlines()
            kept = _without_lab_blocks(lines, str(state))
            others = any(_waiting(line) for line in kept)
            if kept != lines and any(line.strip() for line in kept):
                subprocess.run(["crontab", "-"], input="\n".join(kept) + "\n", text=True, capture_output=True,
                               check=False)
            elif kept != lines:  # nothing of anyone else's left: no crontab at all, not a blank one
                subprocess.run(["crontab", "-r"], capture_output=True, check=False)
    for pidfile in state.glob("srv/cc-ci/.cc-ci-logs/upgrades/*.daemon-pid"):
        try:
            if not others:
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            pass
        pidfile.unlink(missing_ok=True)


def _waiting(line: str) -> bool:
    """A job line of another lab's weekly entry whose first fire is ahead or just past (being watched)."""
    m = re.search(r"\sccci-upgrade-all anchor=(\S+)$", line)
    if line.startswith("#") or not m:
        return False
    try:
        return datetime.fromisoformat(m.group(1)).timestamp() > time.time() - 15 * 60
    except ValueError:
        return False


def _without_lab_blocks(lines: list[str], marker: str) -> list[str]:
    kept: list[str] = []
    block: list[str] = []
    for line in lines:
        if block:
            block.append(line)
            if line.startswith("# END "):
                if not any(marker in entry for entry in block):
                    kept += block
                block = []
        elif line.startswith("# BEGIN "):
            block = [line]
        elif marker not in line:
            kept.append(line)
    return kept + [line for line in block if marker not in line]


def status(state: Path) -> dict[str, Any] | None:
    cfg = running(state)
    return json.loads(cfg.path.read_text()) if cfg else None
