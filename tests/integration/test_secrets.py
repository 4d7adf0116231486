# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""No lab token at any verbosity: the installed copy's full lab run at -vvv (conftest.installed_run),
then every token of that lab is looked for in the run's output, its report folder, the lab's state
folder, ~/.ansible, and in ``ps`` sampled all through the run (a token on a command line is readable
by every user of the box).

The only files allowed to hold a token are the ones that hold it by design, each mode 0600 and
named here: what the lab is (its config and token store), the stand-in Gitea's own database, and
the env file of the loops unit (the box keeps its tokens there too).
"""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import INSTALLED
from secrets_watch import files_holding, mask

pytestmark = [pytest.mark.slow, INSTALLED]

SECRET_FILES = ("lab.json", "tokens.json", "gitea.json", "systemd/cc-ci-loops.env")


def test_no_lab_token_in_output_files_or_ps_at_vvv(installed_run, tmp_path):
    run, tokens, state = installed_run, installed_run.tokens, installed_run.lab_state
    assert len(tokens) == 3, "the lab wrote no tokens.json: did it start?"
    output = run.output
    (tmp_path / "run.log").write_text(mask(output, tokens))  # for a person reading a failure
    assert "EXEC" in output and "<localhost> ESTABLISH LOCAL CONNECTION" in output  # it really was -vvv
    leaked_files = [p for p in files_holding(run.report_dir, tokens) + files_holding(state, tokens)
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
    assert run.proc.returncode == 0, mask(output[-3000:], tokens)
