# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The weekly /upgrade-all job against the real cron daemon (Debian cron), the real lab and
ansible-playbook: the first fire observed and recorded, the daemon's timezone honoured, a second run
byte-identical, unit files as systemd reads them, a cron environment without the agent caught.

Needs root and /usr/sbin/cron (skips with the reason otherwise). Starts `TZ=America/New_York cron`
when no daemon runs and stops only that daemon. A dedicated system user `ccci-lab` holds the crontab
of the negative case; the lab run uses root's crontab and removes its entry at the end, leaving root's
crontab as it found it.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAEMON_TZ = "America/New_York"
LAB_USER = "ccci-lab"

pytestmark = [pytest.mark.cron, pytest.mark.slow]


def _env() -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def _cron_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "cron|crond"], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _tz_of(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"TZ="):
            return item[3:].decode().lstrip(":")
    return None


def _crontab(user: str = "root") -> str:
    proc = subprocess.run(["crontab", "-u", user, "-l"], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def _own(tab: str, root: Path | str) -> list[str]:
    """This root's block in a crontab (other labs running beside this test may hold their own)."""
    lines = tab.splitlines()
    jobs = [i for i, ln in enumerate(lines) if "# ccci-upgrade-all anchor=" in ln and f"{root}/" in ln]
    if not jobs:
        return []
    begin = max(i for i in range(jobs[0] + 1) if lines[i].startswith("# BEGIN ccci-upgrade-all"))
    end = next(i for i in range(jobs[-1], len(lines)) if lines[i] == "# END ccci-upgrade-all")
    return lines[begin:end + 1]


def _module(name: str, args: dict) -> dict:
    """Run one module of the collection through `ansible localhost -m ... -o` and return its result."""
    proc = subprocess.run([str(BIN / "ansible"), "localhost", "-o", "-m", f"coopcloud.cc_ci.{name}",
                           "-a", json.dumps(args)], check=False, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("localhost | ")), "")
    assert " => " in line, proc.stdout + proc.stderr
    head, body = line.split(" => ", 1)
    result = json.loads(body)
    result["failed"] = "FAILED" in head
    return result


@pytest.fixture(scope="module")
def cron_daemon():
    if os.geteuid() != 0:
        pytest.skip("needs root to start the cron daemon and write crontabs")
    binary = shutil.which("cron") or shutil.which("crond")
    if not binary or not shutil.which("crontab"):
        pytest.skip("no cron daemon binary (apt-get install cron)")
    pids = _cron_pids()
    started = None
    if not pids:
        subprocess.run(["env", f"TZ={DAEMON_TZ}", binary], check=True)
        for _unused in range(50):
            pids = _cron_pids()
            if pids:
                break
            time.sleep(0.1)
        started = min(pids)
    yield {"pid": min(pids), "tz": _tz_of(min(pids)), "started": started}
    if started:
        try:
            os.kill(started, signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    state = tmp_path_factory.mktemp("cronlab")
    up = subprocess.run([sys.executable, "-m", "lab", "up", "--state", str(state), "--faults", "",
                         "--build-seconds", "1", "--poll-interval", "0.5"], check=False, cwd=ROOT, capture_output=True, text=True,
                        timeout=120)
    assert up.returncode == 0, up.stderr
    yield json.loads((state / "lab.json").read_text())
    subprocess.run([sys.executable, "-m", "lab", "down", "--state", str(state)], cwd=ROOT, capture_output=True,
                   check=False)


@pytest.fixture
def home(tmp_path) -> Path:
    """A HOME with the agent's login in it."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text('{"lab": "login"}\n')
    return home


@pytest.mark.parametrize("first_playbook", ["install-cron.yml", "verify-phase5.yml"])
def test_first_fire_observed_recorded_and_idempotent(cron_daemon, lab, home, tmp_path, first_playbook, healthy_row):
    """A first run (install-cron.yml, or a full run's CRON) observes the fire; a second install-cron.yml
    after it changes nothing (changed=0, DECISIONS.md, the skill and the note byte-identical).
    The full run's case keeps completion_cron's defaults (the CRON mutants' settings), so its CRON time
    is CRON's healthy time for scripts/mutant_ratio.py; the install-cron case waits less."""
    unit = tmp_path / "cc-ci-loops.service"
    unit.write_text(Path(lab["loops_unit"]).read_text().replace('"HOME=/root"', f'"HOME={home}"'))
    report = tmp_path / "out"
    evars = {"ccci_lab_state": lab["state_dir"], "ccci_lab_keep": True, "ccci_report_dir": str(report),
             "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5, "ccci_loops_unit": str(unit),
             "ccci_cron_state_file": str(tmp_path / "ccci-cron.json")}
    if first_playbook == "install-cron.yml":
        evars |= {"ccci_cron_lab_offset": 70, "ccci_cron_poll": 10, "ccci_cron_grace": 90, "ccci_cron_summary_wait": 240}
    root = Path(lab["state_dir"]) / "srv" / "cc-ci"
    skill, memory_note = root / ".claude/skills/upgrade-all/SKILL.md", root / ".claude/memory/cc-ci-upgrade-all-cron.md"
    # as the lab lays them out (the lab is shared by the cases of this test)
    shutil.copyfile(ROOT / "lab/data/skills/upgrade-all/SKILL.md", skill)
    shutil.copyfile(ROOT / "lab/data/memory/cc-ci-upgrade-all-cron.md", memory_note)
    assert "Sat 03:00 UTC" in skill.read_text() and "Sat 03:00 UTC" in memory_note.read_text()  # as the box's start
    original = _crontab()
    cmd = [str(BIN / "ansible-playbook"), "playbooks/install-cron.yml", "-e", json.dumps(evars)]
    first_cmd = [str(BIN / "ansible-playbook"), f"playbooks/{first_playbook}", "-e",
                 json.dumps(dict(evars, ccci_only=["CRON"]) if first_playbook == "verify-phase5.yml" else evars)]
    try:
        first = subprocess.run(first_cmd, check=False, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        result = json.loads((report / "checks" / "CRON.json").read_text())
        assert result["verdict"] == "PASS", result["diagnosis"]
        if first_playbook == "verify-phase5.yml":
            healthy_row(report)
        ev = result["evidence"]
        t0 = datetime.fromisoformat(ev["t0"])
        fired = datetime.fromisoformat(ev["fired_at"])
        gap = (fired - t0).total_seconds()
        print(f"\nT0 {t0.isoformat()} fired {fired.isoformat()} gap {gap:.1f} s; session {ev['session_status']}")
        assert 0 <= gap < 60
        assert ev["session_status"].endswith(("RUNNING", "IDLE")) and ev["summary"]
        decisions = (report / "DECISIONS.md").read_text()
        assert f"Schedule: `{ev['schedule']}`" in decisions
        assert "First fire: observed" in decisions and ev["fired_at"] in decisions
        # the token stays in the unit's EnvironmentFile, which the job sources at each fire: none in the crontab
        assert "Environment read at each fire" in decisions and "GITEA_TOKEN" in decisions
        assert lab["tokens"]["bot"] not in decisions and lab["tokens"]["bot"] not in _crontab()
        assert lab["tokens"]["bot"] not in first.stdout
        minute, hour = (int(x) for x in ev["schedule"].split()[:2])
        daemon_tz = cron_daemon["tz"] or ev["timezone"]
        local = t0.astimezone(ZoneInfo(daemon_tz)) if "/" in daemon_tz else t0
        assert (minute, hour) == (local.minute, local.hour)
        if cron_daemon["tz"] == DAEMON_TZ:
            assert ev["timezone"] == DAEMON_TZ
            assert hour != t0.astimezone(ZoneInfo("UTC")).hour  # a UTC assumption would have missed the fire
        tab = _own(_crontab(), root)
        assert tab and sum("# ccci-upgrade-all anchor=" in ln for ln in tab) == 1
        assert not _own(original, root)
        memory, skill_text = memory_note.read_text(), skill.read_text()
        for text in (memory, skill_text):  # updated in place: the anchored schedule and the verified kickoff
            assert "Sat 03:00 UTC" not in text and f"`{ev['schedule']}`" in text and ev["t0"] in text
            assert f"First kickoff: observed: the job's fired line at {ev['fired_at']}" in text
        assert skill_text.count("## Cron") == 1 and memory.count("## Schedule") == 1
        assert skill_text.index("## Steps") < skill_text.index("## Cron")  # where it was

        started = time.monotonic()
        second = subprocess.run(cmd, check=False, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - started
        print(f"idempotent re-run: {seconds:.1f} s")
        assert second.returncode == 0, second.stdout[-4000:]
        changed_tasks = [chunk.split("]", 1)[0] for chunk in second.stdout.split("TASK [")[1:]
                         if "\nchanged: " in chunk]
        ours = [t for t in changed_tasks if t.startswith("completion_cron")]
        assert ours == [], ours  # the role changes nothing the second time
        recap = [ln for ln in second.stdout.splitlines() if ln.startswith("localhost") and "changed=" in ln]
        print("second run changed tasks:", changed_tasks, recap)
        assert recap and "changed=0" in recap[-1], recap
        assert _own(_crontab(), root) == tab
        assert (report / "DECISIONS.md").read_text() == decisions
        assert memory_note.read_text() == memory and skill.read_text() == skill_text
    finally:
        _module("completion_cron", {"state": "absent", "state_file": str(tmp_path / "ccci-cron.json"),
                                    "root": str(root)})
        assert _own(_crontab(), root) == []


UNITS = {
    "quotes-and-multiple": ('[Service]\nUser=root\nEnvironment="PATH=/opt/a b:/usr/bin:/bin" \'HOME=/h\'\n'
                            "Environment=A=1 B=2 A=3\n", {"PATH": "/opt/a b:/usr/bin:/bin", "HOME": "/h", "A": "3", "B": "2"}),
    "environment-file": ("[Service]\nUser=root\nEnvironment=A=unit B=unit\nEnvironmentFile={dir}/e.env\n"
                         "EnvironmentFile=-{dir}/missing.env\n", {"A": "file", "B": "unit", "C": "x y"}),
}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_files_reach_the_crontab(name, tmp_path):
    text, want = UNITS[name]
    (tmp_path / "e.env").write_text('A=file\nC="x y"\n')
    unit = tmp_path / "u.service"
    unit.write_text(text.format(dir=tmp_path))
    tab = tmp_path / "crontab"
    res = _module("completion_cron", {"loops_unit": str(unit), "launcher": "/srv/cc-ci/cc-ci-plan/launch-upgrader.sh",
                                      "root": "/srv/cc-ci", "tabfile": str(tab), "timezone": DAEMON_TZ})
    assert res["changed"] is True, res
    written = tab.read_text()
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry

    env, _unused = cron_entry.effective_env(written, "root")
    for key, value in want.items():
        assert env[key] == value, (key, written)


def test_missing_unit_fails_clearly(tmp_path):
    res = _module("completion_cron", {"loops_unit": str(tmp_path / "cc-ci-loops.service"),
                                      "launcher": "/x/launch-upgrader.sh", "root": "/x",
                                      "tabfile": str(tmp_path / "tab")})
    assert res["failed"] is True
    assert "cc-ci-loops.service does not exist" in res["msg"] and "ccci_loops_unit" in res["msg"]
    assert not (tmp_path / "tab").exists()


@pytest.fixture
def lab_user(cron_daemon):
    created = False
    try:
        pwd.getpwnam(LAB_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", LAB_USER], check=True)
        created = True
    yield LAB_USER
    subprocess.run(["crontab", "-u", LAB_USER, "-r"], capture_output=True, check=False)
    if created:
        subprocess.run(["userdel", LAB_USER], capture_output=True, check=False)


def test_precheck_names_the_missing_agent(lab_user):
    """As the crontab's own user, in cron's environment: PATH without the agent -> FAIL naming it."""
    base = Path(tempfile.mkdtemp(prefix="ccci-cron-neg-"))
    try:
        base.chmod(0o755)
        home = base / "home"
        (home / ".claude").mkdir(parents=True)
        (home / ".claude" / ".credentials.json").write_text("{}\n")
        logs = base / "logs"
        logs.mkdir()
        pw = pwd.getpwnam(lab_user)
        for path in (home, home / ".claude", home / ".claude" / ".credentials.json", logs):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        unit = base / "cc-ci-loops.service"
        unit.write_text(f'[Service]\nUser={lab_user}\nEnvironment="PATH=/usr/bin:/bin" HOME={home}\n'
                        f"Environment=TMUX_TMPDIR={base}/tmux\n")
        launcher = str(ROOT / "lab" / "bin" / "launch-upgrader.sh")  # a path the lab user can reach
        res = _module("completion_cron", {"loops_unit": str(unit), "launcher": launcher, "log": str(logs / "cron.log"),
                                          "completion": "2099-01-05T10:00:00Z", "timezone": DAEMON_TZ})
        assert res["changed"] is True and res["user"] == lab_user, res
        assert "# ccci-upgrade-all anchor=2099-01-05T06:00:00-05:00" in _crontab(lab_user)
        pre = _module("cron_precheck", {"user": lab_user, "launcher": launcher, "log": str(logs / "cron.log"),
                                        "timeout": 20})
        assert pre["passed"] is False, pre
        assert "lacks the agent command 'claude'" in pre["diagnosis"] and "PATH=/usr/bin:/bin" in pre["diagnosis"]
        assert pre["found"]["login"] is True and pre["found"]["tmux"] == "/usr/bin/tmux"
        assert "agent command 'claude' not found on PATH" in pre["output"]  # the launcher says so too, as that user
    finally:
        _module("completion_cron", {"state": "absent", "user": lab_user})
        shutil.rmtree(base, ignore_errors=True)


ROUND_TRIP = ["plain", "'quote-leading", '"dq-leading', "with % percent %h", "hash # not a comment", "a=b=c",
              " leading blank", "", "'", '"', "ends with quote'", "tab\there", "x \"y\""]


def test_values_round_trip_through_debian_crontab_and_cron(cron_daemon, tmp_path):
    """Every value as rendered: Debian's `crontab` accepts it, `crontab -l` shows the same text, and the
    job cron starts sees exactly the value."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry

    out = tmp_path / "env.json"
    tmp_path.chmod(0o755)
    names = {f"CCCI_RT_{i}": v for i, v in enumerate(ROUND_TRIP)}
    dump = f"{sys.executable} -c 'import json,os; json.dump(dict(os.environ), open(\"{out}\", \"w\"))'"
    block = [cron_entry.render_var(k, v) for k, v in names.items()] + [f"* * * * * {dump}"]
    original = _crontab()
    text = original + "\n".join(block) + "\n"
    try:
        proc = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "\n".join(block) in _crontab()  # `crontab -l` shows each line as written
        deadline = time.monotonic() + 150
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(1)
        assert out.exists(), "cron did not run the job within 150 s"
        time.sleep(1)
        env = json.loads(out.read_text())
        for key, value in names.items():
            assert env.get(key) == value, (key, value, env.get(key))
    finally:
        # take out only our lines: a lab running beside this test may have changed root's crontab since
        kept = [ln for ln in _crontab().splitlines() if ln not in block]
        if any(ln.strip() for ln in kept):
            subprocess.run(["crontab", "-"], input="\n".join(kept) + "\n", text=True, check=False)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True, check=False)
    assert not any(ln in block for ln in _crontab().splitlines())


@pytest.mark.parametrize("offset,needle", [("abc", "ccci_cron_offset"), ("-5", "ccci_cron_offset"),
                                           ("0", "ccci_cron_offset")])
def test_bad_offset_stops_before_anything_is_created(tmp_path, offset, needle):
    play = tmp_path / "play.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n    - coopcloud.cc_ci.completion_cron\n")
    evars = {"ccci_target": "box", "ccci_root": str(tmp_path / "root"), "ccci_report_dir": str(tmp_path / "out"),
             "ccci_launcher": str(tmp_path / "root/cc-ci-plan/launch-upgrader.sh"), "ccci_loops_unit": "x.service"}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play), "-e",
                           json.dumps(evars), "-e", f"ccci_cron_offset={offset}"], check=False, cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert needle in proc.stdout + proc.stderr
    assert not (tmp_path / "root").exists() and not (tmp_path / "out").exists()
    assert str(tmp_path) not in _crontab()
