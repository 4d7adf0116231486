# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge's POLL_REPOS, read on the box from its Swarm service (``docker service inspect``).

The bridge is a Swarm service configured by its environment (FACTS: POLL_REPOS, POLL_INTERVAL and its
tokens): the spec's ``TaskTemplate.ContainerSpec.Env`` holds ``KEY=value`` strings. Only POLL_REPOS leaves
this module; the other values (tokens among them) are never returned, logged or put in a message.
Standard library only: it runs on the box's python3.
"""
from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError, CliRunner, last_line

POLL_REPOS = "POLL_REPOS"


class BridgeServiceError(Exception):
    """The bridge's service could not be read; ``str(err)`` is one line naming the fix (never a value)."""


def parse_repos(value: str) -> list[str]:
    """POLL_REPOS' repos (``org/name``), comma- or space-separated."""
    return [repo for repo in re.split(r"[,\s]+", value) if repo]


def env_value(service: dict[str, Any], key: str) -> str | None:
    """*key*'s value in the service's container environment (the last setting wins, as in a container)."""
    spec = ((service.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}
    value = None
    for item in spec.get("Env") or []:
        name, sep, rest = str(item).partition("=")
        if sep and name == key:
            value = rest
    return value


def _inspect(docker: CliRunner, names: list[str]) -> list[dict[str, Any]]:
    rc, out, err = docker.run(["service", "inspect", *names])
    if rc != 0:  # stdout may hold the services found, secrets and all: only stderr is said
        raise BridgeServiceError(f"docker service inspect {' '.join(names)} failed (rc {rc}): "
                                 f"{last_line(err) or 'no message'}")
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise BridgeServiceError(f"docker service inspect {' '.join(names)} did not print JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise BridgeServiceError(f"docker service inspect {' '.join(names)} did not print a JSON array")
    return [s for s in data if isinstance(s, dict)]


def poll_repos(docker: CliRunner, service: str = "") -> tuple[str, list[str]]:
    """(the bridge's service name, its POLL_REPOS). *service* empty: the one service whose environment sets
    POLL_REPOS, among every service of the box."""
    try:
        if service:
            names = [service]
        else:
            rc, out, err = docker.run(["service", "ls", "--format", "{{.Name}}"])
            if rc != 0:
                raise BridgeServiceError(f"docker service ls failed (rc {rc}): {last_line(err) or 'no message'} "
                                         "(the box user must reach the Swarm manager's docker)")
            names = [line.strip() for line in out.splitlines() if line.strip()]
            if not names:
                raise BridgeServiceError("docker service ls shows no service on this box: the bridge runs as a "
                                         "Swarm service (deploy it, or run this on its Swarm manager)")
        services = {(s.get("Spec") or {}).get("Name") or s.get("ID") or "?": env_value(s, POLL_REPOS)
                    for s in _inspect(docker, names)}
        services = {name: value for name, value in services.items() if value is not None}
    except CliError as exc:
        raise BridgeServiceError(str(exc)) from None
    if not services:
        raise BridgeServiceError(f"service {service} sets no POLL_REPOS: set ccci_bridge_service to the bridge's"
                                 if service else "no Swarm service on this box sets POLL_REPOS: set "
                                 "ccci_bridge_service to the bridge's service")
    if len(services) > 1:
        raise BridgeServiceError(f"services {', '.join(sorted(services))} all set POLL_REPOS: set ccci_bridge_service "
                                 "to the bridge's")
    name, value = next(iter(services.items()))
    return name, parse_repos(value or "")
