# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Box mode as an operator runs it: host modules on the box's own python3 (no venv: no httpx, no
python-crontab), and over SSH as the box's own unprivileged user."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BOX_PYTHON = "/usr/bin/python3"
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins"))
from test_host_modules_stdlib import host_modules  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.slow


def _env() -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def _box_python_lacks_the_venv() -> str | None:
    """Why the box-python proof cannot be made here, or None."""
    if not os.access(BOX_PYTHON, os.X_OK):
        return f"no {BOX_PYTHON} on this machine"
    have = [lib for lib in ("crontab", "httpx", "croniter", "ansible") if subprocess.run(
        [BOX_PYTHON, "-I", "-c", f"import {lib}"], capture_output=True, check=False).returncode == 0]
    return f"{BOX_PYTHON} has {', '.join(have)}: it proves nothing about a box without them" if have else None


def test_host_modules_run_on_a_python3_without_the_venv(tmp_path):
    """Through Ansible's own AnsiballZ with ansible_python_interpreter=/usr/bin/python3: each host module
    starts (an unknown option is its only complaint), and the cron modules do their real work on a tabfile."""
    reason = _box_python_lacks_the_venv()
    if reason:
        pytest.skip(reason)
    unit = tmp_path / "cc-ci-loops.service"
    unit.write_text("[Service]\nUser=root\nEnvironment=PATH=/usr/bin:/bin "
                    f"HOME={tmp_path}\nEnvironmentFile=-{tmp_path}/loops.env\nExecStart=/bin/true\n")
    (tmp_path / "loops.env").write_text("GITEA_TOKEN=tok-not-for-output-42\n")
    (tmp_path / "notes.md").write_text("# Notes\n\n## Cron\n\nold\n")
    launcher, log = f"{tmp_path}/root/cc-ci-plan/launch-upgrader.sh", f"{tmp_path}/root/.cc-ci-logs/upgrades/cron.log"
    cron = {"loops_unit": str(unit), "unit_source": "file", "user": "root", "tabfile": str(tmp_path / "tab"),
            "launcher": launcher, "root": f"{tmp_path}/root", "timezone": "UTC", "offset": 3600}
    probes = [{"name": f"start {m}", "coopcloud.cc_ci." + m: {"ccci_no_such_option": 1}, "register": f"probe_{m}",
               "ignore_errors": True} for m in host_modules()]
    precheck = {"user": "root", "tabfile": str(tmp_path / "tab"), "launcher": launcher, "log": log}
    section = {"path": str(tmp_path / "notes.md"), "heading": "Cron", "content": "## Cron\n\nnew\n"}
    results = ("{{ {'probes': {" + ", ".join(f"'{m}': probe_{m}" for m in host_modules()) + "}, "
               "'installed': installed, 'precheck': precheck, 'section': section, 'python': ansible_facts.python}"
               " | to_json }}")
    play = [{"hosts": "box", "gather_facts": False, "tasks": [
        {"name": "the interpreter", "ansible.builtin.setup": {"gather_subset": ["!all", "!min", "python"]}},
        *probes,
        {"name": "install the entry", "coopcloud.cc_ci.completion_cron": cron, "register": "installed"},
        {"name": "read it back as cron would", "coopcloud.cc_ci.cron_precheck": precheck, "check_mode": True,
         "register": "precheck"},
        {"name": "a section", "coopcloud.cc_ci.markdown_section": section, "register": "section"},
        {"name": "results", "ansible.builtin.copy": {"dest": str(tmp_path / "results.json"), "content": results}}]}]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    (tmp_path / "inv.json").write_text(json.dumps({"box": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": BOX_PYTHON}}}}))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "inv.json"), str(tmp_path / "play.yml")],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "tok-not-for-output-42" not in proc.stdout + proc.stderr
    got = json.loads((tmp_path / "results.json").read_text())
    assert got["python"]["executable"] == BOX_PYTHON
    for module, probe in got["probes"].items():
        # refused by AnsibleModule's argument check (fail_json), which runs once every top-level import has
        # worked; a missing library would be a MODULE FAILURE with a traceback in module_stderr
        assert probe["failed"] and "module_stderr" not in probe and "MODULE FAILURE" not in probe["msg"], probe
        assert "No module named" not in json.dumps(probe) and "Failed to import" not in probe["msg"], probe
    assert got["installed"]["changed"] and got["installed"]["line"].startswith(got["installed"]["schedule"])
    # the unit's EnvironmentFile holds the token: the job sources that file, the crontab holds no copy of it
    assert "tok-not-for-output-42" not in (tmp_path / "tab").read_text()
    assert f". {tmp_path}/loops.env;" in got["installed"]["line"]
    assert got["precheck"]["diagnosis"] == "check mode: the pre-check was not run", got["precheck"]
    assert got["section"]["changed"] and "new" in (tmp_path / "notes.md").read_text()


BOX_TEST_USER = "ccci-boxtest"


def _crontab(user: str | None = None) -> str:
    argv = ["crontab", "-l"] + (["-u", user] if user else [])
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


@pytest.fixture(scope="module")
def lab_box():
    """A lab of its own, its box side the test user's, served over SSH (root: else skipped, reason printed);
    one for this file's tests (each leaves the box as it found it: its PRs closed, the lock released)."""
    if os.geteuid() != 0:
        reason = "the lab as a box creates a user and runs sshd: only root can (run the tests as root)"
        print(f"SKIP box over SSH: {reason}")
        pytest.skip(reason)
    import tempfile  # pylint: disable=import-outside-toplevel

    state = Path(tempfile.mkdtemp(prefix="ccci-box-"))  # not under pytest's 0700 tmp: the box user walks it
    os.chmod(state, 0o755)
    proc = subprocess.run([sys.executable, "-m", "lab", "up", "--state", str(state), "--box", "--box-user",
                           BOX_TEST_USER], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]  # as root, a box that cannot be set up fails the test
        yield {"state": state, "lab": json.loads((state / "lab.json").read_text()),
               "box": json.loads((state / "box" / "box.json").read_text())}
    finally:
        subprocess.run(["crontab", "-r", "-u", BOX_TEST_USER], capture_output=True, check=False)
        subprocess.run([sys.executable, "-m", "lab", "down", "--state", str(state)], cwd=ROOT, capture_output=True,
                       timeout=120, check=False)
        subprocess.run(["rm", "-rf", str(state)], check=False)


def test_cron_precheck_over_ssh_runs_as_the_box_user(lab_box, tmp_path):
    """install-cron.yml in box mode over SSH (host key checked against the lab's known_hosts): the entry
    lands in the box user's crontab and none in root's, the pre-check's agent session is that user's."""
    lab, box = lab_box["lab"], lab_box["box"]
    root = box["root"]
    # only what an operator knows (README "Against a box"): the rest is read on the box or a box default
    box_vars = {"ccci_target": "box", "ccci_gitea_url": lab["gitea_url"], "ccci_gitea_token": lab["tokens"]["bot"],
                "ccci_drone_url": lab["drone_url"], "ccci_drone_token": lab["tokens"]["drone"],
                "ccci_root": root, "ccci_loops_unit": box["unit"],
                "ccci_report_dir": str(tmp_path / "out"),
                # the first fire is an hour out: return after the pre-check, printing how to confirm it later
                "ccci_cron_wait": False}
    (tmp_path / "box-vars.json").write_text(json.dumps(box_vars))
    os.chmod(tmp_path / "box-vars.json", 0o600)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(lab_box["state"] / "box" / "inventory.json"),
                           "playbooks/install-cron.yml", "-e", f"@{tmp_path / 'box-vars.json'}"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "labbox-" in proc.stdout and lab["tokens"]["bot"] not in proc.stdout + proc.stderr
    verdict = json.loads((tmp_path / "out" / "checks" / "CRON.json").read_text())
    assert verdict["verdict"] == "PASS", verdict
    assert verdict["evidence"]["crontab"] == f"crontab of {BOX_TEST_USER}"
    assert verdict["evidence"]["precheck_passed"] is True
    # the box's own settings were read on the box, from its unit: the box user, its agent in the unit's PATH
    assert f"{box['unit']}: user {BOX_TEST_USER}, HOME {box['home']}, agent {box['bin']}/claude" in \
        " ".join(proc.stdout.split()), proc.stdout[-3000:]
    # ccci_cron_wait=false: no wait for T0; the printed command confirms the fire later from the box's logs
    confirm = verdict["evidence"]["confirm_later"]
    assert confirm.startswith("ansible labbox-") and "-m coopcloud.cc_ci.cron_first_fire" in confirm, confirm
    assert "after " in proc.stdout and "confirm the first fire with: ansible labbox-" in " ".join(proc.stdout.split())
    later = subprocess.run(["sh", "-c", confirm.replace("ansible ", f"{BIN / 'ansible'} ", 1)], cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=180, check=False)
    assert later.returncode == 0 and "done: false" in later.stdout, later.stdout[-2000:] + later.stderr[-1000:]
    # the entry is the box user's, naming this box's root; root's crontab holds none of it
    assert f"{root}/cc-ci-plan/launch-upgrader.sh start" in _crontab(BOX_TEST_USER)
    assert root not in _crontab()
    # the pre-check's agent ran in the box user's tmux and wrote its transcript as that user
    uid = box["uid"]
    transcript = Path(verdict["evidence"]["precheck_summary"])
    assert transcript.stat().st_uid == uid and transcript.is_relative_to(root)
    sockets = Path(lab["tmux_tmpdir"]) / f"tmux-{uid}"
    assert sockets.is_dir() and sockets.stat().st_uid == uid
    assert not (Path(lab["tmux_tmpdir"]) / "tmux-0").exists()
    # the play ran as the box user, not as root: what it created on the box is that user's
    state_file = Path(root) / ".cc-ci-logs" / "upgrades" / "ccci-cron.json"
    assert state_file.stat().st_uid == uid
    # root's cron daemon runs but the box user cannot read its environment: said so, not "no daemon"
    if subprocess.run(["pgrep", "-x", "cron"], capture_output=True, check=False).returncode == 0:
        assert "environment unreadable to this user" in verdict["evidence"]["timezone_source"], verdict["evidence"]

    # a missed fire is diagnosed from the box user's side: the spool is root's, its crontab -l is not
    missed = subprocess.run(
        [str(BIN / "ansible"), "-i", str(lab_box["state"] / "box" / "inventory.json"), "ccci_box", "-m",
         "coopcloud.cc_ci.cron_first_fire", "-a", json.dumps({
             "t0": "2020-01-06T21:05:00+00:00", "grace": 1, "summary_wait": 1, "wait_seconds": 1,
             "launcher": f"{root}/cc-ci-plan/launch-upgrader.sh",
             "log": f"{root}/.cc-ci-logs/upgrades/cron.log"})],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert missed.returncode == 0 and "passed: false" in missed.stdout and "not observed" in missed.stdout, \
        missed.stdout[-2000:]
    assert "is not in the daemon's crontab" not in missed.stdout, missed.stdout[-2000:]


def _api(lab: dict, method: str, path: str, body: dict | None = None):
    import urllib.request  # pylint: disable=import-outside-toplevel

    req = urllib.request.Request(f"{lab['gitea_url']}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"token {lab['tokens']['bot']}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _as_box_user(box: dict, path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for part in [path, *path.parents]:
        if not part.is_relative_to(box["root"]) or part == Path(box["root"]):
            break
        os.chown(part, box["uid"], -1)


def test_lock_and_ledger_live_on_the_box(lab_box, tmp_path):
    """A run crashed on another controller left its lock and ledger on the box: while that lock's lease runs
    this controller is refused, naming the other; once the lease is over it takes the lock over and its start
    sweep closes what the crashed run's ledger names, though this controller never saw that ledger."""
    import time  # pylint: disable=import-outside-toplevel

    lab, box = lab_box["lab"], lab_box["box"]
    root, repo, head = box["root"], f"{lab['mirror_org']}/custom-html-tiny", "ccci/crashed-elsewhere"
    _api(lab, "POST", f"/repos/{repo}/branches", {"new_branch_name": head, "old_branch_name": "main"})
    change = {"content": "Y3Jhc2hlZAo=", "message": "a crashed run's", "branch": head}
    _api(lab, "POST", f"/repos/{repo}/contents/crashed.txt", change)
    pr = _api(lab, "POST", f"/repos/{repo}/pulls", {"head": head, "base": "main", "title": "a crashed run's PR"})
    state = Path(root) / ".cc-ci-logs" / "verify" / "state"
    _as_box_user(box, state / "ledger.jsonl", "".join(json.dumps(r) + "\n" for r in (
        {"kind": "branch", "repo": repo, "ref": head, "from": "main", "created_by": "ccci", "time": "2026-01-01T00:00:00Z"},
        {"kind": "pr", "repo": repo, "head": head, "base": "main", "created_by": "ccci", "time": "2026-01-01T00:00:01Z"})))
    holder = {"pid": 999999, "host": "laptop-elsewhere", "label": "verify-phase5", "since": time.time() - 60}
    _as_box_user(box, state / "run.lock", json.dumps(dict(holder, lease_until=time.time() + 3600)))
    box_vars = {"ccci_target": "box", "ccci_gitea_url": lab["gitea_url"], "ccci_gitea_token": lab["tokens"]["bot"],
                "ccci_gitea_outsider_token": lab["tokens"]["outsider"], "ccci_upstream_org": lab["upstream_org"],
                "ccci_drone_url": lab["drone_url"], "ccci_drone_token": lab["tokens"]["drone"],
                "ccci_sandbox_recipes": lab["sandbox_recipes"], "ccci_root": root, "ccci_loops_unit": box["unit"],
                "ccci_report_dir": str(tmp_path / "out"), "ccci_only": ["V9"]}
    (tmp_path / "box-vars.json").write_text(json.dumps(box_vars))
    argv = [str(BIN / "ansible-playbook"), "-i", str(lab_box["state"] / "box" / "inventory.json"),
            "playbooks/verify-phase5.yml", "-e", f"@{tmp_path / 'box-vars.json'}"]

    refused = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    text = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode != 0 and "another verification run holds" in text, refused.stdout[-3000:]
    assert "pid 999999 on laptop-elsewhere" in text and "its lease ends at" in text
    assert _api(lab, "GET", f"/repos/{repo}/pulls/{pr['number']}")["state"] == "open"

    _as_box_user(box, state / "run.lock", json.dumps(dict(holder, lease_until=time.time() - 1)))
    proc = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900, check=False)
    text = " ".join((proc.stdout + proc.stderr).split())  # the take-over is a warning (stderr)
    assert "took over the run lock" in text and "laptop-elsewhere" in text, text[-4000:]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-1000:]
    assert _api(lab, "GET", f"/repos/{repo}/pulls/{pr['number']}")["state"] == "closed"
    assert not (state / "run.lock").exists()  # released on the box
    assert (state / "ledger.jsonl").stat().st_uid == box["uid"]  # the box's copy, kept as the box user
    assert lab["tokens"]["bot"] not in proc.stdout + proc.stderr


@pytest.mark.cron
def test_first_fire_is_the_box_user_s_job(lab_box, tmp_path):
    """The real cron daemon fires the box user's entry: install-cron.yml over SSH, with a test offset of 70 s,
    waits and observes the first fire as that user's job (its fired line, written by cron as that user, and the
    session in that user's tmux); root's crontab holds none of it."""
    from test_cron_daemon import _cron_pids  # pylint: disable=import-outside-toplevel

    if not _cron_pids():
        cron = subprocess.run(["sh", "-c", "command -v cron || command -v crond"], capture_output=True, text=True,
                              check=False).stdout.strip()
        if not cron:
            pytest.skip("no cron daemon binary (apt-get install cron)")
        subprocess.run([cron], check=True)  # left running, as the cron tests leave theirs
    lab, box = lab_box["lab"], lab_box["box"]
    root = box["root"]
    box_vars = {"ccci_target": "box", "ccci_gitea_url": lab["gitea_url"], "ccci_gitea_token": lab["tokens"]["bot"],
                "ccci_drone_url": lab["drone_url"], "ccci_drone_token": lab["tokens"]["drone"],
                "ccci_root": root, "ccci_loops_unit": box["unit"], "ccci_report_dir": str(tmp_path / "out"),
                # test settings: a first fire within the test, the lab agent's short run
                "ccci_cron_offset": 70, "ccci_cron_poll": 10, "ccci_cron_grace": 90, "ccci_cron_summary_wait": 240}
    (tmp_path / "box-vars.json").write_text(json.dumps(box_vars))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(lab_box["state"] / "box" / "inventory.json"),
                           "playbooks/install-cron.yml", "-e", f"@{tmp_path / 'box-vars.json'}"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    verdict = json.loads((tmp_path / "out" / "checks" / "CRON.json").read_text())
    assert verdict["verdict"] == "PASS", verdict["diagnosis"]
    ev = verdict["evidence"]
    assert ev["crontab"] == f"crontab of {BOX_TEST_USER}" and ev["fired_at"], ev
    # cron ran the job as the box user: the log it appended to is that user's, its fired line after T0
    log = Path(root) / ".cc-ci-logs" / "upgrades" / "cron.log"
    assert log.stat().st_uid == box["uid"] and "ccci-upgrade-all start: fired" in log.read_text()
    assert ev["session_status"].endswith(("RUNNING", "IDLE")) and ev["summary"], ev
    assert (Path(lab["tmux_tmpdir"]) / f"tmux-{box['uid']}").is_dir()
    # the job sourced the unit's EnvironmentFile: the token is in neither crontab
    assert lab["tokens"]["bot"] not in _crontab(BOX_TEST_USER) and root not in _crontab()
    assert f". {box['env_file']};" in _crontab(BOX_TEST_USER)
    print(f"\nbox user's first fire: T0 {ev['t0']} fired {ev['fired_at']} (gap {ev['gap_seconds']} s)")
