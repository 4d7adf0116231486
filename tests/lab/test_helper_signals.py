"""lab/bin/testme-on-pr.sh keeps its token in a private header file; a signal must not leave it behind.

No lab needed: the helper talks to a server that accepts and never answers, and is stopped while it
waits, the way a person's Ctrl-C, a closed terminal or a killed job stops it (the signal reaches the
whole process group).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

HELPER = Path(__file__).resolve().parents[2] / "lab" / "bin" / "testme-on-pr.sh"
TOKEN = "lab-token-0123456789abcdef"


@pytest.fixture()
def silent_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_leaves_no_token_file(tmp_path, silent_server, sig):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "GITEA_URL": silent_server, "GITEA_TOKEN": TOKEN, "CCCI_LAB_FAULTS": ""}
    proc = subprocess.Popen(["bash", str(HELPER), "custom-html-tiny", "1"], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not list(tmp_path.glob("tmp.*/auth")):  # the header file is written: the helper waits on curl
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the helper never wrote its header file"
            time.sleep(0.05)
        assert TOKEN in next(tmp_path.glob("tmp.*/auth")).read_text()
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    left = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")]
    assert left == [], f"{sig.name} left {left}"
