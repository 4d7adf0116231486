"""The lab daemon (``python -m lab serve``) and the controls ``up``/``down``/``status`` use on it.

The daemon starts the services in order gitea, registry, drone, bridge (each later one sees the
earlier URLs in the shared LabConfig), lays out the box, waits until every service answers and only
then writes ``lab.json``: a lab.json on disk means a lab that answers. SIGTERM stops the services
in reverse order and removes lab.json.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from lab import faults as lab_faults
from lab.config import LAB_DIR, LabConfig

log = logging.getLogger("lab.daemon")

REPO_ROOT = LAB_DIR.parent
START_TIMEOUT = float(os.environ.get("CCCI_LAB_START_TIMEOUT", "20"))


class Service(Protocol):
    def start(self) -> str | None: ...
    def stop(self) -> None: ...


# -- the daemon -----------------------------------------------------------------------------------
def _ports(state: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads((state / "ports.json").read_text()).items()}
    except (OSError, ValueError):
        return {}


def _optional(module: str, cls: str, cfg: LabConfig) -> Service | None:
    """Drone and the bridge are built by other parts of the lab; a missing one is a warning."""
    try:
        return getattr(importlib.import_module(module), cls)(cfg)
    except Exception as exc:  # ImportError, or a half-written module: keep the rest of the lab up
        log.warning("%s.%s unavailable, lab runs without it: %s", module, cls, exc)
        return None


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
          runners: int = 1) -> int:
    from lab import seed
    from lab.gitea import GiteaService
    from lab.registry import RegistryService

    cfg = LabConfig.new(state_dir, faults, build_seconds, poll_interval, runners=runners)
    state = Path(cfg.state_dir)
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
        cfg.gitea_url = gitea.start()
        started.append(("gitea", gitea))
        registry = RegistryService(cfg, port=ports.get("registry", 0))
        cfg.registry_url = registry.start()
        started.append(("registry", registry))
        for name, module, cls in (("drone", "lab.drone", "DroneService"), ("bridge", "lab.bridge", "Bridge")):
            svc = _optional(module, cls, cfg)
            if svc is None:
                continue
            url = svc.start()
            if name == "drone" and url:
                cfg.drone_url = url
            started.append((name, svc))
            log.info("%s started%s", name, f" on {url}" if url else "")
        seed.lay_out_box(cfg)
        _wait_until_answering(cfg)
    except Exception:
        log.exception("lab failed to start")
        _stop_all(started)
        _cleanup(state, cfg.pid)
        return 1
    (state / "ports.json").write_text(json.dumps(
        {n: int(u.rsplit(":", 1)[1]) for n, u in (("gitea", cfg.gitea_url), ("registry", cfg.registry_url))}))
    cfg.write()
    log.info("lab up: %s (faults: %s)", cfg.path, ",".join(cfg.faults) or "none")
    stop.wait()
    log.info("stopping")
    _stop_all(started)
    _cleanup(state, cfg.pid)
    log.info("stopped")
    return 0


def _wait_until_answering(cfg: LabConfig) -> None:
    checks = [(cfg.gitea_url, "/api/v1/version"), (cfg.registry_url, "/v2/")]
    if cfg.drone_url:
        checks.append((cfg.drone_url, "/"))
    deadline = time.monotonic() + START_TIMEOUT
    for url, path in checks:
        while not answers(url, path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}{path} does not answer")
            time.sleep(0.1)


def _stop_all(started: list[tuple[str, Service]]) -> None:
    for name, svc in reversed(started):
        t0 = time.monotonic()
        try:
            svc.stop()
            log.info("%s stopped in %.2fs", name, time.monotonic() - t0)
        except Exception:  # stopping the others matters more than this one's error
            log.exception("stopping %s failed", name)


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
    for name in ("lab.pid", "lab.json"):
        try:
            text = (state / name).read_text()
            pid = int(text) if name == "lab.pid" else int(json.loads(text)["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if _alive(pid):
            return pid
    return 0


def up(state: Path, faults: list[str], build_seconds: float, poll_interval: float,
       fresh: bool, *, runners: int = 1) -> tuple[Path, bool]:
    """Start the lab unless it already runs with these settings; (lab.json, whether it started)."""
    LabConfig.new(state, faults, build_seconds, poll_interval, runners=runners)  # validates the faults early
    if fresh:
        down(state)
        shutil.rmtree(state, ignore_errors=True)
    current = running(state)
    if current is not None:
        if (sorted(current.faults) == sorted(set(faults)) and current.build_seconds == build_seconds
                and current.poll_interval == poll_interval and current.runners == runners):
            return current.path, False
        log.info("lab up with other settings: restarting")
        down(state)
    elif _daemon_pid(state):
        down(state)  # a daemon that never came up (or stopped answering)
    state.mkdir(parents=True, exist_ok=True)
    (state / "lab.json").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "lab", "serve", "--state", str(state), "--faults", ",".join(faults),
           "--build-seconds", str(build_seconds), "--poll-interval", str(poll_interval), "--runners", str(runners)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.pop("TMUX", None)  # lab tmux sessions must never land on the operator's tmux server
    with open(state / "lab.log", "ab") as logf:
        child = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT + 5
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"lab daemon exited with {child.returncode}; see {state / 'lab.log'}:\n"
                               + _tail(state / "lab.log"))
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
    BEGIN..END block around them; then the cron daemon the lab run started (its pid file)."""
    if shutil.which("crontab"):
        proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            lines = proc.stdout.splitlines()
            kept = _without_lab_blocks(lines, str(state))
            if kept != lines and any(line.strip() for line in kept):
                subprocess.run(["crontab", "-"], input="\n".join(kept) + "\n", text=True, capture_output=True,
                               check=False)
            elif kept != lines:  # nothing of anyone else's left: no crontab at all, not a blank one
                subprocess.run(["crontab", "-r"], capture_output=True, check=False)
    for pidfile in state.glob("srv/cc-ci/.cc-ci-logs/upgrades/*.daemon-pid"):
        try:
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            pass
        pidfile.unlink(missing_ok=True)


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
