# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users install it, in use: every playbook by FQCN, ansible-doc of every module and role,
and one full run of the main job from the installed copy (conftest.installed_run: -vvv, the lab Gitea
recording every exchange at a page cap of 20) that three tests read, each for its own thing:

- installed use: the run passes from the installed copy, the lab package installed from the checkout,
  its lab state and reports in the user's cache, nothing written into the installed collection;
- secrets: no lab token at any verbosity - every token of that lab is looked for in the run's output,
  its report folder, the lab's state folder, ~/.ansible, and in ``ps`` sampled all through the run (a
  token on a command line is readable by every user of the box). The only files allowed to hold a token
  hold it by design, each mode 0600 and named in SECRET_FILES: what the lab is (its config and token
  store), the stand-in Gitea's own database, and the env file of the loops unit (the box keeps its
  tokens there too);
- the Gitea contract: each exchange of the collection, the bridge, the helper scripts, the agent and the
  upstream maintainer is held against Gitea 1.27.1's swagger by tests/contract/gitea_swagger.py (path,
  method, status, query, request and response bodies; no missing and no invented field) with the
  reasoned allow-list of ALLOWED; the endpoints seen go to out/gitea-endpoints.md (docs/GITEA-CONTRACT.md
  quotes them).

One module, so that `--dist loadfile` (scripts/test.sh) keeps these tests on one xdist worker; the run
itself happens once per session whatever the workers (conftest.installed_run)."""
from __future__ import annotations

import json
import stat
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.tests.contract.gitea_swagger import GiteaContract, Report, load
from conftest import BIN, INSTALLED_ONLY, ROOT
from secrets_watch import files_holding, mask

# Every playbook a user may run: the main job, install-cron, the generic one-check runner and each check.
PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml") if p.stem.isidentifier())


def test_every_installed_playbook_is_addressed_by_fqcn(installed):
    assert {"verify_phase5", "install_cron", "check", "v1_testme_gate", "v9_cleanup"} <= set(PLAYBOOKS)
    proc = installed.run(str(BIN / "ansible-playbook"), "--syntax-check",
                         *(f"coopcloud.cc_ci.{name}" for name in PLAYBOOKS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in PLAYBOOKS:
        assert f"playbook: {installed.collection}/playbooks/{name}.yml" in proc.stdout, (name, proc.stdout)


def test_installed_playbooks_are_all_identifiers(installed):
    names = sorted(p.stem for p in (installed.collection / "playbooks").glob("*.yml"))
    assert names == PLAYBOOKS, "the artifact's playbooks are the checkout's identifier-named ones"


# One form for every module's, plugin's and role's author (test_packaging.py holds galaxy.yml and the roles' meta to it).
AUTHOR = "coopcloud.cc_ci developers (@coopcloud)"


def test_installed_modules_and_roles_render_with_ansible_doc(installed):
    modules = sorted(p.stem for p in (ROOT / "plugins/modules").glob("*.py") if p.stem != "__init__")
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    for kind, names in (("module", modules), ("role", roles)):
        fqcns = [f"coopcloud.cc_ci.{n}" for n in names]
        proc = installed.run(str(BIN / "ansible-doc"), "-t", kind, "--json", *fqcns)
        assert proc.returncode == 0, proc.stderr
        docs = json.loads(proc.stdout)
        # ansible-doc leaves out, silently, a role without meta/argument_specs.yml
        assert sorted(docs) == fqcns, f"{kind}s without docs: {sorted(set(fqcns) - set(docs))}"
        for fqcn in fqcns:
            # a role's entry points: main, or only its task files' own (roles/ledger: pull, push)
            entries = [docs[fqcn]["doc"]] if kind == "module" else list(docs[fqcn]["entry_points"].values())
            assert entries, f"{fqcn} has no entry point"
            for doc in entries:
                assert doc["short_description"], fqcn
                if kind == "module":  # plugins/doc_fragments/attributes.py gives each its description
                    attrs = doc["attributes"]
                    assert {"check_mode", "diff_mode", "platform"} <= set(attrs), fqcn
                    assert all(a["description"] and a["support"] for a in attrs.values()), fqcn
                assert doc["author"] in (AUTHOR, [AUTHOR]), f"{fqcn}: author {doc['author']!r}, the collection's is {AUTHOR!r}"


@pytest.mark.slow
def test_the_installed_copy_runs_the_main_job_against_the_lab(installed_run):
    """The main job by FQCN from the installed copy, the lab package installed from the checkout, the
    lab's state and the reports in the user's cache (no ccci_lab_state, no ccci_report_dir given)."""
    run, work = installed_run, Path(installed_run.work)
    assert run.lab_state == str(work / "cache/coopcloud.cc_ci/.lab")
    assert run.lab_bin_dir, f"the lab did not start from the user's cache:\n{run.output[-3000:]}"
    assert run.lab_bin_dir.startswith(f"{work}/site/lab"), \
        f"the lab ran from {run.lab_bin_dir}, not from its installed package"
    for name in ("REVIEW-5.md", "report.json", "report.html", "timeline.svg", "junit.xml"):
        assert (Path(run.report_dir) / name).is_file(), f"no {name} in {run.report_dir}"
    changed = sorted(k for k in run.collection_before.keys() | run.collection_after.keys()
                     if run.collection_before.get(k) != run.collection_after.get(k))
    assert run.collection_after == run.collection_before, f"the run wrote into the installed collection: {changed[:10]}"
    verdicts = {c["id"]: c["verdict"] for c in run.report["checks"]}
    assert run.returncode == 0 and set(verdicts.values()) == {"PASS"}, (verdicts, run.output[-3000:])


def test_the_installed_copy_without_the_lab_package_says_how_to_get_it(installed, tmp_path):
    env = installed.env | {"PYTHONPATH": "", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "inventory.yml", "coopcloud.cc_ci.verify_phase5",
                           "-e", '{"ccci_only": ["V1"]}'], cwd=installed.work, env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode != 0
    assert "the lab is a Python package of its own" in proc.stdout and "pip install <checkout>/lab" in proc.stdout, \
        proc.stdout[-3000:]


# -- secrets --

SECRET_FILES = ("lab.json", "tokens.json", "gitea.json", "systemd/cc-ci-loops.env")


@pytest.mark.slow
def test_no_lab_token_in_output_files_or_ps_at_vvv(installed_run, tmp_path):
    run, tokens, state = installed_run, installed_run.tokens, Path(installed_run.lab_state)
    assert len(tokens) == 3, "the lab wrote no tokens.json: did it start?"
    output = run.output
    (tmp_path / "run.log").write_text(mask(output, tokens))  # for a person reading a failure
    assert "EXEC" in output and "<localhost> ESTABLISH LOCAL CONNECTION" in output  # it really was -vvv
    leaked_files = [p for p in files_holding(Path(run.report_dir), tokens) + files_holding(state, tokens)
                    + files_holding(Path.home() / ".ansible", tokens)
                    if not any(p == str(state / name) for name in SECRET_FILES)]
    lines, task = [], "?"
    for line in output.splitlines():
        task = line if line.startswith("TASK [") else task
        if any(t in line for t in tokens):
            lines.append(f"{task.strip(' *')} -> {mask(line.strip(), tokens)}")
    assert lines == [], f"{len(lines)} output line(s) hold a lab token: {lines[:5]}"
    assert leaked_files == [], f"files holding a lab token: {leaked_files}"
    assert run.ps_samples > 20 and run.ps_hits == [], \
        f"{len(run.ps_hits)} of {run.ps_samples} ps samples show a token, e.g. {sorted(set(run.ps_hits))[:3]}"
    for name in SECRET_FILES:
        path = state / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} holds tokens and is not mode 0600"
    # Last: a run that did not pass may have skipped paths (CRON runs only once V1-V9 passed).
    assert run.returncode == 0, mask(output[-3000:], tokens)


# -- the Gitea contract --

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


@pytest.mark.slow
def test_a_full_run_at_page_cap_20_keeps_gitea_contract(installed_run) -> None:
    run = installed_run
    verdicts = {c["id"]: c["verdict"] for c in run.report["checks"]}
    contract = GiteaContract()
    exchanges = load(Path(run.record))
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
    assert run.returncode == 0 and set(verdicts.values()) == {"PASS"}, (verdicts, run.output[-3000:])
