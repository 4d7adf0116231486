# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Watch which sandbox stacks are deployed while something else runs (V8: one at a time).

A detached sampler writes one JSON line per change of the deployed set; reading it back tells the
most stacks that were ever alive together and when.
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any


def sample_forever(list_stacks: Callable[[], list[str]], out_path: str, prefixes: list[str],
                   interval: float, deadline: float) -> None:
    """Append ``{"t": unix, "stacks": [...]}`` whenever the set of matching stacks changes."""
    last: list[str] | None = None
    while time.time() < deadline:
        try:
            stacks = sorted(s for s in list_stacks() if not prefixes or s.startswith(tuple(prefixes)))
        except Exception as exc:  # the engine may blink; record it and keep watching
            stacks = last or []
            with open(out_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"t": time.time(), "error": str(exc)[:200]}) + "\n")
        if stacks != last:
            with open(out_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"t": time.time(), "stacks": stacks}) + "\n")
            last = stacks
        time.sleep(interval)


def final_sample(list_stacks: Callable[[], list[str]], out_path: str, prefixes: list[str]) -> None:
    """One last look after the sampler stopped: the end state, whatever the sampler last caught."""
    stacks = sorted(s for s in list_stacks() if s.startswith(tuple(prefixes)))
    with open(out_path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"t": time.time(), "stacks": stacks, "final": True}) + "\n")


def start_detached(run: Callable[[], None]) -> int:
    """Fork a session leader that runs ``run`` with stdio closed (so Ansible does not wait on it)."""
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)  # the first child exits at once; the grandchild is reparented
        return 0
    os.setsid()
    grandchild = os.fork()
    if grandchild:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        run()
    finally:
        os._exit(0)


def stop(pid_path: str) -> bool:
    try:
        with open(pid_path, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.unlink(pid_path)
    return True


def read_samples(out_path: str) -> tuple[list[dict[str, Any]], int]:
    """``(samples with stacks, sampler errors)`` from the samples file, oldest first."""
    timeline: list[dict[str, Any]] = []
    errors = 0
    if os.path.exists(out_path):
        with open(out_path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if "stacks" in item:
                    timeline.append(item)
                elif "error" in item:
                    errors += 1
    return timeline, errors


def summarise(out_path: str) -> dict[str, Any]:
    timeline, errors = read_samples(out_path)
    together = [item for item in timeline if len(item["stacks"]) > 1]
    seen = sorted({s for item in timeline for s in item["stacks"]})
    return {
        "max_concurrent": max((len(item["stacks"]) for item in timeline), default=0),
        "stacks_seen": seen,
        "overlaps": together[:20],
        "left_deployed": timeline[-1]["stacks"] if timeline else [],
        "timeline": [{"t": item["t"], "stacks": item["stacks"]} for item in timeline][-200:],
        "samples_changed": len(timeline),
        "errors": errors,
    }


def deploy_intervals(out_path: str) -> list[tuple[str, float, float]]:
    """``(stack, first seen, gone)`` per deploy, from the samples; a stack still alive at the last
    sample ends there."""
    alive: dict[str, float] = {}
    spans: list[tuple[str, float, float]] = []
    last_t = 0.0
    for item in read_samples(out_path)[0]:
        last_t = float(item["t"])
        for stack in item["stacks"]:
            alive.setdefault(stack, last_t)
        for stack in [s for s in alive if s not in item["stacks"]]:
            spans.append((stack, alive.pop(stack), last_t))
    spans += [(stack, first, last_t) for stack, first in alive.items()]
    return spans
