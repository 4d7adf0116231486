# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""abra_teardown: check mode, real, idempotent; diagnosis of leftovers; query; the lab's stand-ins."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import abra_teardown
from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.test_abra import Fakes

LAB_BIN = Path(__file__).resolve().parents[4] / "lab" / "bin"


def run_module(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        abra_teardown.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def fakes(tmp_path, monkeypatch) -> Fakes:
    f = Fakes(tmp_path)
    monkeypatch.setenv("FAKE_ENGINE", str(f.engine))
    return f


def base(f: Fakes, **kw) -> dict:
    return dict(abra_path=str(f.bin / "abra"), docker_path=str(f.bin / "docker"), abra_dir=str(f.abra_dir),
                verify_timeout=1, **kw)


def test_check_real_idempotent(fakes, capsys):
    fakes.app("custom-html-tiny-3.lab.local", "custom-html-tiny")
    fakes.app("custom-html-1.lab.local", "custom-html")
    args = base(fakes, recipe="custom-html-tiny")

    check = run_module({**args, "_ansible_check_mode": True}, capsys)
    assert check["changed"] is True and check["removed"] == ["custom-html-tiny-3.lab.local"]
    assert check["apps"][0]["actions"] == ["undeploy", "remove"]
    assert (fakes.engine / "stacks" / "custom-html-tiny-3_lab_local").exists()

    real = run_module(args, capsys)
    assert real["changed"] is True and real["removed"] == ["custom-html-tiny-3.lab.local"]
    assert real["leftovers"] == [] and real["apps"][0]["deployed"] is True
    assert real["apps"][0]["before"]["volumes"] == ["custom-html-tiny-3_lab_local_content"]

    for mode in (True, False):
        again = run_module({**args, "_ansible_check_mode": mode}, capsys)
        assert again["changed"] is False and again["apps"] == [] and "failed" not in again
    assert (fakes.engine / "stacks" / "custom-html-1_lab_local").exists()


def test_domains_nothing_there_is_ok(fakes, capsys):
    res = run_module(base(fakes, domains=["never.lab.local"]), capsys)
    assert res["changed"] is False and res["apps"][0]["known"] is False and "failed" not in res


def test_leftover_volume_is_named(fakes, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_LEAVE_VOLUME", "1")
    fakes.app("custom-html-tiny-3.lab.local", "custom-html-tiny")
    res = run_module(base(fakes, domains=["custom-html-tiny-3.lab.local"]), capsys)
    assert res["failed"] is True
    assert res["msg"] == "teardown left volume custom-html-tiny-3_lab_local_content of custom-html-tiny-3.lab.local"
    assert res["changed"] is True and res["removed"] == []


def test_query_changes_nothing(fakes, capsys):
    fakes.app("custom-html-tiny-3.lab.local", "custom-html-tiny")
    res = run_module(base(fakes, state="query", recipe="custom-html-tiny"), capsys)
    assert res["changed"] is False and res["stacks"] == ["custom-html-tiny-3_lab_local"]
    assert res["apps"][0]["deployed"] is True and res["abra_version"] == "abra version 0.9.9-fake"
    assert "stack custom-html-tiny-3_lab_local of custom-html-tiny-3.lab.local" in res["leftovers"]
    assert not any("undeploy" in c or "remove c" in c for c in fakes.calls())


def test_errors_are_one_line(fakes, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_NO_FORCE", "1")
    fakes.app("a.lab.local", "r")
    res = run_module(base(fakes, domains=["a.lab.local"]), capsys)
    assert res["failed"] is True and res["msg"].startswith("abra app remove does not support --force (-f)")
    assert (fakes.engine / "stacks" / "a_lab_local").exists()  # probed before touching anything
    res = run_module(dict(domains=["a"], abra_path=str(fakes.bin / "nope")), capsys)
    assert res["failed"] is True and res["msg"].endswith(": set abra_path")
    res = run_module(dict(abra_path=str(fakes.bin / "abra")), capsys)
    assert res["failed"] is True and "domains, recipe" in res["msg"]


@pytest.mark.skipif(not (LAB_BIN / "abra").exists() or not (LAB_BIN / "docker").exists(),
                    reason="lab stand-ins lab/bin/abra and lab/bin/docker not there yet")
@pytest.mark.parametrize("fault", ["", "teardown-leaves-volume"])
def test_lab_standins_round_trip(tmp_path, capsys, monkeypatch, fault):
    abra_dir = tmp_path / "abra"
    recipe = abra_dir / "recipes" / "custom-html-tiny"
    recipe.mkdir(parents=True)
    (recipe / "compose.yml").write_text(
        "services:\n  app:\n    image: joseluisq/static-web-server:2.38.0\n"
        "    deploy:\n      labels:\n        - coop-cloud.${STACK_NAME}.version=1.0.2+2.38.0\n"
        "volumes:\n  content:\nsecrets:\n  admin_password:\n    external: true\n"
    )
    monkeypatch.delenv("CCCI_LAB_STATE", raising=False)
    monkeypatch.delenv("LAB_REGISTRY_URL", raising=False)
    monkeypatch.setenv("ABRA_DIR", str(abra_dir))
    monkeypatch.setenv("CCCI_LAB_FAULTS", fault)
    abra = str(LAB_BIN / "abra")
    domain = "custom-html-tiny-3.lab.local"
    subprocess.run([abra, "app", "new", "custom-html-tiny", "--server", "lab.local", "--domain", domain, "-n"],
                   check=True, capture_output=True)
    subprocess.run([abra, "app", "deploy", domain, "-n"], check=True, capture_output=True)
    args = dict(recipe="custom-html-tiny", abra_path=abra, docker_path=str(LAB_BIN / "docker"),
                abra_dir=str(abra_dir), verify_timeout=1)
    res = run_module(args, capsys)
    if fault:
        assert res["failed"] is True
        assert res["msg"] == "teardown left volume custom-html-tiny-3_lab_local_content of custom-html-tiny-3.lab.local"
    else:
        assert "failed" not in res, res
        assert res["changed"] is True and res["removed"] == [domain]
        assert run_module(args, capsys)["changed"] is False
