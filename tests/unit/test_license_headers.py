# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Python file and shell script in the tree names its licence (SPDX), and plugins/ keeps the
GNU GPL line ansible-test sanity looks for."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPDX = "# SPDX-License-Identifier: GPL-3.0-or-later"
COPYRIGHT = "# Copyright (c) coopcloud.cc_ci contributors"
GNU = "# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)"
HEAD_LINES = 6  # the header sits above the docstring, after an optional shebang
# Where a tree that is not a git checkout keeps things that are not ours (the .gitignore's dirs).
NOT_OURS = {".git", ".venv", ".collections", ".lab", "out", "output", "__pycache__", ".pytest_cache",
            ".molecule", ".hypothesis", "node_modules"}


def tree_files(root: Path) -> list[Path]:
    """Tracked and untracked-but-not-ignored files; a plain walk where git has no checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True).stdout
        return [root / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for top, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in NOT_OURS and not d.endswith(".egg-info")]
            found.extend(Path(top) / n for n in names)
        return found


def is_source(path: Path) -> bool:
    """A Python file or a script: by its ending, or by a shebang on an executable-looking file."""
    if path.suffix in (".py", ".sh"):
        return True
    if path.suffix or not path.is_file() or path.is_symlink():
        return False
    with path.open("rb") as fh:
        return fh.read(2) == b"#!"


def header_problem(path: Path, rel: str) -> str | None:
    """What is wrong with the file's licence header, or None."""
    head = path.read_text(encoding="utf-8", errors="replace").splitlines()[:HEAD_LINES]
    if SPDX not in head:
        return f"{rel}: no '{SPDX}' in its first {HEAD_LINES} lines"
    if COPYRIGHT not in head:
        return f"{rel}: no '{COPYRIGHT}' line"
    if rel.startswith("plugins/") and GNU not in head:
        return f"{rel}: plugins/ files keep the GNU GPL line ansible-test sanity expects"
    return None


def test_every_source_file_carries_the_spdx_header():
    checked = [p for p in tree_files(ROOT) if p.is_file() and is_source(p)]
    assert len(checked) > 100, f"found only {len(checked)} source files under {ROOT}: the walk is wrong"
    problems = [msg for p in checked if (msg := header_problem(p, p.relative_to(ROOT).as_posix()))]
    assert not problems, "add the licence header (see any file in lab/ or plugins/):\n" + "\n".join(problems)


@pytest.mark.parametrize(("rel", "text", "fault"), [
    ("lab/x.py", '"""doc"""\n', "no '# SPDX"),
    ("scripts/x.sh", f"#!/bin/sh\n{SPDX}\necho\n", "no '# Copyright"),
    ("plugins/modules/x.py", f"#!/usr/bin/python\n{COPYRIGHT}\n{SPDX}\n", "GNU GPL line"),
    ("lab/x.py", "\n" * HEAD_LINES + f"{COPYRIGHT}\n{SPDX}\n", "first 6 lines"),
])
def test_a_file_without_its_header_is_named(tmp_path, rel, text, fault):
    path = tmp_path / "x"
    path.write_text(text)
    assert fault in (header_problem(path, rel) or "")


def test_a_headed_file_passes_and_an_extensionless_script_is_found(tmp_path):
    script = tmp_path / "tool"
    script.write_text(f"#!/usr/bin/env python3\n{COPYRIGHT}\n{SPDX}\n")
    assert is_source(script) and header_problem(script, "lab/bin/tool") is None
    (tmp_path / "notes").write_text("plain text\n")
    assert not is_source(tmp_path / "notes")
