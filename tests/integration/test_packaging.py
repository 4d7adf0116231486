"""What `ansible-galaxy collection build` ships: the collection's content and nothing of the repo's tooling."""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# A user's installed copy needs these; galaxy.yml itself becomes MANIFEST.json in the artifact.
REQUIRED = {"plugins", "roles", "playbooks", "meta", "docs", "README.md", "LICENSE",
            "MANIFEST.json", "FILES.json"}
ALLOWED = REQUIRED | {"CHANGELOG.md", "changelogs"}
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
