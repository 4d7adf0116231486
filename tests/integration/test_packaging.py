# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `ansible-galaxy collection build` ships: the collection's content and nothing of the repo's tooling
(the installed copy in use: test_installed.py)."""
from __future__ import annotations

import tarfile

import pytest
import yaml

from conftest import ROOT

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


def test_one_author_form_across_galaxy_yml_and_the_roles_meta():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert galaxy["authors"] == [AUTHOR]
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["author"] == AUTHOR, meta
