# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge's POLL_REPOS read from its Swarm service with real ``docker`` CLIs: the lab's stand-in (which
answers ``docker service inspect`` in docker's shape) and small scripts for what a box may answer. Only
POLL_REPOS comes back: the service's tokens are never in a result or a message."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.abra import Docker
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.bridge_service import BridgeServiceError, poll_repos

ROOT = Path(__file__).resolve().parents[4]
STAND_IN = ROOT / "lab" / "bin" / "docker"
SECRET = "f00dfeed" * 5
MIRRORS = ["recipe-maintainers/custom-html-tiny", "recipe-maintainers/custom-html"]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch) -> Path:
    """A lab description as the lab writes it (the stand-in reads it through CCCI_LAB_STATE)."""
    (tmp_path / "lab.json").write_text(json.dumps({
        "gitea_url": "http://127.0.0.1:3000", "drone_url": "http://127.0.0.1:3001", "mirror_org": "recipe-maintainers",
        "ci_repo": "recipe-maintainers/cc-ci", "poll_repos": MIRRORS, "poll_interval": 1.0,
        "tokens": {"bot": SECRET, "drone": SECRET[::-1], "outsider": "x"}}))
    monkeypatch.setenv("CCCI_LAB_STATE", str(tmp_path))
    monkeypatch.delenv("CCCI_LAB_FAULTS", raising=False)
    return tmp_path


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "docker"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_stand_in_answers_docker_service_inspect_in_docker_s_shape(lab: Path) -> None:
    docker = Docker(str(STAND_IN))
    rc, out, err = docker.run(["service", "ls", "--format", "{{.Name}}"])
    assert rc == 0 and out.split() == ["cc-ci-bridge_bridge"], err
    rc, out, err = docker.run(["service", "inspect", "cc-ci-bridge_bridge"])
    assert rc == 0, err
    (service,) = json.loads(out)
    assert out.startswith("[\n    {\n")  # docker's 4-space indent
    assert len(service["ID"]) == 25 and service["Spec"]["Name"] == "cc-ci-bridge_bridge"
    env = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert all(isinstance(item, str) and "=" in item for item in env)
    assert f"POLL_REPOS={','.join(MIRRORS)}" in env and f"GITEA_TOKEN={SECRET}" in env
    # by an ID prefix too; an unknown name: docker prints [] and one error line, exit 1
    assert json.loads(docker.run(["service", "inspect", service["ID"][:12]])[1])[0]["ID"] == service["ID"]
    assert docker.run(["service", "inspect", "nosuch"]) == (1, "[]\n", "Error: no such service: nosuch\n")


def test_the_bridge_is_found_by_its_poll_repos_and_only_they_come_back(lab: Path) -> None:
    found = poll_repos(Docker(str(STAND_IN)))
    assert found == ("cc-ci-bridge_bridge", MIRRORS)
    assert SECRET not in repr(found) and SECRET[::-1] not in repr(found)
    assert poll_repos(Docker(str(STAND_IN)), "cc-ci-bridge_bridge") == found


def test_a_bridge_configured_without_a_sandbox_mirror_shows_it(lab: Path) -> None:
    data = json.loads((lab / "lab.json").read_text())
    (lab / "lab.json").write_text(json.dumps({**data, "poll_repos": MIRRORS[:1]}))
    assert poll_repos(Docker(str(STAND_IN))) == ("cc-ci-bridge_bridge", MIRRORS[:1])


def test_a_named_service_that_is_not_there_is_one_line_without_secrets(lab: Path) -> None:
    with pytest.raises(BridgeServiceError) as err:
        poll_repos(Docker(str(STAND_IN)), "bridge_app")
    assert str(err.value) == "docker service inspect bridge_app failed (rc 1): Error: no such service: bridge_app"


def test_no_service_setting_poll_repos_names_the_variable(tmp_path: Path) -> None:
    svc = {"ID": "a" * 25, "Spec": {"Name": "web_app", "TaskTemplate": {"ContainerSpec": {"Env": [f"TOKEN={SECRET}"]}}}}
    docker = script(tmp_path, f"""case "$2" in ls) echo web_app;; inspect) cat <<'J'\n{json.dumps([svc])}\nJ\n;; esac\n""")
    with pytest.raises(BridgeServiceError, match="no Swarm service on this box sets POLL_REPOS: set ccci_bridge_service"):
        poll_repos(Docker(docker))
    with pytest.raises(BridgeServiceError, match="service web_app sets no POLL_REPOS"):
        poll_repos(Docker(docker), "web_app")


def test_a_failed_inspect_never_says_what_it_printed(tmp_path: Path) -> None:
    """docker prints the services it found before the error for the others: their env holds tokens."""
    svc = {"Spec": {"Name": "b", "TaskTemplate": {"ContainerSpec": {"Env": [f"GITEA_TOKEN={SECRET}"]}}}}
    docker = script(tmp_path, f"cat <<'J'\n{json.dumps([svc])}\nJ\necho 'Error: no such service: c' >&2\nexit 1\n")
    with pytest.raises(BridgeServiceError) as err:
        poll_repos(Docker(docker), "b c")
    assert SECRET not in str(err.value) and "no such service: c" in str(err.value)


def test_a_box_user_outside_the_docker_group_is_told_so(tmp_path: Path) -> None:
    docker = script(tmp_path, "echo 'permission denied while trying to connect to the Docker daemon socket at "
                              "unix:///var/run/docker.sock' >&2\nexit 1\n")
    with pytest.raises(BridgeServiceError, match="docker service ls failed .rc 1.: permission denied"):
        poll_repos(Docker(docker))


def test_poll_repos_separated_by_commas_or_spaces(tmp_path: Path) -> None:
    svc = {"Spec": {"Name": "b", "TaskTemplate": {"ContainerSpec": {"Env": ["POLL_REPOS=a/x, a/y\ta/z", "POLL_REPOS=o/p,o/q"]}}}}
    docker = script(tmp_path, f"cat <<'J'\n{json.dumps([svc])}\nJ\n")
    assert poll_repos(Docker(docker), "b") == ("b", ["o/p", "o/q"])  # the last setting wins, as in the container
