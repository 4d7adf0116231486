# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Gitea exchange of a full lab run, held against Gitea 1.27.1's swagger.

The installed copy's full run (conftest.installed_run: every check, CRON too, at -vvv) on a lab with
Gitea's page cap lowered to 20 (MAX_RESPONSE_ITEMS, as boxes often set it): the lab Gitea writes each
exchange of the collection, the bridge, the helper scripts, the agent and the upstream maintainer to
CCCI_LAB_RECORD; tests/contract/gitea_swagger.py checks each one (path, method, status, query, request
and response bodies; no missing and no invented field) with the reasoned allow-list of ALLOWED. The
endpoints seen are written to out/gitea-endpoints.md (docs/GITEA-CONTRACT.md quotes them)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.tests.contract.gitea_swagger import GiteaContract, Report, load
from conftest import INSTALLED, INSTALLED_ONLY

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, INSTALLED]
LAB = "lab services (bridge, harness, probes)"
CLIENTS = (("coopcloud.cc_ci", "collection"), ("curl/", "helper scripts"), ("python-httpx", LAB),
           ("Python-urllib", "agent"), ("lab-upstream-maintainer", "upstream maintainer (lab seed)"))


def client_of(agent: str) -> str:
    return next((name for prefix, name in CLIENTS if agent.startswith(prefix)), agent or "?")


def endpoints_table(contract: GiteaContract, exchanges: list[dict], report: Report) -> str:
    seen: dict[str, dict[str, set]] = defaultdict(lambda: {"status": set(), "clients": set()})
    for ex in exchanges:
        if ex.get("kind") != "api":
            continue
        found = contract.route(ex["path"])
        key = f"{ex['method']} {found[0] if found else ex['path']}"
        seen[key]["status"].add(ex["status"])
        seen[key]["clients"].add(client_of(ex.get("agent", "")))
    lines = [f"{report.checked} API exchanges checked, {len(report.violations)} violations; "
             f"{len(report.skipped)} git smart HTTP / web page exchanges (lab plumbing, outside API v1).", "",
             "| endpoint | statuses | clients |", "|---|---|---|"]
    for key in sorted(seen, key=lambda k: (k.split(" ", 1)[1], k)):
        lines.append(f"| `{key}` | {', '.join(map(str, sorted(seen[key]['status'])))} | "
                     f"{', '.join(sorted(seen[key]['clients']))} |")
    return "\n".join(lines) + "\n"


def test_a_full_run_at_page_cap_20_keeps_gitea_contract(installed_run) -> None:
    run = installed_run
    verdicts = {c["id"]: c["verdict"] for c in run.report["checks"]}
    contract = GiteaContract()
    exchanges = load(run.record)
    report = contract.check_all(exchanges)
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "gitea-endpoints.md").write_text(endpoints_table(contract, exchanges, report))
    assert report.checked > (20 if INSTALLED_ONLY else 200), \
        f"too few exchanges recorded ({report.checked}): is CCCI_LAB_RECORD reaching the lab?"
    clients = {client_of(ex.get("agent", "")) for ex in exchanges if ex.get("kind") == "api"}
    assert {"collection", LAB} <= clients
    if not INSTALLED_ONLY:
        assert {"agent", "helper scripts", "upstream maintainer (lab seed)"} <= clients
    assert [str(v) for v in report.violations] == []
    # The same run proves the checks page correctly under a cap of 20.
    assert run.proc.returncode == 0 and set(verdicts.values()) == {"PASS"}, (verdicts, run.output[-3000:])
