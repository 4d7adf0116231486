# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m lab up|down|status`` as a user runs them: a real detached daemon on loopback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lab.config import LabConfig

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[2]


def lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab", *args], check=False, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


def test_lab_json_and_services(lab_state: LabConfig) -> None:
    proc = lab_cli("status", "--state", lab_state.state_dir)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in ("pid", "gitea_url", "drone_url", "registry_url", "tokens", "root", "loops_unit",
                "protected_clones", "tmux_tmpdir", "faults", "poll_repos"):
        assert data[key] or key == "faults", key
    assert data["build_seconds"] == 1.0 and data["poll_interval"] == 0.3
    assert httpx.get(f"{data['gitea_url']}/api/v1/version").json()["version"]
    assert httpx.get(f"{data['registry_url']}/v2/").status_code == 200
    assert httpx.get(data["drone_url"]).status_code < 500


def test_box_layout(lab_state: LabConfig) -> None:
    root = Path(lab_state.root)
    for sub in (".claude/skills/recipe-upgrade", ".claude/skills/upgrade-all", ".claude/skills/ci-test-review",
                "cc-ci-plan", ".cc-ci-logs/upgrades", "machine-docs"):
        assert (root / sub).is_dir(), sub
    helper = root / ".claude/skills/recipe-upgrade/testme-on-pr.sh"
    assert helper.is_symlink() and os.readlink(helper) == str(Path(lab_state.bin_dir) / "testme-on-pr.sh")
    assert os.readlink(root / "cc-ci-plan/launch-upgrader.sh").endswith("lab/bin/launch-upgrader.sh")
    # The loops' protected clone is a real clone of cc-ci over the lab's git HTTP.
    clone = Path(lab_state.protected_clones[0])
    head = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], check=False, capture_output=True, text=True).stdout.strip()
    main = httpx.get(f"{lab_state.gitea_url}/api/v1/repos/{lab_state.ci_repo}/branches/main").json()["commit"]["id"]
    assert head == main
    assert (clone / "tests/custom-html/test_version_header.json").is_file()
    unit = Path(lab_state.loops_unit).read_text()
    assert "[Service]" in unit and f"WorkingDirectory={lab_state.root}" in unit
    assert f"TMUX_TMPDIR={lab_state.tmux_tmpdir}" in unit and f"CCCI_LAB_STATE={lab_state.state_dir}" in unit
    assert f'"PATH={lab_state.bin_dir}:' in unit and '"HOME=' in unit
    env_file = Path(lab_state.state_dir) / "systemd/cc-ci-loops.env"
    assert f"EnvironmentFile=-{env_file}" in unit
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert f"GITEA_TOKEN={lab_state.tokens['bot']}" in env_file.read_text()


def test_unknown_fault_is_refused(tmp_path: Path) -> None:
    proc = lab_cli("up", "--state", str(tmp_path / "s"), "--faults", "no-such-fault")
    assert proc.returncode == 1 and "unknown lab fault" in proc.stderr
    assert not (tmp_path / "s" / "lab.json").exists()


def _daemons(state: Path) -> list[int]:
    """Every live `lab serve` process of this state dir, whatever pid files say."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            zombie = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if not zombie and b"serve" in argv and str(state).encode() in argv:
            pids.append(int(entry.name))
    return pids


def test_two_ups_at_once_start_one_daemon_and_down_stops_it(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    cmd = [sys.executable, "-m", "lab", "up", "--state", str(state), "--build-seconds", "1", "--poll-interval", "0.3"]
    try:
        procs = [subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _attempt in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        said = sorted(err.strip().splitlines()[-1] for _out, err in outs)
        assert said == ["lab already up", "lab started"], outs  # the loser waited and reused the lab
        assert _daemons(state) == [LabConfig.load(state).pid]
        assert lab_cli("down", "--state", str(state)).returncode == 0
        assert _daemons(state) == []
        assert lab_cli("status", "--state", str(state)).returncode == 1
    finally:
        lab_cli("down", "--state", str(state))


def test_a_second_daemon_on_one_state_dir_is_refused(lab_state: LabConfig) -> None:
    proc = lab_cli("serve", "--state", lab_state.state_dir)
    assert proc.returncode == 1 and f"a lab daemon (pid {lab_state.pid}) already serves" in proc.stderr
    assert _daemons(Path(lab_state.state_dir)) == [lab_state.pid]
    assert lab_cli("status", "--state", lab_state.state_dir).returncode == 0


def test_a_service_that_fails_to_start_fails_up_with_its_error(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    state.mkdir()
    (state / "gitea.json").write_text("{not json")  # Gitea's store cannot load
    proc = lab_cli("up", "--state", str(state))
    assert proc.returncode == 1
    assert "lab failed to start" in proc.stderr and "JSONDecodeError" in proc.stderr, proc.stderr
    assert _daemons(state) == [] and not (state / "lab.json").exists()


def test_up_down_cycle(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    args = ("--state", str(state), "--build-seconds", "1", "--poll-interval", "0.3")
    try:
        first = lab_cli("up", *args)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == str(state / "lab.json")
        cfg = LabConfig.load(state)
        again = lab_cli("up", *args)  # same settings: a no-op
        assert again.returncode == 0 and LabConfig.load(state).pid == cfg.pid

        bot = httpx.Client(base_url=cfg.gitea_url + "/api/v1", headers={"Authorization": f"token {cfg.tokens['bot']}"})
        repo = "recipe-maintainers/custom-html"
        assert bot.post(f"/repos/{repo}/branches", json={"new_branch_name": "cli/keep"}).status_code == 201
        content = bot.get(f"/repos/{repo}/contents/README.md").json()
        assert bot.put(f"/repos/{repo}/contents/README.md",
                       json={"content": "eA==", "sha": content["sha"], "branch": "cli/keep"}).status_code == 200
        pr = bot.post(f"/repos/{repo}/pulls", json={"head": "cli/keep", "base": "main", "title": "keep"}).json()
        assert bot.post(f"/repos/{repo}/issues/{pr['number']}/comments", json={"body": "kept"}).status_code == 201

        tmux = shutil.which("tmux")
        if tmux:  # a session on the lab's tmux server, which `down` must kill
            env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"TMUX_TMPDIR": cfg.tmux_tmpdir}
            subprocess.run([tmux, "new-session", "-d", "-s", "cc-ci-upgrader", "sleep 300"], env=env, check=True)

        faulty = lab_cli("up", *args, "--faults", "bridge-no-status")  # other faults: a restart
        assert faulty.returncode == 0, faulty.stderr
        restarted = LabConfig.load(state)
        assert restarted.pid != cfg.pid and restarted.faults == ["bridge-no-status"]
        assert restarted.gitea_url == cfg.gitea_url  # same port again: URLs in PRs stay valid
        prs = httpx.get(f"{restarted.gitea_url}/api/v1/repos/{repo}/pulls").json()
        assert [(p["title"], p["head"]["sha"]) for p in prs] == [("keep", pr["head"]["sha"])]  # state survived
        comments = httpx.get(f"{restarted.gitea_url}/api/v1/repos/{repo}/issues/{pr['number']}/comments").json()
        assert [c["body"] for c in comments] == ["kept"]

        assert lab_cli("down", "--state", str(state)).returncode == 0
        assert lab_cli("status", "--state", str(state)).returncode == 1
        assert not (state / "lab.json").exists()
        assert not os.path.exists(f"/proc/{restarted.pid}") or b"serve" not in Path(
            f"/proc/{restarted.pid}/cmdline").read_bytes()
        if tmux:
            ls = subprocess.run([tmux, "ls"], check=False, env=env, capture_output=True, text=True)
            assert "cc-ci-upgrader" not in ls.stdout
        assert lab_cli("down", "--state", str(state)).returncode == 0  # idempotent

        fresh = lab_cli("up", *args, "--fresh")
        assert fresh.returncode == 0, fresh.stderr
        cfg = LabConfig.load(state)
        assert httpx.get(f"{cfg.gitea_url}/api/v1/repos/{repo}/pulls").json() == []
    finally:
        lab_cli("down", "--state", str(state))


def test_the_lab_package_names_every_subpackage_and_its_command() -> None:
    """lab/pyproject.toml (pip install -e lab/) stays in step with the tree: each package dir is
    listed, the ccci-lab command is lab.__main__:main, and what the lab imports is a dependency."""
    import importlib
    import re
    import tomllib

    project = tomllib.loads((REPO_ROOT / "lab" / "pyproject.toml").read_text())
    on_disk = sorted(".".join(("lab",) + p.parent.relative_to(REPO_ROOT / "lab").parts)
                     for p in (REPO_ROOT / "lab").rglob("__init__.py"))
    assert sorted(project["tool"]["setuptools"]["packages"]) == on_disk
    module, func = project["project"]["scripts"]["ccci-lab"].split(":")
    assert callable(getattr(importlib.import_module(module), func))
    deps = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]}
    imported = {m.group(1) for p in (REPO_ROOT / "lab").rglob("*.py")
                for m in re.finditer(r"^\s*(?:from|import) ([A-Za-z_]\w*)", p.read_text(), re.M)}
    assert deps == imported - set(sys.stdlib_module_names) - {"lab", "__future__"}
