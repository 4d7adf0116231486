# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures the unit tests share (pytest and ``ansible-test units`` both load this file).

The in-memory forge itself (FakeForge, FakeBridge, FakeClock, run_module) lives in
``plugins/module_utils/forge_fake.py`` beside the tests, since tests/lab imports it too."""
from __future__ import annotations

import copy
from types import ModuleType
from typing import Any, Callable

import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import FakeClock, FakeForge


@pytest.fixture
def forge() -> FakeForge:
    """An empty in-memory Gitea + Drone; a test file that seeds it overrides this fixture."""
    return FakeForge()


@pytest.fixture
def clocked_forge(forge: FakeForge, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeForge]:
    """``clocked_forge(mod, ...)``: the forge, with a FakeClock (``forge.clock``) standing in for
    ``time`` in each given module, so waits run in fake time and scheduled events fire."""
    def install(*modules: ModuleType) -> FakeForge:
        forge.clock = FakeClock(forge)
        for module in modules:
            monkeypatch.setattr(module, "time", forge.clock)
        return forge
    return install


def _failed_claims(claims: ModuleType, inputs: dict[str, Any]) -> dict[str, str]:
    return {p.name: p.diagnosis for p in claims.evaluate(inputs) if not p.ok}


@pytest.fixture
def failed_claims() -> Callable[[ModuleType, dict[str, Any]], dict[str, str]]:
    """``failed_claims(claims_module, inputs)``: ``{claim name: diagnosis}`` of each claim of a check
    (plugins/module_utils/claims/vN.py) that the inputs fail; ``{}`` when every claim holds."""
    return _failed_claims


@pytest.fixture
def lie_fails_its_claim() -> Callable[..., None]:
    """``lie_fails_its_claim(claims_module, healthy, lie, claim, words)``: ``lie`` edits a copy of the
    healthy inputs in place; the check must then fail ``claim`` with a diagnosis holding ``words``."""
    def check(claims: ModuleType, healthy: dict[str, Any], lie: Callable[[dict[str, Any]], Any],
              claim: str, words: str) -> None:
        inputs = copy.deepcopy(healthy)
        lie(inputs)
        failed = _failed_claims(claims, inputs)
        assert claim in failed, f"the lie went unnoticed by {claim}; failed: {failed}"
        assert words in failed[claim], f"{claim} failed without saying {words!r}: {failed[claim]}"
    return check
