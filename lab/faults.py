# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one reader of the lab's active faults (mutants), for every lab part and, through
``lab/bin/_faults.sh``, for the lab's scripts.

The rule: ``$CCCI_LAB_FAULTS`` (a comma/space list) when it is set, even empty; else the ``faults``
of the lab's config (``lab.json`` in the given state dir, else in ``$CCCI_LAB_STATE``); else none.
The daemon exports ``CCCI_LAB_FAULTS`` from its own config, so every child sees what it runs with.
Every name, read or asked about, must be in the mutant catalogue: a typo is an error listing the
known names, never a fault that silently does nothing.

``python -m lab.faults [--known]`` prints the active faults, comma-separated (exit 2 on an unknown one).
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from lab.mutants import names as known_names

ENV = "CCCI_LAB_FAULTS"


class UnknownFault(ValueError):
    """A fault name that is not in the mutant catalogue."""


def parse(text: str | None) -> list[str]:
    return sorted({w for w in re.split(r"[,\s]+", text or "") if w})


def validate(faults: Iterable[str]) -> frozenset[str]:
    given = frozenset(faults)
    unknown = sorted(given - known_names())
    if unknown:
        raise UnknownFault(f"unknown lab fault(s): {', '.join(unknown)}; known: {', '.join(sorted(known_names()))}")
    return given


def _from_state(state: str | os.PathLike[str] | None) -> list[str]:
    if not state:
        return []
    try:
        return list(json.loads((Path(state) / "lab.json").read_text()).get("faults") or [])
    except FileNotFoundError:
        return []


def active(state: str | os.PathLike[str] | None = None, *, configured: Iterable[str] | None = None,
           env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The active faults. ``configured`` is the faults of an already loaded lab config (it stands for
    the file); otherwise ``state`` (or ``$CCCI_LAB_STATE``) names the dir holding lab.json."""
    env = os.environ if env is None else env
    if ENV in env:
        return validate(parse(env[ENV]))
    if configured is not None:
        return validate(configured)
    return validate(_from_state(state or env.get("CCCI_LAB_STATE")))


def has(name: str, state: str | os.PathLike[str] | None = None, *, configured: Iterable[str] | None = None) -> bool:
    validate([name])
    return name in active(state, configured=configured)


def main(argv: list[str] | None = None) -> int:
    """``--known``: a second line with every known name (what lab/bin/_faults.sh reads)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        print(",".join(sorted(active())))
        if "--known" in argv:
            print(",".join(sorted(known_names())))
    except UnknownFault as exc:
        print(f"lab faults: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
