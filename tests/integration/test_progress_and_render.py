# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress lines through the real callback and real ansible-playbook; report.html rendered by
headless Chromium (Debian's chromium, which `make` installs as root)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils"))

PLAY = """
- name: A known wait
  hosts: localhost
  gather_facts: false
  tasks:
    - name: V4 | the agent's run
      coopcloud.cc_ci.agent_skill:
        agent_cmd: {agent}
        skill: /recipe-upgrade
        args: [custom-html-tiny]
        transcript: {transcript}
    - name: A quiet task
      ansible.builtin.command: sleep 3
      changed_when: false
"""

AGENT = """#!/bin/sh
# a stand-in agent: quiet for 10 s (longer than the 8 s progress interval), then its RESULT line
sleep 10
echo "RESULT: SUCCESS"
"""


def playbook(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    agent = tmp_path / "agent"
    agent.write_text(AGENT)
    agent.chmod(0o755)
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(agent=agent, transcript=tmp_path / "transcript.log"))
    progress = tmp_path / "progress.jsonl"
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   CCCI_PROGRESS_FILE=str(progress), PATH=f"{BIN}:{os.environ.get('PATH', '')}", **env)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
                          cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=300, check=False)
    records = [json.loads(line) for line in progress.read_text().splitlines()] if progress.exists() else []
    return proc, records


@pytest.mark.slow
def test_every_progress_line_of_a_known_wait_is_printed_once_and_tasks_are_recorded(tmp_path):
    proc, records = playbook(tmp_path, CCCI_PROGRESS_INTERVAL="60")  # no heartbeat in this test
    assert proc.returncode == 0, proc.stdout[-3000:]
    written = [r["text"] for r in records if r["ev"] == "progress"]
    printed = re.findall(r"^V4 ▸ (.*)$", proc.stdout, re.M)
    assert written and printed == written  # each line the wait wrote, once, in order, with its check
    assert all(re.fullmatch(r"waiting for the agent: /recipe-upgrade custom-html-tiny \(\d+ s\)", t) for t in written)
    spans = [r for r in records if r["ev"] == "end"]
    assert [(s["kind"], s["outcome"]) for s in spans] == [("agent", "ok")] and spans[0]["end"] - spans[0]["start"] >= 10
    tasks = [(r["name"], r["check"], r["status"]) for r in records if r["ev"] == "task"]
    assert tasks == [("V4 | the agent's run", "V4", "ok"), ("A quiet task", None, "ok")]
    assert "▸ still on" not in proc.stdout


@pytest.mark.slow
def test_a_silent_task_gets_heartbeats_and_progress_can_be_turned_off(tmp_path):
    proc, _records = playbook(tmp_path, CCCI_PROGRESS_INTERVAL="1")
    assert proc.returncode == 0
    assert re.search(r"^run ▸ still on A quiet task \(\d+ s\)$", proc.stdout, re.M)
    off = tmp_path / "off"
    off.mkdir()
    quiet, records = playbook(off, CCCI_PROGRESS="0", CCCI_PROGRESS_INTERVAL="1")
    assert quiet.returncode == 0 and "▸" not in quiet.stdout
    assert [r["ev"] for r in records].count("task") == 2  # still recorded for the report and bench


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_html_renders_in_headless_chromium_with_a_bar_per_build_and_check(tmp_path):
    browser = chromium()
    if browser is None:
        if os.geteuid() == 0:
            pytest.fail("chromium is missing although make installs it as root: run make bootstrap")
        pytest.skip("no chromium (install Debian's chromium as root, or run make as root)")
    import test_report_render as fixture  # the passing full run the unit tests render

    paths, data = fixture.render(tmp_path, fixture.full_run())
    page = Path(paths["report.html"]).as_uri()
    flags = ["--headless", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    png = tmp_path / "report.png"
    shot = subprocess.run([browser, *flags, f"--screenshot={png}", page], capture_output=True, text=True,
                          timeout=120, check=False)
    assert shot.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, \
        shot.stderr[-2000:]
    dom = subprocess.run([browser, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120,
                         check=False).stdout
    build_bars = re.findall(r'<g class="bar" data-kind="build" data-id="(\d+)"', dom)
    check_bars = re.findall(r'<g class="bar" data-kind="check" data-id="(\w+)"', dom)
    assert sorted(map(int, build_bars)) == sorted(b["number"] for b in data["builds"]) and len(build_bars) > 10
    assert check_bars == [c["id"] for c in data["checks"]] and len(check_bars) == 11
    assert len(re.findall(r'<tr id="row-', dom)) == 11
