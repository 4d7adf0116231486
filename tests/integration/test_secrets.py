# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""No lab token at any verbosity: a full lab run at -vvv, then every token of that lab is looked for in
the run's output, its report folder, the lab's state folder, ~/.ansible, and in ``ps`` sampled all
through the run (a token on a command line is readable by every user of the box).

The only files allowed to hold a token are the ones that hold it by design, each mode 0600 and
named here: what the lab is (its config and token store), the stand-in Gitea's own database, and
the env file of the loops unit (the box keeps its tokens there too).
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import BIN, ROOT

pytestmark = pytest.mark.slow

SECRET_FILES = ("lab.json", "tokens.json", "gitea.json", "systemd/cc-ci-loops.env")
# Local iterations may run a part of the plan (CCCI_SECRETS_ONLY=V1,V9); make test runs all of it.
ONLY = [c for c in os.environ.get("CCCI_SECRETS_ONLY", "").split(",") if c]


class PsSampler(threading.Thread):
    """``ps`` every 0.2 s while the run lasts; keeps each command line that holds a token."""

    def __init__(self, state: Path) -> None:
        super().__init__(daemon=True)
        self.state, self.stop, self.samples = state, threading.Event(), 0
        self.hits: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            tokens = _tokens(self.state)
            if tokens:
                ps = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, check=False)
                self.samples += 1
                self.hits += [_mask(line, tokens) for line in ps.stdout.splitlines() if any(t in line for t in tokens)]
            self.stop.wait(0.2)


def _tokens(state: Path) -> list[str]:
    try:
        return [t for t in json.loads((state / "tokens.json").read_text()).values() if t]
    except (OSError, ValueError):
        return []


def _mask(text: str, tokens: list[str]) -> str:
    for token in tokens:
        text = text.replace(token, f"<token {token[:4]}…>")
    return text


def _files_holding(folder: Path, tokens: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if any(t.encode() in data for t in tokens):
                found.append(str(path))
    return found


def test_no_lab_token_in_output_files_or_ps_at_vvv(tmp_path):
    state, out = tmp_path / "lab", tmp_path / "out"
    evars = {"ccci_lab_state": str(state), "ccci_report_dir": str(out), "ccci_lab_keep": True,
             "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5}
    if ONLY:
        evars["ccci_only"] = ONLY
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    sampler = PsSampler(state)
    sampler.start()
    try:
        proc = subprocess.run([str(BIN / "ansible-playbook"), "-vvv", "playbooks/verify-phase5.yml",
                               "-e", json.dumps(evars)], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=False, timeout=1500)
        tokens = _tokens(state)
        assert len(tokens) == 3, "the lab wrote no tokens.json: did it start?"
        output = proc.stdout + proc.stderr
        leaked_files = [p for p in _files_holding(out, tokens) + _files_holding(state, tokens)
                        + _files_holding(Path.home() / ".ansible", tokens)
                        if not any(p == str(state / name) for name in SECRET_FILES)]
    finally:
        sampler.stop.set()
        sampler.join(timeout=5)
        subprocess.run([str(BIN / "python"), "-m", "lab", "down", "--state", str(state)], cwd=ROOT,
                       capture_output=True, check=False)
    (tmp_path / "run.log").write_text(_mask(output, tokens))  # for a person reading a failure
    assert "EXEC" in output and "<localhost> ESTABLISH LOCAL CONNECTION" in output  # it really was -vvv
    lines, task = [], "?"
    for line in output.splitlines():
        task = line if line.startswith("TASK [") else task
        if any(t in line for t in tokens):
            lines.append(f"{task.strip(' *')} -> {_mask(line.strip(), tokens)}")
    assert lines == [], f"{len(lines)} output line(s) hold a lab token: {lines[:5]}"
    assert leaked_files == [], f"files holding a lab token: {leaked_files}"
    assert sampler.samples > 20 and sampler.hits == [], \
        f"{len(sampler.hits)} of {sampler.samples} ps samples show a token, e.g. {sorted(set(sampler.hits))[:3]}"
    for name in SECRET_FILES:
        path = state / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} holds tokens and is not mode 0600"
    # Last: a run that did not pass may have skipped paths (CRON runs only once V1-V9 passed).
    assert proc.returncode == 0, _mask(output[-3000:], tokens)
