# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `ansible-galaxy collection build` ships (the collection's content and nothing of the repo's tooling),
and the installed copy in use: every playbook by FQCN, ansible-doc of every module and role, and the main
job run from it against the lab (conftest.installed_run) without writing into the installed folder."""
from __future__ import annotations

import json
import subprocess
import tarfile

import pytest
import yaml

from conftest import BIN, INSTALLED, ROOT

pytestmark = INSTALLED

# A user's installed copy needs these; galaxy.yml itself becomes MANIFEST.json in the artifact.
REQUIRED = {"plugins", "roles", "playbooks", "meta", "docs", "changelogs", "README.md", "CHANGELOG.md",
            "LICENSE", "MANIFEST.json", "FILES.json"}
ALLOWED = REQUIRED
# One form for every module's, plugin's and role's author, and galaxy.yml's.
AUTHOR = "coopcloud.cc_ci developers (@coopcloud)"
# The repo's tooling and local state: never for users (each was shipped once, or could be).
FORBIDDEN = {"lab", "tests", "molecule", "scripts", ".ci", ".hypothesis", ".pytest_cache", "Makefile",
             "pytest.ini", "requirements.txt", "out", ".lab", ".venv", ".collections", "inventory",
             "ansible.cfg", ".ansible-lint", ".gitignore", "galaxy.yml"}


@pytest.fixture(scope="module")
def members(artifact) -> list[str]:
    with tarfile.open(artifact) as tar:
        return [m.name.removeprefix("./") for m in tar.getmembers()]


def test_artifact_top_level_is_the_collection_only(members):
    top = {name.split("/", 1)[0] for name in members}
    assert not REQUIRED - top, f"missing from the artifact: {sorted(REQUIRED - top)}"
    assert not FORBIDDEN & top, f"shipped but must not be: {sorted(FORBIDDEN & top)}"
    assert top <= ALLOWED, f"unexpected in the artifact: {sorted(top - ALLOWED)}"


def test_artifact_holds_no_caches_or_hidden_files(members):
    stray = [name for name in members
             if any(part.startswith(".") or part == "__pycache__" or part.endswith((".pyc", ".tar.gz"))
                    for part in name.split("/"))]
    assert not stray, f"stray files in the artifact: {stray[:10]}"


def test_artifact_ships_every_module_and_the_license_text(members):
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "plugins/modules").glob("*.py")}
    assert modules and modules <= set(members), sorted(modules - set(members))
    assert (ROOT / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE\n"
                                                     "                       Version 3")


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
            doc = docs[fqcn]["doc"] if kind == "module" else docs[fqcn]["entry_points"]["main"]
            assert doc["short_description"], fqcn
            if kind == "module":  # plugins/doc_fragments/attributes.py gives each its description
                attrs = doc["attributes"]
                assert {"check_mode", "diff_mode", "platform"} <= set(attrs), fqcn
                assert all(a["description"] and a["support"] for a in attrs.values()), fqcn
            assert doc["author"] in (AUTHOR, [AUTHOR]), f"{fqcn}: author {doc['author']!r}, the collection's is {AUTHOR!r}"


def test_one_author_form_across_galaxy_yml_and_the_roles_meta():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert galaxy["authors"] == [AUTHOR]
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["author"] == AUTHOR, meta


@pytest.mark.slow
def test_the_installed_copy_runs_the_main_job_against_the_lab(installed, installed_run):
    """The main job by FQCN from the installed copy, the lab package installed from the checkout, the
    lab's state and the reports in the user's cache (no ccci_lab_state, no ccci_report_dir given)."""
    run = installed_run
    assert run.lab_state == installed.work / "cache/coopcloud.cc_ci/.lab"
    assert (run.lab_state / "lab.json").is_file(), f"the lab's state is not in the user's cache:\n{run.output[-3000:]}"
    assert f"{installed.work}/site/lab" in json.loads((run.lab_state / "lab.json").read_text())["bin_dir"], \
        "the lab ran from the checkout, not from its installed package"
    for name in ("REVIEW-5.md", "report.json", "report.html", "timeline.svg", "junit.xml"):
        assert (run.report_dir / name).is_file(), f"no {name} in {run.report_dir}"
    assert run.collection_after == run.collection_before, \
        f"the run wrote into the installed collection: {sorted(set(run.collection_after) ^ set(run.collection_before))[:10]}"
    verdicts = {c["id"]: c["verdict"] for c in run.report["checks"]}
    assert run.proc.returncode == 0 and set(verdicts.values()) == {"PASS"}, (verdicts, run.output[-3000:])


def test_the_installed_copy_without_the_lab_package_says_how_to_get_it(installed, tmp_path):
    env = installed.env | {"PYTHONPATH": "", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "inventory.yml", "coopcloud.cc_ci.verify_phase5",
                           "-e", '{"ccci_only": ["V1"]}'], cwd=installed.work, env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode != 0
    assert "the lab is a Python package of its own" in proc.stdout and "pip install <checkout>/lab" in proc.stdout, \
        proc.stdout[-3000:]
