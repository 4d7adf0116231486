# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `ansible-galaxy collection build` ships: the collection's content and nothing of the repo's tooling."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

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
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out)],
                   cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)
    (built,) = out.glob("coopcloud-cc_ci-*.tar.gz")
    return built


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


@pytest.fixture(scope="module")
def installed(artifact, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The artifact installed into a tmp collections path; the env and cwd know nothing of the checkout."""
    work = tmp_path_factory.mktemp("installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env |= {"ANSIBLE_COLLECTIONS_PATH": str(work / "collections"), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1", "PATH": f"{BIN}:{env['PATH']}"}
    subprocess.run(["ansible-galaxy", "collection", "install", "-p", str(work / "collections"), str(artifact)],
                   cwd=work, env=env, check=True, capture_output=True, text=True, timeout=120)
    return work, env


def run_installed(installed, *argv: str) -> subprocess.CompletedProcess:
    work, env = installed
    return subprocess.run(list(argv), cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", ["verify_phase5", "install_cron", "check", "v1_testme_gate"])
def test_installed_playbooks_are_addressed_by_fqcn(installed, name):
    proc = run_installed(installed, "ansible-playbook", f"coopcloud.cc_ci.{name}", "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shipped = installed[0] / "collections/ansible_collections/coopcloud/cc_ci/playbooks" / f"{name}.yml"
    assert f"playbook: {shipped}" in proc.stdout, proc.stdout


def test_installed_playbooks_are_all_identifiers(installed):
    playbooks = installed[0] / "collections/ansible_collections/coopcloud/cc_ci/playbooks"
    names = sorted(p.stem for p in playbooks.glob("*.yml"))
    assert "verify_phase5" in names and "install_cron" in names
    assert all(n.isidentifier() for n in names), names


def test_installed_modules_and_roles_render_with_ansible_doc(installed):
    modules = sorted(p.stem for p in (ROOT / "plugins/modules").glob("*.py") if p.stem != "__init__")
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    for kind, names in (("module", modules), ("role", roles)):
        fqcns = [f"coopcloud.cc_ci.{n}" for n in names]
        proc = run_installed(installed, "ansible-doc", "-t", kind, "--json", *fqcns)
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
