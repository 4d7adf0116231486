# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mutant catalogue is sane (unit speed): unique names, known components, words to look for,
and one fault reader that refuses unknown names."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lab import faults
from lab.mutants import BY_NAME, CATALOGUE, COMPONENTS, Mutant, names

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_names_are_unique_and_components_known() -> None:
    assert len(CATALOGUE) >= 21
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE) == len(names())
    for mutant in CATALOGUE:
        assert mutant.component in COMPONENTS, mutant
        assert mutant.words and all(w.strip() for w in mutant.words), mutant
        assert mutant.lie.strip().endswith("."), mutant


# Every mutant targets registered checks and every check has a mutant: tests/lab/test_checks_and_mutants.py.


def test_one_file_per_component() -> None:
    for mutant in CATALOGUE:
        module = REPO_ROOT / "lab" / "mutants" / f"{mutant.component.replace('-', '_')}.py"
        assert module.is_file() and f'"{mutant.name}"' in module.read_text(), mutant.name


def test_a_bad_mutant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown component"):
        Mutant("x", "kernel", ("V1",), ("x",), "A lie.")
    with pytest.raises(ValueError, match="non-empty words"):
        Mutant("x", "bridge", ("V1",), (" ",), "A lie.")
    with pytest.raises(TypeError, match="tuple"):
        Mutant("x", "bridge", "V1", ("x",), "A lie.")  # type: ignore[arg-type]


# -- the one fault reader ----------------------------------------------------------------------------
def test_env_wins_over_the_file_even_when_empty(tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text(json.dumps({"faults": ["bridge-no-status"]}))
    assert faults.active(env={"CCCI_LAB_STATE": str(tmp_path)}) == {"bridge-no-status"}
    assert faults.active(env={"CCCI_LAB_STATE": str(tmp_path), "CCCI_LAB_FAULTS": ""}) == frozenset()
    assert faults.active(env={"CCCI_LAB_FAULTS": "helper-posts-twice, bridge-no-status"}) == {
        "helper-posts-twice", "bridge-no-status"}
    assert faults.active(tmp_path, env={}) == {"bridge-no-status"}
    assert faults.active(env={}) == frozenset()  # no lab at all: a box


@pytest.mark.parametrize("where", ["env", "file", "asked"])
def test_an_unknown_name_lists_the_known_ones(tmp_path: Path, where: str) -> None:
    (tmp_path / "lab.json").write_text(json.dumps({"faults": ["bridge-no-sttaus"] if where == "file" else []}))
    env = {"CCCI_LAB_STATE": str(tmp_path)} | ({"CCCI_LAB_FAULTS": "bridge-no-sttaus"} if where == "env" else {})
    with pytest.raises(faults.UnknownFault, match="bridge-no-sttaus; known: [a-z0-9-]+, .*agent-claims-success-on-red, .*bridge-no-status"):
        if where == "asked":
            faults.has("bridge-no-sttaus", tmp_path)
        else:
            faults.active(env=env)


def _script_faults(tmp_path: Path, env: dict[str, str], ask: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "probe.sh"
    script.write_text(f'. "{REPO_ROOT}/lab/bin/_faults.sh"\nif fault {ask}; then echo on; else echo off; fi\n')
    clean = {k: v for k, v in os.environ.items() if k not in ("CCCI_LAB_FAULTS", "CCCI_LAB_STATE")}
    return subprocess.run(["bash", str(script)], env=clean | env, capture_output=True, text=True, check=False,
                          timeout=30)


def test_the_scripts_read_faults_by_the_same_rule(tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text(json.dumps({"faults": ["helper-posts-twice"]}))
    state = {"CCCI_LAB_STATE": str(tmp_path)}
    assert _script_faults(tmp_path, state, "helper-posts-twice").stdout == "on\n"
    assert _script_faults(tmp_path, state | {"CCCI_LAB_FAULTS": ""}, "helper-posts-twice").stdout == "off\n"
    assert _script_faults(tmp_path, {"CCCI_LAB_FAULTS": "launcher-kills-busy"}, "launcher-kills-busy").stdout == "on\n"
    typo = _script_faults(tmp_path, {"CCCI_LAB_FAULTS": "launcher-kils-busy"}, "launcher-kills-busy")
    assert typo.returncode == 2 and "launcher-kils-busy; known:" in typo.stderr and typo.stdout == ""
    asked = _script_faults(tmp_path, state, "helper-post-twice")
    assert asked.returncode == 2 and "unknown lab fault helper-post-twice; known:" in asked.stderr


def test_every_catalogue_name_is_read_by_some_lab_part() -> None:
    """A mutant no component asks about would be "killed" by a check that fails for another reason."""
    sources = "".join(p.read_text() for p in (REPO_ROOT / "lab").rglob("*")
                      if p.is_file() and p.suffix in (".py", ".sh", "") and "mutants" not in p.parts
                      and "data" not in p.parts)
    # A mutant with a rewrite carries its lie itself (lab/mutants: Rewrite), applied by the component's HTTP layer.
    assert [m for m, mutant in BY_NAME.items() if mutant.rewrite is None
            and f'"{m}"' not in sources and f"fault {m}" not in sources] == []
