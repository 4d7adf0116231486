# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Swarm services of the lab's box as ``docker service ls|inspect`` show them: the comment bridge.

On a box the bridge is a Swarm service configured by its environment (FACTS: ``POLL_REPOS``,
``POLL_INTERVAL``, its Gitea and Drone tokens). The lab's bridge runs inside the lab daemon from lab.json,
so its service record is built from the same lab.json: what ``docker service inspect`` says it polls is
what it polls. Stdlib only (the ``docker`` stand-in runs under the box's python3).
"""
from __future__ import annotations

import hashlib
import time
from typing import Any

BRIDGE_SERVICE = "cc-ci-bridge_bridge"
BRIDGE_IMAGE = "git.coopcloud.tech/coop-cloud/cc-ci-bridge:latest"


def _id(name: str, size: int = 25) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:size]


def bridge_env(lab: dict[str, Any]) -> list[str]:
    """The bridge's environment, ``KEY=value`` strings as Swarm keeps them (tokens included, as on a box)."""
    tokens = lab.get("tokens") or {}
    return [f"GITEA_URL={lab.get('gitea_url', '')}", f"GITEA_TOKEN={tokens.get('bot', '')}",
            f"DRONE_URL={lab.get('drone_url', '')}", f"DRONE_TOKEN={tokens.get('drone', '')}",
            f"MIRROR_ORG={lab.get('mirror_org', '')}", f"CI_REPO={lab.get('ci_repo', '')}",
            f"POLL_REPOS={','.join(lab.get('poll_repos') or [])}",
            f"POLL_INTERVAL={lab.get('poll_interval', 30):g}"]


def services(lab: dict[str, Any]) -> list[dict[str, Any]]:
    """Every service of the lab's box, in ``docker service inspect``'s shape (dockerd's swarm.Service, with
    the defaults ``InsertDefaults`` fills in); none when no lab is described."""
    if not lab:
        return []
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(lab.get("started") or 0))
    stack = BRIDGE_SERVICE.split("_", 1)[0]
    labels = {"com.docker.stack.image": BRIDGE_IMAGE, "com.docker.stack.namespace": stack}
    return [{
        "ID": _id(BRIDGE_SERVICE),
        "Version": {"Index": 42},
        "CreatedAt": created,
        "UpdatedAt": created,
        "Spec": {
            "Name": BRIDGE_SERVICE,
            "Labels": labels,
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": BRIDGE_IMAGE,
                    "Labels": {"com.docker.stack.namespace": stack},
                    "Env": bridge_env(lab),
                    "Privileges": {"CredentialSpec": None, "SELinuxContext": None},
                    "StopGracePeriod": 10000000000,
                    "DNSConfig": {},
                    "Isolation": "default",
                },
                "Resources": {"Limits": {}, "Reservations": {}},
                "RestartPolicy": {"Condition": "any", "Delay": 5000000000, "MaxAttempts": 0},
                "Placement": {"Platforms": [{"Architecture": "amd64", "OS": "linux"}]},
                "Networks": [{"Target": _id(stack + "_default"), "Aliases": ["bridge"]}],
                "ForceUpdate": 0,
                "Runtime": "container",
            },
            "Mode": {"Replicated": {"Replicas": 1}},
            "UpdateConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5000000000,
                             "MaxFailureRatio": 0, "Order": "stop-first"},
            "RollbackConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5000000000,
                               "MaxFailureRatio": 0, "Order": "stop-first"},
            "EndpointSpec": {"Mode": "vip"},
        },
        "Endpoint": {"Spec": {"Mode": "vip"},
                     "VirtualIPs": [{"NetworkID": _id(stack + "_default"), "Addr": "10.0.1.2/24"}]},
    }]


def find(lab: dict[str, Any], ref: str) -> dict[str, Any] | None:
    """The service named *ref*, or whose ID starts with it (docker takes a unique ID prefix too)."""
    for service in services(lab):
        if ref == service["Spec"]["Name"] or (ref and service["ID"].startswith(ref)):
            return service
    return None
