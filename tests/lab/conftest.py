# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared lab fixtures: real ``python -m lab up`` daemons on loopback, one per fault set.

``lab_state`` is the plain lab (no faults); ``lab_factory(faults)`` starts (once per session and
fault set, each in its own state dir) a lab with those faults. All are stopped at session end.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from lab.config import LabConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def lab_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab", *args], check=False, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LabConfig]]:
    labs: dict[tuple[str, ...], LabConfig] = {}

    def start(faults: Iterable[str] = ()) -> LabConfig:
        key = tuple(sorted(set(faults)))
        if key not in labs:
            state = tmp_path_factory.mktemp("lab-" + ("-".join(key)[:60] or "plain"))
            proc = lab_cli("up", "--state", str(state), "--build-seconds", "1", "--poll-interval", "0.3",
                           *(["--faults", ",".join(key)] if key else []))
            assert proc.returncode == 0, f"lab up failed:\n{proc.stderr}"
            labs[key] = LabConfig.load(state)
        return labs[key]

    yield start
    for cfg in labs.values():
        lab_cli("down", "--state", cfg.state_dir)


@pytest.fixture(scope="session")
def lab_state(lab_factory: Callable[..., LabConfig]) -> LabConfig:
    """The lab with no faults (a LabConfig; its ``state_dir`` is the state dir)."""
    return lab_factory()
