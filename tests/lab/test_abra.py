# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The abra and docker stand-ins as subprocesses over a temp ABRA_DIR and a tiny fake registry."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lab.config import BIN_DIR
from lab.engine import Engine

TAGS = {"joseluisq/static-web-server": {"2.38.0", "2.39.0"}}
COMPOSE = """---
services:
  app:
    image: joseluisq/static-web-server:{tag}
    volumes:
      - content:/public
    deploy:
      labels:
        - "coop-cloud.${{STACK_NAME}}.version=1.0.2+{tag}"
volumes:
  content:
secrets:
  api_key:
    external: true
"""
DOMAIN = "tiny-1.lab.local"
STACK = "tiny-1_lab_local"


class _Registry(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802
        parts = self.path.split("/manifests/")
        name, tag = parts[0].removeprefix("/v2/"), parts[-1]
        self.send_response(200 if tag in TAGS.get(name, ()) else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture
def env(tmp_path: Path, registry: str) -> dict[str, str]:
    (tmp_path / "abra" / "recipes" / "tiny").mkdir(parents=True)
    set_tag(tmp_path / "abra", "2.38.0")
    e = {k: v for k, v in os.environ.items() if k not in ("CCCI_LAB_STATE", "CCCI_LAB_FAULTS")}
    e.update(ABRA_DIR=str(tmp_path / "abra"), LAB_REGISTRY_URL=registry)
    return e


def set_tag(abra_dir: Path, tag: str) -> None:
    (abra_dir / "recipes" / "tiny" / "compose.yml").write_text(COMPOSE.format(tag=tag))


def run(env: dict[str, str], tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BIN_DIR / tool), *args], check=False, env=env, text=True,
                          capture_output=True, timeout=20)


def lines(env: dict[str, str], *args: str) -> list[str]:
    return run(env, "docker", *args).stdout.split()


def deploy(env: dict[str, str]) -> None:
    assert run(env, "abra", "app", "new", "tiny", "--server", "lab.local", "--domain", DOMAIN, "-n").returncode == 0
    res = run(env, "abra", "app", "deploy", DOMAIN, "-n")
    assert res.returncode == 0, res.stderr


def test_version_and_help_list_flags(env: dict[str, str]) -> None:
    assert run(env, "abra", "--version").stdout.startswith("abra version ")
    out = run(env, "abra", "app", "remove", "--help").stdout
    assert "-f, --force" in out and "-n, --no-input" in out


def test_unknown_flag_fails_like_abra(env: dict[str, str]) -> None:
    res = run(env, "abra", "app", "remove", DOMAIN, "--purge")
    assert res.returncode == 1 and "unknown flag: --purge" in res.stderr


def test_deploy_lists_and_full_teardown(env: dict[str, str]) -> None:
    deploy(env)
    apps = json.loads(run(env, "abra", "app", "ls", "-m").stdout)
    assert apps["lab.local"]["apps"] == [{"appName": DOMAIN, "domain": DOMAIN, "recipe": "tiny", "server": "lab.local",
                                          "status": "deployed", "version": "1.0.2+2.38.0", "chaos": "false"}]
    assert lines(env, "stack", "ls", "--format", "{{.Name}}") == [STACK]
    flt = f"label=com.docker.stack.namespace={STACK}"
    assert lines(env, "volume", "ls", "-q", "--filter", flt) == [f"{STACK}_content"]
    assert lines(env, "secret", "ls", "-q", "--filter", flt) == [f"{STACK}_api_key_v1"]
    assert lines(env, "volume", "ls", "-q", "--filter", "label=com.docker.stack.namespace=other") == []
    # remove refuses a deployed app; undeploy keeps the data; remove takes it
    assert "still deployed" in run(env, "abra", "app", "remove", DOMAIN, "-f", "-n").stderr
    assert run(env, "abra", "app", "undeploy", DOMAIN, "-n").returncode == 0
    assert lines(env, "stack", "ls", "--format", "{{.Name}}") == []
    assert lines(env, "volume", "ls", "-q") == [f"{STACK}_content"]
    assert run(env, "abra", "app", "remove", DOMAIN, "-f", "-n").returncode == 0
    assert lines(env, "volume", "ls", "-q") == lines(env, "secret", "ls", "-q") == []
    assert json.loads(run(env, "abra", "app", "ls", "-m").stdout) == {}


def test_unknown_tag_is_a_pull_error(env: dict[str, str], tmp_path: Path) -> None:
    set_tag(tmp_path / "abra", "2.39.0-bad")
    run(env, "abra", "app", "new", "tiny", "--server", "lab.local", "--domain", DOMAIN, "-n")
    res = run(env, "abra", "app", "deploy", DOMAIN, "-n")
    assert res.returncode == 1
    assert "unable to pull joseluisq/static-web-server:2.39.0-bad" in res.stderr
    assert lines(env, "stack", "ls", "-q") == lines(env, "volume", "ls", "-q") == []


@pytest.mark.parametrize("via", ["env", "lab.json"])
def test_fault_teardown_leaves_volume(env: dict[str, str], tmp_path: Path, via: str) -> None:
    if via == "env":
        env["CCCI_LAB_FAULTS"] = "teardown-leaves-volume"
    else:  # the lab's own state names the registry and the faults
        (tmp_path / "lab.json").write_text(json.dumps({"registry_url": env.pop("LAB_REGISTRY_URL"),
                                                       "faults": ["teardown-leaves-volume"]}))
        env["CCCI_LAB_STATE"] = str(tmp_path)
    deploy(env)
    run(env, "abra", "app", "undeploy", DOMAIN, "-n")
    assert run(env, "abra", "app", "remove", DOMAIN, "-f", "-n").returncode == 0
    assert lines(env, "volume", "ls", "-q") == [f"{STACK}_content"]
    assert lines(env, "secret", "ls", "-q") == []


def test_lab_state_locates_abra_dir(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text(json.dumps({"abra_dir": env.pop("ABRA_DIR")}))
    env["CCCI_LAB_STATE"] = str(tmp_path)
    deploy(env)
    assert lines(env, "stack", "ls", "-q") == [STACK]


def test_watcher_never_sees_half_a_deploy(env: dict[str, str], tmp_path: Path) -> None:
    engine, bad, done = Engine(tmp_path / "abra"), [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            for stack in engine.objects("stacks"):
                vols = {v["name"] for v in engine.objects("volumes")}
                if not set(stack["volumes"]) <= vols:
                    bad.append(stack["name"])

    t = threading.Thread(target=watch)
    t.start()
    try:
        for _unused in range(2):
            deploy(env)
            run(env, "abra", "app", "undeploy", DOMAIN, "-n")
            run(env, "abra", "app", "remove", DOMAIN, "-f", "-n")
    finally:
        done.set()
        t.join()
    assert not bad
