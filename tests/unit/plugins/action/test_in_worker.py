# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A controller module run in the task's worker (plugin_utils/in_worker.py) gives what a module process gives.

One real ``ansible-playbook`` on localhost runs each task twice, once in the worker (the default)
and once as a module process (``ccci_module_in_worker: false``), against a small HTTP stand-in
for Gitea: a good token, a rejected one (the token is ``no_log``), and a check-mode file edit.
``-vvv`` names the module file only when a module process is built, so the test also sees which
path each task took.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
TOKEN = "s3cret-token-7f1c"  # noqa: S105 - a test value; it must appear nowhere in the output
WRONG = "wr0ng-token-9a2e"  # noqa: S105


class Gitea(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.headers.get("Authorization") != f"token {TOKEN}":
            self._send(401, {"message": "token is required"})
        elif self.path.startswith("/api/v1/user"):
            self._send(200, {"id": 1, "login": "ccci-bot"})
        elif self.path == "/api/v1/orgs/recipe-maintainers/members/ccci-bot":
            self.send_response(204)
            self.end_headers()
        else:
            self._send(404, {"message": "not found"})

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet
        pass


PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""
CASES = {
    "user": ("coopcloud.cc_ci.gitea_user_info",
             {"gitea_url": "{url}", "gitea_token": TOKEN, "org": "recipe-maintainers"}, ""),
    "rejected": ("coopcloud.cc_ci.gitea_user_info", {"gitea_url": "{url}", "gitea_token": WRONG},
                 "      ignore_errors: true\n"),
    "check": ("coopcloud.cc_ci.markdown_section",
              {"path": "{doc}", "heading": "Cron", "content": "weekly, anchored\n"}, "      check_mode: true\n"),
}


def playbook(url: str, doc: Path, out: Path) -> str:
    text = PLAYBOOK
    for name, (module, args, extra) in CASES.items():
        filled = {k: v.format(url=url, doc=doc) for k, v in args.items()}
        for way, switch in (("worker", "true"), ("process", "false")):
            text += (f"    - name: {name} in the {way}\n      {module}: {json.dumps(filled)}\n"
                     f"      register: {name}_{way}\n      vars:\n        ccci_module_in_worker: {switch}\n{extra}")
    names = [f"{n}_{w}" for n in CASES for w in ("worker", "process")]
    text += ("    - name: Keep the results\n      ansible.builtin.copy:\n"
             f"        dest: {out}\n        content: \"{{{{ {{{', '.join(f'{chr(39)}{n}{chr(39)}: {n}' for n in names)}}} | to_json }}}}\"\n")
    return text


@pytest.fixture
def gitea():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gitea)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_worker_and_module_process_agree(gitea, tmp_path):
    doc = tmp_path / "SKILL.md"
    doc.write_text("# Skill\n\n## Cron\n\nSat 03:00 UTC\n")
    out = tmp_path / "results.json"
    (tmp_path / "play.yml").write_text(playbook(gitea, doc, out))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", CCCI_PROGRESS="0",
               PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-vvv", "-i", "localhost,",
                           str(tmp_path / "play.yml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    results = json.loads(out.read_text())
    for name in CASES:
        assert results[f"{name}_worker"] == results[f"{name}_process"], name
    assert results["user_worker"]["login"] == "ccci-bot" and results["user_worker"]["member"] is True
    assert results["rejected_worker"]["failed"] is True and "401" in results["rejected_worker"]["msg"]
    # check mode: the edit is reported, not made
    assert results["check_worker"]["changed"] is True and "Sat 03:00 UTC" in doc.read_text()
    # no_log: neither path lets the token out, at -vvv
    assert TOKEN not in log and WRONG not in log and TOKEN not in out.read_text()
    # a module process was built only where the switch asked for one
    built = [line for line in log.splitlines() if line.startswith("Using module file") and "/cc_ci/" in line]
    assert [line.rsplit("/", 1)[-1] for line in built] == ["gitea_user_info.py"] * 2 + ["markdown_section.py"], built
