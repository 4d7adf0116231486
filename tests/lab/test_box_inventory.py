# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""One inventory of several lab boxes (python -m lab inventory): a host per lab, each its own user,
port, key and known_hosts; a user serving two labs of one inventory is refused."""
from __future__ import annotations

import json

import pytest

from lab import box
from lab.__main__ import main


def _lay(tmp_path, lab, user, port):
    where = tmp_path / lab / "box"
    where.mkdir(parents=True)
    info = {"name": f"labbox-{user}", "user": user, "port": port,
            "ssh": {"private_key": str(where / "ssh" / "id_ed25519"), "known_hosts": str(where / "ssh" / "known_hosts")}}
    (where / "box.json").write_text(json.dumps(info))
    return tmp_path / lab


def test_one_host_a_box_with_its_own_ssh_details(tmp_path, capsys):
    a, b = _lay(tmp_path, "a", "ccci-a", 29001), _lay(tmp_path, "b", "ccci-b", 29002)
    assert main(["inventory", "--state", str(a), "--state", str(b)]) == 0
    hosts = json.loads(capsys.readouterr().out)["ccci_box"]["hosts"]
    assert list(hosts) == ["labbox-ccci-a", "labbox-ccci-b"]
    for host, user, port, lab in (("labbox-ccci-a", "ccci-a", 29001, a), ("labbox-ccci-b", "ccci-b", 29002, b)):
        got = hosts[host]
        assert (got["ansible_user"], got["ansible_port"], got["ansible_host"]) == (user, port, "127.0.0.1")
        assert got["ansible_ssh_private_key_file"] == str(lab / "box" / "ssh" / "id_ed25519")
        assert f"UserKnownHostsFile={lab / 'box' / 'ssh' / 'known_hosts'}" in got["ansible_ssh_common_args"]
        assert "StrictHostKeyChecking=yes" in got["ansible_ssh_common_args"]


def test_one_user_for_two_labs_is_refused(tmp_path, capsys):
    a, b = _lay(tmp_path, "a", "ccci", 29001), _lay(tmp_path, "b", "ccci", 29002)
    assert main(["inventory", "--state", str(a), "--state", str(b)]) == 1
    assert "give each lab its own --box-user" in capsys.readouterr().err


def test_a_lab_not_laid_out_as_a_box_names_the_fix(tmp_path):
    with pytest.raises(box.BoxError, match="--box first"):
        box.boxes_inventory([tmp_path / "nothing"])
