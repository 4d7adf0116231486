# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Adding a check is one role, one registry entry and its claims module (docs/ADDING-A-CHECK.md).

The test copies the collection, adds the page's V10 to the copy from the page's own blocks, counts
the files the addition touched (``git diff --stat``, recorded in ``out/add-a-check.txt``), then runs
the copy's ``verify-phase5.yml`` with ``ccci_only: [V10]`` against a lab of its own and finds V10
run and reported, with its predicate, in report.json and REVIEW-5.md.
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

pytestmark = pytest.mark.slow


def _blocks() -> dict[str, str]:
    """The page's code blocks by their marker: ``file: <path>``, ``registry: import|entry``."""
    found = re.findall(r"<!-- (file: \S+|registry: \w+) -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
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


def _add_v10(collection: Path, blocks: dict[str, str]) -> None:
    for marker, body in blocks.items():
        if marker.startswith("file: "):
            path = collection / marker.removeprefix("file: ")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
    registry = collection / REGISTRY
    text = registry.read_text()
    last_import = text.index("\n", text.index("from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import"))
    text = text[:last_import + 1] + blocks["registry: import"] + text[last_import + 1:]
    before_v9 = text.index('    Check(\n        "V9"')
    registry.write_text(text[:before_v9] + blocks["registry: entry"] + text[before_v9:])


def test_a_throwaway_check_through_the_registry_alone(tmp_path) -> None:
    blocks = _blocks()
    assert {"registry: import", "registry: entry"} <= set(blocks) and len(blocks) == 4, sorted(blocks)
    collection = tmp_path / "ansible_collections" / "coopcloud" / "cc_ci"
    _copy_collection(collection)
    _add_v10(collection, blocks)

    _git(collection, "add", "-A")
    stat = _git(collection, "diff", "--cached", "--stat")
    touched = _git(collection, "diff", "--cached", "--name-only").split()
    (ROOT / "out").mkdir(exist_ok=True)
    (ROOT / "out" / "add-a-check.txt").write_text(f"Adding V10 (docs/ADDING-A-CHECK.md):\n{stat}")
    print(stat)
    assert sorted(touched) == ["plugins/module_utils/check_registry.py", "plugins/module_utils/claims/v10.py",
                               "roles/v10_bot_membership/tasks/main.yml"], stat

    out = tmp_path / "out"
    evars = {"ccci_only": ["V10"], "ccci_cleanup": False, "ccci_lab_state": str(tmp_path / "lab"),
             "ccci_report_dir": str(out), "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5}
    env = dict(os.environ, ANSIBLE_CONFIG=str(collection / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(tmp_path), PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/verify-phase5.yml", "-e", json.dumps(evars)],
                          cwd=collection, env=env, capture_output=True, text=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "included: coopcloud.cc_ci.v10_bot_membership" in log

    (check,) = json.loads((out / "report.json").read_text())["checks"]
    assert (check["id"], check["verdict"]) == ("V10", "PASS"), check
    assert [(p["name"], p["ok"]) for p in check["evidence"]["predicates"]] == [("V10.bot_is_org_member", True)]
    review = (out / "REVIEW-5.md").read_text()
    assert "## V10 — the bot is a member of the mirror org" in review and "`bot_is_org_member`" in review
