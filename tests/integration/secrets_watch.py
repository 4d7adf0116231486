# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a lab token may show up: ``ps`` sampled through a run, files under a folder; masking for messages."""
from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path


class PsSampler(threading.Thread):
    """``ps`` every 0.2 s while the run lasts; keeps each command line that holds a token."""

    def __init__(self, state: Path) -> None:
        super().__init__(daemon=True)
        self.state, self.stop, self.samples = state, threading.Event(), 0
        self.hits: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            tokens = lab_tokens(self.state)
            if tokens:
                ps = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, check=False)
                self.samples += 1
                self.hits += [mask(line, tokens) for line in ps.stdout.splitlines() if any(t in line for t in tokens)]
            self.stop.wait(0.2)


def lab_tokens(state: Path) -> list[str]:
    try:
        return [t for t in json.loads((state / "tokens.json").read_text()).values() if t]
    except (OSError, ValueError):
        return []


def mask(text: str, tokens: list[str]) -> str:
    for token in tokens:
        text = text.replace(token, f"<token {token[:4]}…>")
    return text


def files_holding(folder: Path, tokens: list[str]) -> list[str]:
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
