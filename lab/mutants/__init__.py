# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's mutant catalogue: small, realistic lies, one component each, and the checks that kill them.

A mutant is switched on by its ``name`` (``LAB_FAULTS=name``, ``ccci_lab_faults: [name]``,
``python -m lab up --faults name``); the lab component it belongs to asks ``lab.faults.has(name)``
and then lies. ``tests/integration/test_mutants.py`` runs each mutant with only its ``targets`` (and
``with_checks``) and asserts every target FAILs with each of ``words`` in its diagnosis. One file per
component (``lab/mutants/<component>.py``) exports ``MUTANTS``; see docs/MUTANTS.md.
"""
from __future__ import annotations

from dataclasses import dataclass

COMPONENTS = ("bridge", "helper", "drone", "harness", "agent", "upgrade-all", "launcher", "abra", "cron", "gitea")


@dataclass(frozen=True)
class Mutant:
    name: str
    component: str
    targets: tuple[str, ...]
    words: tuple[str, ...]
    lie: str
    isolated: bool = False  # it leaves the lab changed: it gets a lab of its own
    with_checks: tuple[str, ...] = ()  # checks run alongside (what makes the lie show), not judged

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise ValueError(f"mutant {self.name}: unknown component {self.component!r}; known: {', '.join(COMPONENTS)}")
        for attr in ("targets", "words", "with_checks"):
            if isinstance(getattr(self, attr), str):  # ("V1") instead of ("V1",)
                raise TypeError(f"mutant {self.name}: {attr} must be a tuple of strings, not a string")
        if not self.targets or not self.words or not all(w.strip() for w in self.words) or not self.lie.strip():
            raise ValueError(f"mutant {self.name}: needs targets, non-empty words and a lie")


def _collect() -> tuple[Mutant, ...]:
    from lab.mutants import abra, agent, bridge, cron, drone, gitea, harness, helper, launcher, upgrade_all

    mutants: list[Mutant] = []
    for module in (bridge, helper, drone, harness, agent, upgrade_all, launcher, abra, gitea, cron):
        mutants += module.MUTANTS
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
