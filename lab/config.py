# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's configuration: one JSON file (``<state>/lab.json``) shared by every lab component."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lab import faults as lab_faults

LAB_DIR = Path(__file__).resolve().parent
BIN_DIR = LAB_DIR / "bin"
DATA_DIR = LAB_DIR / "data"

SANDBOX_RECIPES = ["custom-html-tiny", "custom-html"]

@dataclass
class LabConfig:
    state_dir: str
    pid: int = 0
    gitea_url: str = ""
    drone_url: str = ""
    registry_url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=lambda: {"bot": "cc-ci-bot", "outsider": "outsider"})
    mirror_org: str = "recipe-maintainers"
    upstream_org: str = "coop-cloud"
    ci_repo: str = "recipe-maintainers/cc-ci"
    sandbox_recipes: list[str] = field(default_factory=lambda: list(SANDBOX_RECIPES))
    poll_repos: list[str] = field(default_factory=list)
    root: str = ""
    abra_dir: str = ""
    abra_server: str = "lab.local"
    bin_dir: str = str(BIN_DIR)
    tmux_tmpdir: str = ""
    # The box account's HOME: holds the agent's (stand-in) claude.ai login, as on the real box.
    home: str = ""
    loops_unit: str = ""
    protected_clones: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    build_seconds: float = 3.0
    poll_interval: float = 1.0
    # Drone runners: builds beyond this many wait in Drone's queue (a box usually has one)
    runners: int = 1
    # The lab launcher's wedge time (the box's is 900 s): quiet seconds, with nothing in flight, after
    # which a live agent is wedged. V8a reads it (ccci_wedge_seconds) and waits it out once.
    wedge_seconds: float = 10.0
    # Gitea's [api] MAX_RESPONSE_ITEMS: the largest page a list answers (boxes often lower it).
    max_response_items: int = 50

    @classmethod
    def new(cls, state_dir: str | os.PathLike[str], faults: list[str] | None = None,
            build_seconds: float = 3.0, poll_interval: float = 1.0, *, runners: int = 1,
            max_response_items: int = 50) -> "LabConfig":
        state = Path(state_dir).resolve()
        if max_response_items < 1:
            raise ValueError(f"max_response_items must be at least 1, not {max_response_items}")
        cfg = cls(state_dir=str(state), faults=sorted(lab_faults.validate(faults or [])),
                  build_seconds=build_seconds, poll_interval=poll_interval, runners=max(1, int(runners)),
                  max_response_items=max_response_items)
        cfg.root = str(state / "srv" / "cc-ci")
        cfg.abra_dir = str(state / "abra")
        cfg.tmux_tmpdir = str(state / "tmux")
        cfg.home = str(state / "home")
        cfg.loops_unit = str(state / "systemd" / "cc-ci-loops.service")
        cfg.protected_clones = [str(Path(cfg.root) / "loops" / "cc-ci")]
        cfg.poll_repos = [f"{cfg.mirror_org}/{r}" for r in cfg.sandbox_recipes]
        cfg.tokens = load_or_make_tokens(state)
        return cfg

    @property
    def path(self) -> Path:
        return Path(self.state_dir) / "lab.json"

    def has(self, fault: str) -> bool:
        return lab_faults.has(fault, configured=self.faults)

    def write(self) -> Path:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        return self.path

    @classmethod
    def load(cls, state_dir: str | os.PathLike[str] | None = None) -> "LabConfig":
        state = Path(state_dir or os.environ["CCCI_LAB_STATE"]).resolve()
        data = json.loads((state / "lab.json").read_text())
        return cls(**data)


def described() -> dict:
    """lab.json of the lab in ``$CCCI_LAB_STATE`` as a plain dict, for a part that may run on a box as
    well (the agent, the abra stand-in): ``{}`` when no lab is named or its lab.json cannot be read."""
    state = os.environ.get("CCCI_LAB_STATE")
    if not state:
        return {}
    try:
        return json.loads((Path(state) / "lab.json").read_text())
    except (OSError, ValueError):
        return {}


def load_or_make_tokens(state: Path) -> dict[str, str]:
    """Tokens live in their own file so they survive lab restarts (the same lab, a second run)."""
    path = state / "tokens.json"
    if path.exists():
        return json.loads(path.read_text())
    state.mkdir(parents=True, exist_ok=True)
    tokens = {name: secrets.token_hex(20) for name in ("bot", "outsider", "drone")}
    path.write_text(json.dumps(tokens))
    os.chmod(path, 0o600)
    return tokens
