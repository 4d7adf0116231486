# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the agent finds Gitea, Drone, the registry and the box: env first, then lab.json."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lab import faults as lab_faults
from lab.config import described

BIN_DIR = Path(__file__).resolve().parent.parent / "bin"


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text or "") if w]


@dataclass
class AgentConfig:
    gitea_url: str
    token: str
    mirror_org: str = "recipe-maintainers"
    upstream_url: str = ""
    upstream_org: str = "coop-cloud"
    upstream_token: str = ""
    ci_repo: str = "recipe-maintainers/cc-ci"
    drone_url: str = ""
    drone_token: str = ""
    registry_url: str = ""
    root: str = ""
    sandbox_recipes: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    protected_clones: list[str] = field(default_factory=list)
    bot_user: str = ""
    testme_interval: str = "5"
    testme_max_wait: str = "1800"
    # A real /upgrade-all runs for an hour; the lab's takes seconds. It spends this long composing
    # its summary so that a stop of a busy run lands mid-run and a run that carries on is seen.
    summary_seconds: float = 3.0

    def has(self, fault: str) -> bool:
        return lab_faults.has(fault, configured=self.faults)

    @property
    def logs_dir(self) -> Path:
        return Path(self.root) / ".cc-ci-logs" / "upgrades"

    def helper(self, name: str) -> str:
        """A skill helper script: the box's copy under the skill, else the lab's own."""
        mine = Path(self.root) / ".claude" / "skills" / "recipe-upgrade" / name
        return str(mine) if mine.exists() else str(BIN_DIR / name)

    def helper_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(GITEA_URL=self.gitea_url, GITEA_TOKEN=self.token, MIRROR_ORG=self.mirror_org,
                   CI_REPO=self.ci_repo, DRONE_URL=self.drone_url, DRONE_TOKEN=self.drone_token,
                   **{lab_faults.ENV: ",".join(self.faults)})
        env.setdefault("INTERVAL", self.testme_interval)
        env.setdefault("MAX_WAIT", self.testme_max_wait)
        return env

    @classmethod
    def load(cls) -> "AgentConfig":
        lab = described()
        env = os.environ.get
        tokens = lab.get("tokens") or {}
        gitea_url = (env("GITEA_URL") or lab.get("gitea_url") or "").rstrip("/")
        faults = sorted(lab_faults.active())
        recipes = _words(env("UPGRADE_RECIPES", "")) or list(lab.get("sandbox_recipes") or [])
        interval, max_wait = "5", "1800"
        if lab:
            interval = str(max(0.2, float(lab.get("poll_interval") or 1.0)))
            max_wait = str(int(max(60.0, float(lab.get("build_seconds") or 3.0) * 30)))
        return cls(
            gitea_url=gitea_url,
            token=env("GITEA_TOKEN") or tokens.get("bot", ""),
            mirror_org=env("MIRROR_ORG") or lab.get("mirror_org") or "recipe-maintainers",
            upstream_url=(env("UPSTREAM_URL") or gitea_url).rstrip("/"),
            upstream_org=env("UPSTREAM_ORG") or lab.get("upstream_org") or "coop-cloud",
            upstream_token=env("UPSTREAM_TOKEN") or "",
            ci_repo=env("CI_REPO") or lab.get("ci_repo") or "recipe-maintainers/cc-ci",
            drone_url=(env("DRONE_URL") or lab.get("drone_url") or "").rstrip("/"),
            drone_token=env("DRONE_TOKEN") or tokens.get("drone", ""),
            registry_url=(env("REGISTRY_URL") or lab.get("registry_url") or "https://registry-1.docker.io").rstrip("/"),
            root=env("CCCI_ROOT") or lab.get("root") or os.getcwd(),
            sandbox_recipes=recipes,
            faults=faults,
            protected_clones=list(lab.get("protected_clones") or []) + _words(env("CCCI_PROTECTED_CLONES", "")),
            bot_user=env("GITEA_USER") or (lab.get("users") or {}).get("bot", ""),
            testme_interval=interval,
            testme_max_wait=max_wait,
            summary_seconds=float(lab.get("agent_summary_seconds", 3.0)),
        )

    def missing(self) -> list[str]:
        need = {"GITEA_URL": self.gitea_url, "GITEA_TOKEN": self.token, "DRONE_URL": self.drone_url,
                "DRONE_TOKEN": self.drone_token}
        return [k for k, v in need.items() if not v]
