# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab as a box: its box side laid out for an unprivileged user, reachable over SSH on 127.0.0.1.

``python -m lab up --box`` (root only) after the lab is up:

- the box user (``ccci`` by default) is created when missing, with no password (``*``: no password
  login, but not a locked account, so sshd lets its key in);
- the box side is that user's: the cc-ci tree, the skills, the scripts, the agent's login in its HOME,
  its tmux folder and abra folder; the scripts run from the box's own copy of the lab's stand-ins
  (``<state>/box/lab``: the clone they came from may sit where that user cannot read);
- ``<state>/box/cc-ci-loops.service`` is the unit of the box's loops, ``User=`` the box user, its
  tokens in an EnvironmentFile only that user reads;
- Debian's sshd runs on 127.0.0.1 at a free port with its own config and host key (``<state>/box/ssh``),
  public-key login only, for that user only; a key pair per lab, and a known_hosts file holding the
  host key, so the controller keeps host key checking on;
- ``<state>/box/box.json`` says all of it, ``<state>/box/inventory.json`` is the inventory to use.

Many boxes: one lab a box, each with its own user and port (``--box-user``, ``--box-port``);
``python -m lab inventory --state A --state B`` prints one inventory holding them all (``boxes_inventory``),
for one ``ansible-playbook`` over every box.

Gitea, Drone and the registry stay on 127.0.0.1 (the lab daemon, as root); the lab's lab.json is made
readable by the box user's group, since the stand-ins find the lab through it.
"""
from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from lab.config import LAB_DIR, LabConfig

BOX_USER = "ccci"
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "ssh-keygen"
SCRIPTS = {".claude/skills/recipe-upgrade/testme-on-pr.sh": "testme-on-pr.sh",
           ".claude/skills/recipe-upgrade/verify-pr.sh": "verify-pr.sh",
           "cc-ci-plan/launch-upgrader.sh": "launch-upgrader.sh"}


class BoxError(RuntimeError):
    """The lab cannot be set up as a box; one line naming the fix."""


def box_dir(state: Path) -> Path:
    return Path(state).resolve() / "box"


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60, **kwargs)
    if proc.returncode != 0:
        raise BoxError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.returncode}")
    return proc


def ensure_user(name: str) -> pwd.struct_passwd:
    """The box user, created when missing; its password field ``*`` (no password, not locked)."""
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        _run("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name)
        account = pwd.getpwnam(name)
    _run("usermod", "-p", "*", name)
    return account


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    if not path.exists():
        return
    os.chown(path, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _symlink(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def lay_out(cfg: LabConfig, account: pwd.struct_passwd, where: Path) -> dict[str, str]:
    """The box side, owned by *account*; returns the box paths the operator names."""
    copy = where / "lab"
    shutil.copytree(LAB_DIR, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    root = Path(cfg.root)
    for rel, script in SCRIPTS.items():
        _symlink(root / rel, copy / "bin" / script)
    home = Path(account.pw_dir)
    login = Path(cfg.home) / ".claude" / ".credentials.json"
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    if login.is_file():
        shutil.copyfile(login, home / ".claude" / ".credentials.json")
        os.chmod(home / ".claude" / ".credentials.json", 0o600)
    env_file = where / "cc-ci-loops.env"
    env_file.write_text(f"GITEA_URL={cfg.gitea_url}\nMIRROR_ORG={cfg.mirror_org}\nGITEA_TOKEN={cfg.tokens['bot']}\n")
    os.chmod(env_file, 0o600)
    path = ":".join([str(copy / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    unit = where / "cc-ci-loops.service"
    unit.write_text(f"""\
[Unit]
Description=cc-ci agent loops (upgrader supervision), the lab as a box
After=network-online.target docker.service

[Service]
Type=simple
User={account.pw_name}
WorkingDirectory={cfg.root}
Environment="PATH={path}" "HOME={home}"
Environment=TMUX_TMPDIR={cfg.tmux_tmpdir} CCCI_LAB_STATE={cfg.state_dir} ABRA_DIR={cfg.abra_dir}
EnvironmentFile=-{env_file}
ExecStart={cfg.root}/cc-ci-plan/run-loops.sh
Restart=on-failure

[Install]
WantedBy=multi-user.target
""")
    uid, gid = account.pw_uid, account.pw_gid
    for tree in (root, Path(cfg.tmux_tmpdir), Path(cfg.abra_dir), home / ".claude", copy):
        _chown_tree(tree, uid, gid)
    for path_ in (env_file, unit):
        os.chown(path_, uid, gid)
    # the stand-ins (agent, abra, helper) find Gitea, the registry and the faults through lab.json
    lab_json = Path(cfg.state_dir) / "lab.json"
    os.chown(lab_json, 0, gid)
    os.chmod(lab_json, 0o640)
    return {"root": cfg.root, "unit": str(unit), "env_file": str(env_file), "bin": str(copy / "bin"),
            "home": str(home)}


def _ssh(account: pwd.struct_passwd, where: Path, port: int, state: Path) -> dict[str, str]:
    ssh = where / "ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    host_key, client_key = ssh / "ssh_host_ed25519_key", ssh / "id_ed25519"
    for key, comment in ((host_key, "ccci-lab-host"), (client_key, f"ccci-lab {state}")):
        if not key.exists():
            _run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key))
    public = (client_key.with_suffix(".pub")).read_text().strip()
    dot_ssh = Path(account.pw_dir) / ".ssh"
    dot_ssh.mkdir(mode=0o700, exist_ok=True)
    authorized = dot_ssh / "authorized_keys"
    kept = [ln for ln in (authorized.read_text().splitlines() if authorized.exists() else [])
            if not ln.endswith(f" ccci-lab {state}")]  # this lab's old key, if any; other labs' stay
    authorized.write_text("\n".join([*kept, public]) + "\n")
    os.chmod(authorized, 0o600)
    for path_ in (dot_ssh, authorized):
        os.chown(path_, account.pw_uid, account.pw_gid)
    known_hosts = ssh / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.with_suffix('.pub').read_text().split(' ', 2)[0]} "
                           f"{host_key.with_suffix('.pub').read_text().split()[1]}\n")
    config = ssh / "sshd_config"
    config.write_text(f"""\
# the lab-as-box's own sshd (lab/box.py): 127.0.0.1 only, keys only, the box user only
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {ssh}/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {account.pw_name}
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
""")
    return {"config": str(config), "private_key": str(client_key), "known_hosts": str(known_hosts),
            "pid_file": str(ssh / "sshd.pid"), "log": str(ssh / "sshd.log")}


def _start_sshd(ssh: dict[str, str], port: int, timeout: float = 15) -> int:
    pid_file = Path(ssh["pid_file"])
    pid = _alive(pid_file)
    if pid:
        os.kill(pid, signal.SIGHUP)  # re-reads its config (a new AllowUsers, a key)
    else:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        _run(SSHD, "-t", "-f", ssh["config"])
        _run(SSHD, "-f", ssh["config"], "-E", ssh["log"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _alive(pid_file)
        if pid and _answers(port):
            return pid
        time.sleep(0.1)
    raise BoxError(f"sshd did not answer on 127.0.0.1:{port} within {timeout:.0f} s: see {ssh['log']}")


def _host(info: dict) -> dict:
    """The inventory entry of one box: key-only SSH as its user, its host key checked."""
    return {"ansible_host": "127.0.0.1", "ansible_port": info["port"], "ansible_user": info["user"],
            "ansible_connection": "ssh", "ansible_ssh_private_key_file": info["ssh"]["private_key"],
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={info['ssh']['known_hosts']} -o IdentitiesOnly=yes "
                                       "-o StrictHostKeyChecking=yes -o PasswordAuthentication=no",
            "ansible_python_interpreter": "/usr/bin/python3"}


def inventory(info: dict) -> str:
    return json.dumps({"ccci_box": {"hosts": {info["name"]: _host(info)}}}, indent=2) + "\n"


def boxes_inventory(states: list[Path]) -> str:
    """One inventory of the boxes of several labs (each laid out by ``up``); two boxes of one user or one
    name are refused: their crontabs and sessions would be the same."""
    hosts: dict[str, dict] = {}
    users: set[str] = set()
    for state in states:
        path = box_dir(state) / "box.json"
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise BoxError(f"no box in {state}: run python -m lab up --state {state} --box first ({exc})") from exc
        if info["name"] in hosts or info["user"] in users:
            raise BoxError(f"{state}: box user {info['user']} serves another lab of this inventory too: "
                           "give each lab its own --box-user")
        hosts[info["name"]] = _host(info)
        users.add(info["user"])
    return json.dumps({"ccci_box": {"hosts": hosts}}, indent=2) + "\n"


def up(state: Path, user: str = BOX_USER, port: int | None = None) -> Path:
    """Lay the box out for *user* and serve it over SSH at *port* (default: the box's earlier port, else a
    free one); idempotent. Returns ``box.json``'s path."""
    if os.getuid() != 0:
        raise BoxError("the lab as a box creates its user and runs sshd: run it as root")
    if not os.access(SSHD, os.X_OK):
        raise BoxError(f"no {SSHD}: install Debian's openssh-server (make bootstrap does as root)")
    state = Path(state).resolve()
    try:
        cfg = LabConfig.load(state)
    except (OSError, ValueError) as exc:
        raise BoxError(f"no lab in {state}: run python -m lab up --state {state} first ({exc})") from exc
    where = box_dir(state)
    where.mkdir(parents=True, exist_ok=True)
    os.chmod(where, 0o755)
    account = ensure_user(user)
    old = json.loads((where / "box.json").read_text()) if (where / "box.json").exists() else {}
    port = port or (old.get("port") if old.get("user") == user else None) or _free_port()
    info = {"name": f"labbox-{user}", "user": user, "uid": account.pw_uid, "group": grp.getgrgid(account.pw_gid).gr_name,
            "port": port, "state": str(state), **lay_out(cfg, account, where), "ssh": _ssh(account, where, port, state)}
    info["sshd_pid"] = _start_sshd(info["ssh"], port)
    (where / "inventory.json").write_text(inventory(info))
    (where / "box.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return where / "box.json"


def _children(pid: int) -> list[int]:
    """The processes whose parent is *pid* (an sshd's sessions: they outlive the listener otherwise)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def down(state: Path) -> bool:
    """Stop this lab's sshd and its open sessions (a controller's persistent connection among them); the
    user and its files stay (the next ``up --box`` reuses them)."""
    pid_file = box_dir(state) / "ssh" / "sshd.pid"
    pid = _alive(pid_file)
    if not pid:
        return False
    for child in _children(pid):
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not _alive(pid_file):
            break
        time.sleep(0.1)
    return True
