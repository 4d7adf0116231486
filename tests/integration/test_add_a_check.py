# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Adding a check is three files: its role, its registry entry with its claims, its mutant carrying
its lie (docs/ADDING-A-CHECK.md).

The test copies the collection, adds the page's V10 and its mutant to the copy from the page's own
blocks, counts the files the addition touched (``git diff --stat``, recorded in
``out/add-a-check.txt``; at most three), then runs the copy's ``verify-phase5.yml`` with
``ccci_only: [V10]`` twice against one lab: healthy, V10 PASSes with its predicate in report.json
and REVIEW-5.md; under its mutant, V10 FAILs with the mutant's words in its diagnosis.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "ADDING-A-CHECK.md"
REGISTRY = "plugins/module_utils/check_registry.py"
MUTANTS = "lab/mutants/gitea.py"

pytestmark = pytest.mark.slow


def _blocks() -> dict[str, str]:
    """The page's code blocks by their marker: ``file: <path>``, ``registry: claims|entry``, ``mutant: import|entry``."""
    found = re.findall(r"<!-- (file: \S+|registry: \w+|mutant: \w+) -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    return dict(found)


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _copy_collection(dest: Path) -> None:
    """The tree as it is (tracked and new files, not ignored ones) as a fresh git repository."""
    listed = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "the collection as it is")


def _insert(path: Path, at: int, block: str) -> None:
    text = path.read_text()
    path.write_text(text[:at] + block + text[at:])


def _add_v10(collection: Path, blocks: dict[str, str]) -> None:
    """What a newcomer does by the page: the role's file, the registry's claims and entry, the mutant."""
    for marker, body in blocks.items():
        if marker.startswith("file: "):
            path = collection / marker.removeprefix("file: ")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
    registry = collection / REGISTRY
    text = registry.read_text()
    _insert(registry, text.index("\n", text.index("# Claims written beside their entry")) + 1,
            "\n" + blocks["registry: claims"] + "\n")
    text = registry.read_text()
    _insert(registry, text.index('    Check(\n        "V9"'), blocks["registry: entry"])
    mutants = collection / MUTANTS
    text = mutants.read_text()
    assert text.count("from lab.mutants import Mutant\n") == 1, "the mutant file's import changed: update the page"
    mutants.write_text(text.replace("from lab.mutants import Mutant\n", blocks["mutant: import"]))
    text = mutants.read_text()
    _insert(mutants, text.rindex("\n)\n") + 1, blocks["mutant: entry"])  # the last entry of MUTANTS


def _run(collection: Path, tmp_path: Path, out: Path, faults: list[str]) -> subprocess.CompletedProcess[str]:
    """The copy's verify-phase5.yml, V10 only, on the one lab of the test (restarted when the faults change)."""
    evars = {"ccci_only": ["V10"], "ccci_cleanup": False, "ccci_lab_state": str(tmp_path / "lab"),
             "ccci_lab_faults": faults, "ccci_report_dir": str(out), "ccci_lab_build_seconds": 1,
             "ccci_lab_poll_interval": 0.5}
    env = dict(os.environ, ANSIBLE_CONFIG=str(collection / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(tmp_path), PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    env.pop("CCCI_LAB_FAULTS", None)
    return subprocess.run([str(BIN / "ansible-playbook"), "playbooks/verify-phase5.yml", "-e", json.dumps(evars)],
                          cwd=collection, env=env, capture_output=True, text=True, timeout=600, check=False)


def _report(out: Path) -> dict:
    (check,) = json.loads((out / "report.json").read_text())["checks"]
    return check


def test_a_throwaway_check_is_three_files_and_runs_healthy_and_under_its_mutant(tmp_path) -> None:
    blocks = _blocks()
    assert set(blocks) == {"file: roles/v10_ci_pipeline/tasks/main.yml", "registry: claims", "registry: entry",
                           "mutant: import", "mutant: entry"}, sorted(blocks)
    collection = tmp_path / "ansible_collections" / "coopcloud" / "cc_ci"
    _copy_collection(collection)
    _add_v10(collection, blocks)

    _git(collection, "add", "-A")
    stat = _git(collection, "diff", "--cached", "--stat")
    touched = _git(collection, "diff", "--cached", "--name-only").split()
    (ROOT / "out").mkdir(exist_ok=True)
    (ROOT / "out" / "add-a-check.txt").write_text(f"Adding V10 and its mutant (docs/ADDING-A-CHECK.md):\n{stat}")
    print(stat)
    assert len(touched) <= 3, stat
    assert sorted(touched) == [MUTANTS, REGISTRY, "roles/v10_ci_pipeline/tasks/main.yml"], stat

    healthy = _run(collection, tmp_path, tmp_path / "healthy", [])
    log = healthy.stdout + healthy.stderr
    assert healthy.returncode == 0, log[-3000:]
    assert "included: coopcloud.cc_ci.v10_ci_pipeline" in log
    check = _report(tmp_path / "healthy")
    assert (check["id"], check["verdict"]) == ("V10", "PASS"), check
    assert [(p["name"], p["ok"]) for p in check["evidence"]["predicates"]] == [("V10.pipeline_on_main", True)]
    review = (tmp_path / "healthy" / "REVIEW-5.md").read_text()
    assert "## V10 — cc-ci's main carries the pipeline" in review and "`pipeline_on_main`" in review

    mutant = re.search(r'Mutant\("([^"]+)"', blocks["mutant: entry"]).group(1)
    words = re.search(r'\("V10",\), \(([^)]*)\)', blocks["mutant: entry"]).group(1)
    lied = _run(collection, tmp_path, tmp_path / "mutant", [mutant])
    check = _report(tmp_path / "mutant")
    assert lied.returncode != 0 and (check["id"], check["verdict"]) == ("V10", "FAIL"), check
    for word in re.findall(r'"([^"]+)"', words):
        assert word.lower() in check["diagnosis"].lower(), (word, check["diagnosis"])
    assert [(p["name"], p["ok"]) for p in check["evidence"]["predicates"]] == [("V10.pipeline_on_main", False)]
