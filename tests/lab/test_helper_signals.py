# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""lab/bin/testme-on-pr.sh keeps its token in a private header file; a signal must not leave it behind.

No lab needed: the helper talks to a server that accepts and never answers, and is stopped while it
waits, the way a person's Ctrl-C, a closed terminal or a killed job stops it (the signal reaches the
whole process group).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import silent_server

HELPER = Path(__file__).resolve().parents[2] / "lab" / "bin" / "testme-on-pr.sh"
TOKEN = "lab-token-0123456789abcdef"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_leaves_no_token_file(tmp_path, sig):
    with silent_server() as url:
        _stop_while_waiting(tmp_path, url, sig)
    left = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")]
    assert left == [], f"{sig.name} left {left}"


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _curl_in_group(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if fields[0].endswith("(curl") and int(fields[1].split()[2]) == pgid:
            return True
    return False


def _stop_while_waiting(tmp_path, url, sig):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "GITEA_URL": url, "GITEA_TOKEN": TOKEN, "CCCI_LAB_FAULTS": ""}
    # Started as a terminal or an agent starts it: SIGINT, SIGQUIT and SIGHUP at their defaults, even
    # when the tests themselves run as a background job (which ignores SIGINT and SIGQUIT) or under
    # nohup (SIGHUP): a shell cannot trap a signal ignored on entry.
    proc = subprocess.Popen(["bash", str(HELPER), "custom-html-tiny", "1"], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 20
        # the header file is written and curl runs in the helper's group: the helper waits on curl (a
        # signal sent before curl has forked would leave curl to run out its own timeout)
        while not (list(tmp_path.glob("tmp.*/auth")) and _curl_in_group(proc.pid)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the helper never wrote its header file or never started curl"
            time.sleep(0.05)
        assert TOKEN in next(tmp_path.glob("tmp.*/auth")).read_text()
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
