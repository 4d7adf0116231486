# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry of checks and the lab's mutant catalogue, held against each other: every mutant
targets registered checks, and every registered check has a mutant it must kill; and a mutant that
carries its own lie (a Rewrite) is what the lab answers on its route, and only there."""
from __future__ import annotations

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import get, ids
from lab import mutants, seed
from lab.config import LabConfig
from lab.gitea import GiteaService
from lab.mutants import CATALOGUE, REWRITTEN, Mutant, Rewrite


def test_every_mutant_names_registered_checks() -> None:
    for mutant in CATALOGUE:
        assert mutant.targets, mutant
        for check_id in mutant.targets + mutant.with_checks:
            get(check_id)  # ValueError naming the known ids
        assert not set(mutant.targets) & set(mutant.with_checks), f"{mutant.name}: a check both judged and alongside"


@pytest.mark.parametrize("check_id", ids())
def test_every_check_has_a_mutant_it_must_kill(check_id: str) -> None:
    killers = [m.name for m in CATALOGUE if check_id in m.targets]
    assert killers, f"{check_id} is in the registry but no mutant of lab/mutants targets it"


# -- a mutant that carries its own lie (lab/mutants: Rewrite) --------------------------------------------
def test_a_mutant_s_rewrite_is_what_gitea_answers_on_its_route_alone(tmp_path, monkeypatch) -> None:
    """The lab's Gitea applies an active mutant's Rewrite to the route it names, and only there."""
    lie = Mutant("gitea-test-denies-membership", "gitea", ("V1",), ("not a member",),
                 "Gitea answers membership with 404.",
                 rewrite=Rewrite("GET", r"/orgs/[^/]+/members/[^/]+",
                                 lambda status, body, headers, url: (404, {"message": "no", "url": url}, {})))
    monkeypatch.setitem(mutants.BY_NAME, lie.name, lie)
    cfg = LabConfig.new(tmp_path)
    svc = GiteaService(cfg)
    seed.seed_gitea(cfg, svc.store, svc.git_root)
    svc.start()
    try:
        with httpx.Client(base_url=f"{svc.url}/api/v1", headers={"Authorization": f"token {cfg.tokens['bot']}"}) as bot:
            member = f"/orgs/{cfg.mirror_org}/members/{cfg.users['bot']}"
            monkeypatch.setenv("CCCI_LAB_FAULTS", "")
            assert bot.get(member).status_code == 204  # the healthy answer
            monkeypatch.setenv("CCCI_LAB_FAULTS", lie.name)
            lied = bot.get(member)
            assert (lied.status_code, lied.json()) == (404, {"message": "no", "url": f"{svc.url}/api/v1{member}"})
            assert bot.get("/version").json() == {"version": "1.27.1"}  # every other route its own
            assert bot.get(f"/orgs/{cfg.mirror_org}").status_code == 200
    finally:
        svc.stop()


def test_a_rewrite_only_where_the_http_layer_applies_it() -> None:
    assert REWRITTEN == ("gitea",)
    with pytest.raises(ValueError, match="bridge's HTTP layer applies no rewrite"):
        Mutant("x", "bridge", ("V1",), ("x",), "A lie.", rewrite=Rewrite("GET", "/", lambda *a: a[:3]))
