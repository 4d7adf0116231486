# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's mutant catalogue: small, realistic lies, one component each, and the checks that kill them.

A mutant is switched on by its ``name`` (``LAB_FAULTS=name``, ``ccci_lab_faults: [name]``,
``python -m lab up --faults name``). Either the lab component it belongs to asks
``lab.faults.has(name)`` and then lies, or the mutant carries its lie itself: a ``Rewrite`` of the
answers to the routes it names, which that component's HTTP layer applies (Gitea's API for now;
see ``answer``), every other answer staying the component's own. ``tests/integration/test_mutants.py`` runs each mutant with only its ``targets`` (and
``with_checks``) and asserts every target FAILs with each of ``words`` in its diagnosis. One file per
component (``lab/mutants/<component>.py``) exports ``MUTANTS``; see docs/MUTANTS.md.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

COMPONENTS = ("bridge", "helper", "drone", "harness", "agent", "upgrade-all", "launcher", "abra", "cron", "gitea")


# An HTTP answer: status, body (JSON-able, or bytes), headers.
Answer = tuple[int, Any, dict[str, str]]
# The components whose HTTP layer applies a mutant's Rewrite (the others lie in their own code).
REWRITTEN = ("gitea",)


@dataclass(frozen=True)
class Rewrite:
    """A lie told in one route's answer: for ``method`` on a path matching ``path`` (a regex over the
    path below the API root, ``/orgs/x/members/y`` for Gitea's ``/api/v1/orgs/...``, matched whole),
    ``answer(status, body, headers, url)`` gives the answer the component sends instead."""

    method: str
    path: str
    answer: Callable[[int, Any, dict[str, str], str], Answer]

    def applies(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path.rstrip("/") or "/") is not None


@dataclass(frozen=True)
class Mutant:
    name: str
    component: str
    targets: tuple[str, ...]
    words: tuple[str, ...]
    lie: str
    isolated: bool = False  # it leaves the lab changed: it gets a lab of its own
    with_checks: tuple[str, ...] = ()  # checks run alongside (what makes the lie show), not judged
    rewrite: Rewrite | None = None  # the lie itself, applied by the component's HTTP layer

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise ValueError(f"mutant {self.name}: unknown component {self.component!r}; known: {', '.join(COMPONENTS)}")
        for attr in ("targets", "words", "with_checks"):
            if isinstance(getattr(self, attr), str):  # ("V1") instead of ("V1",)
                raise TypeError(f"mutant {self.name}: {attr} must be a tuple of strings, not a string")
        if not self.targets or not self.words or not all(w.strip() for w in self.words) or not self.lie.strip():
            raise ValueError(f"mutant {self.name}: needs targets, non-empty words and a lie")
        if self.rewrite is not None and self.component not in REWRITTEN:
            raise ValueError(f"mutant {self.name}: {self.component}'s HTTP layer applies no rewrite; "
                             f"only {', '.join(REWRITTEN)}'s does (else lie in the component's code)")


def _collect() -> tuple[Mutant, ...]:
    """Every ``lab/mutants/<component>.py``'s ``MUTANTS`` (a new file is found, not listed here)."""
    mutants: list[Mutant] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            mutants += importlib.import_module(f"{__name__}.{info.name}").MUTANTS
    seen: dict[str, Mutant] = {}
    for mutant in mutants:
        if mutant.name in seen:
            raise ValueError(f"mutant name {mutant.name!r} is used twice (components {seen[mutant.name].component}"
                             f" and {mutant.component})")
        seen[mutant.name] = mutant
    return tuple(sorted(mutants, key=lambda m: (m.component, m.name)))


CATALOGUE: tuple[Mutant, ...] = _collect()
BY_NAME: dict[str, Mutant] = {m.name: m for m in CATALOGUE}


def names() -> frozenset[str]:
    return frozenset(BY_NAME)


def answer(component: str, active: Iterable[str], method: str, path: str, url: str, given: Answer) -> Answer:
    """What ``component`` answers to ``method path`` with the ``active`` faults on: its own answer
    (``given``) passed through the Rewrite of each active mutant of its that names this route."""
    status, body, headers = given
    for name in sorted(active):
        rewrite = BY_NAME[name].rewrite if name in BY_NAME else None
        if rewrite is not None and BY_NAME[name].component == component and rewrite.applies(method, path):
            status, body, headers = rewrite.answer(status, body, headers, url)
    return status, body, headers
