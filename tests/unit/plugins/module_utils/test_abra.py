# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Abra / Docker wrappers and the verified teardown, against a tiny fake abra and docker."""
from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.abra import (
    Abra,
    App,
    Docker,
    parse_apps,
    query,
    stack_name,
    teardown,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError, CliNotFound

FAKE_ABRA = r'''
import json, os, sys
from pathlib import Path
engine = Path(os.environ["FAKE_ENGINE"])
abra = Path(os.environ["ABRA_DIR"])
args = sys.argv[1:]
with open(engine / "calls", "a") as fh:
    fh.write(" ".join(["abra", *args]) + "\n")
def die(msg):
    print("FATA " + msg, file=sys.stderr); sys.exit(1)
def stack(d): return d.replace(".", "_")
def env_file(d):
    found = list((abra / "servers").glob(f"*/{d}.env"))
    return found[0] if found else None
if args == ["--version"]:
    print("abra version 0.9.9-fake")
elif args[:2] == ["app", "remove"] and "--help" in args:
    print("Usage:\n  abra app remove <domain> [flags]\n\nFlags:")
    if not os.environ.get("FAKE_NO_FORCE"):
        print("  -f, --force      perform action without further prompt")
    print("  -h, --help       help for remove\n\nGlobal Flags:\n  -n, --no-input   toggle non-interactive mode")
elif args[:3] == ["app", "ls", "-m"]:
    apps = {}
    for env in sorted((abra / "servers").glob("*/*.env")):
        kv = dict(l.split("=", 1) for l in env.read_text().splitlines() if "=" in l)
        server = env.parent.name
        apps.setdefault(server, {"apps": []})["apps"].append(
            {"appName": env.stem, "domain": env.stem, "recipe": kv.get("TYPE", ""), "server": server, "status": "unknown"})
    if os.environ.get("FAKE_LS_LIST"):
        print(json.dumps([a for block in apps.values() for a in block["apps"]]))
    else:
        print("WARN some chatter before the JSON")
        print(json.dumps(apps))
elif args[:2] == ["app", "undeploy"]:
    d = args[2]
    if not env_file(d): die(f"unable to find app {d}")
    s = engine / "stacks" / stack(d)
    if not s.exists(): die(f"{d} is not deployed")
    s.unlink()
elif args[:2] == ["app", "remove"]:
    d = args[2]
    if "-f" not in args or "-n" not in args: die("would prompt: missing -f -n")
    if not env_file(d): die(f"unable to find app {d}")
    if (engine / "stacks" / stack(d)).exists(): die(f"{d} is still deployed, run undeploy first")
    for kind in ("volumes", "secrets"):
        for f in (engine / kind).glob("*"):
            if f.read_text() == stack(d) and not (kind == "volumes" and os.environ.get("FAKE_LEAVE_VOLUME")):
                f.unlink()
    env_file(d).unlink()
else:
    die("unknown command " + " ".join(args))
'''

FAKE_DOCKER = r'''
import os, sys
from pathlib import Path
engine = Path(os.environ["FAKE_ENGINE"])
args = sys.argv[1:]
with open(engine / "calls", "a") as fh:
    fh.write(" ".join(["docker", *args]) + "\n")
ns = None
if "--filter" in args:
    ns = args[args.index("--filter") + 1].split("=", 2)[2]
if args[:2] == ["stack", "ls"]:
    for f in sorted((engine / "stacks").glob("*")): print(f.name)
elif args[:2] in (["volume", "ls"], ["secret", "ls"]):
    for f in sorted((engine / (args[0] + "s")).glob("*")):
        if ns is None or f.read_text() == ns: print(f.name)
else:
    print("unknown", file=sys.stderr); sys.exit(1)
'''


class Fakes:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.engine = root / "engine"
        self.abra_dir = root / "abra"
        for d in (self.bin, *(self.engine / k for k in ("stacks", "volumes", "secrets")), self.abra_dir / "servers"):
            d.mkdir(parents=True, exist_ok=True)
        for name, body in (("abra", FAKE_ABRA), ("docker", FAKE_DOCKER)):
            path = self.bin / name
            path.write_text(f"#!{sys.executable}\n{body}")
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
        self.env = {"FAKE_ENGINE": str(self.engine)}

    def app(self, domain: str, recipe: str, server: str = "lab.local", deployed: bool = True,
            volumes=("content",), secrets=("admin_password_v1",), env_file: bool = True) -> None:
        s = stack_name(domain)
        if env_file:
            (self.abra_dir / "servers" / server).mkdir(parents=True, exist_ok=True)
            (self.abra_dir / "servers" / server / f"{domain}.env").write_text(f"TYPE={recipe}\nDOMAIN={domain}\n")
        if deployed:
            (self.engine / "stacks" / s).write_text(s)
        for v in volumes:
            (self.engine / "volumes" / f"{s}_{v}").write_text(s)
        for x in secrets:
            (self.engine / "secrets" / f"{s}_{x}").write_text(s)

    def calls(self) -> list[str]:
        path = self.engine / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def abra(self, **env) -> Abra:
        return Abra(path=str(self.bin / "abra"), abra_dir=str(self.abra_dir), env={**self.env, **env})

    def docker(self) -> Docker:
        return Docker(path=str(self.bin / "docker"), env=self.env)


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return Fakes(tmp_path)


def test_parse_apps_shapes():
    nested = {"lab.local": {"apps": [{"appName": "a.lab.local", "recipe": "r", "status": "deployed"}], "appCount": 1}}
    assert parse_apps(json.dumps(nested)) == [App("a.lab.local", "r", "lab.local", "deployed")]
    flat = [{"Domain": "b.x", "Recipe": "r2", "Server": "x"}, {"nodomain": 1}, "junk"]
    assert parse_apps(json.dumps(flat)) == [App("b.x", "r2", "x", "")]
    assert parse_apps(json.dumps({"srv": [{"domain": "c.srv", "type": "r3"}]})) == [App("c.srv", "r3", "srv", "")]
    assert parse_apps("INFO chatter\n{}") == []
    assert parse_apps("") == []
    with pytest.raises(ValueError):
        parse_apps("no json at all")


def test_abra_wrapper(fakes):
    fakes.app("a.lab.local", "custom-html-tiny")
    fakes.app("b.other", "custom-html", server="other")
    abra = fakes.abra()
    assert abra.version() == "abra version 0.9.9-fake"
    assert abra.remove_flags() == ["-f", "-n"]
    assert [a.domain for a in abra.apps()] == ["a.lab.local", "b.other"]
    assert [a.domain for a in abra.apps("other")] == ["b.other"]
    assert [a.domain for a in fakes.abra(FAKE_LS_LIST="1").apps()] == ["a.lab.local", "b.other"]
    with pytest.raises(CliError, match=r"^abra app undeploy nope.x -n failed \(rc 1\): FATA unable to find app nope.x$"):
        abra.undeploy("nope.x")


def test_remove_flag_probe_fails_clearly(fakes):
    with pytest.raises(CliError, match=r"abra app remove does not support --force \(-f\)"):
        fakes.abra(FAKE_NO_FORCE="1").remove_flags()


def test_missing_binaries(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CliNotFound, match="^abra not found on PATH: set abra_path$"):
        Abra()
    with pytest.raises(CliNotFound, match="^docker not found on PATH: set docker_path$"):
        Docker()


def test_docker_leftovers(fakes):
    fakes.app("a.lab.local", "r")
    fakes.app("ab.lab.local", "r", deployed=False)
    docker = fakes.docker()
    assert docker.stacks() == ["a_lab_local"]
    left = docker.leftovers("a.lab.local")
    assert left.stack and left.volumes == ["a_lab_local_content"] and left.secrets == ["a_lab_local_admin_password_v1"]
    assert left.items("a.lab.local")[1] == "volume a_lab_local_content of a.lab.local"
    assert not docker.leftovers("ab.lab.local").stack


def test_teardown_by_recipe_verified(fakes):
    fakes.app("custom-html-tiny-3.lab.local", "custom-html-tiny")
    fakes.app("custom-html-tiny-4.lab.local", "custom-html-tiny", deployed=False)
    fakes.app("custom-html-1.lab.local", "custom-html")
    found = teardown(fakes.abra(), fakes.docker(), recipe="custom-html-tiny", interval=0.05)
    assert [(i.domain, i.actions, i.left.empty) for i in found] == [
        ("custom-html-tiny-3.lab.local", ["undeploy", "remove"], True),
        ("custom-html-tiny-4.lab.local", ["remove"], True),
    ]
    calls = fakes.calls()
    assert "abra app undeploy custom-html-tiny-3.lab.local -n" in calls
    assert "abra app remove custom-html-tiny-3.lab.local -f -n" in calls
    assert "abra app undeploy custom-html-tiny-4.lab.local -n" not in calls
    # the other recipe is untouched, and a second run changes nothing
    assert fakes.docker().stacks() == ["custom-html-1_lab_local"]
    again = teardown(fakes.abra(), fakes.docker(), recipe="custom-html-tiny")
    assert again == []


def test_teardown_reports_what_is_left(fakes):
    fakes.app("custom-html-tiny-3.lab.local", "custom-html-tiny")
    found = teardown(fakes.abra(FAKE_LEAVE_VOLUME="1"), fakes.docker(), domains=["custom-html-tiny-3.lab.local"],
                     verify_timeout=0.2, interval=0.05)
    assert found[0].problems == [
        "teardown left volume custom-html-tiny-3_lab_local_content of custom-html-tiny-3.lab.local"
    ]


def test_teardown_check_mode_and_unknown_app(fakes):
    fakes.app("a.lab.local", "r")
    fakes.app("gone.lab.local", "r", deployed=False, secrets=(), env_file=False)
    found = teardown(fakes.abra(), fakes.docker(), domains=["a.lab.local", "gone.lab.local", "never.lab.local"],
                     check_mode=True)
    assert [(i.domain, i.actions, i.changed) for i in found] == [
        ("a.lab.local", ["undeploy", "remove"], True),
        ("gone.lab.local", [], False),
        ("never.lab.local", [], False),
    ]
    assert not any(c.startswith("abra app undeploy") or c.startswith("abra app remove a") for c in fakes.calls())
    assert found[1].problems[0].startswith("abra does not know gone.lab.local")
    assert found[1].problems[1] == "teardown left volume gone_lab_local_content of gone.lab.local"
    assert found[2].problems == []


def test_query(fakes):
    fakes.app("a.lab.local", "r")
    found, stacks = query(fakes.abra(), fakes.docker(), recipe="r")
    assert stacks == ["a_lab_local"]
    assert found[0].as_dict()["deployed"] is True and found[0].known


LAB_BIN = Path(__file__).resolve().parents[4] / "lab" / "bin"


@pytest.mark.skipif(not (LAB_BIN / "abra").exists() or not (LAB_BIN / "docker").exists(),
                    reason="lab stand-ins lab/bin/abra and lab/bin/docker not there yet")
def test_lab_standins_agree(tmp_path):
    """The wrappers read the lab's own abra/docker stand-ins (no deploy: only ls/help/version)."""
    env = {"ABRA_DIR": str(tmp_path / "abra")}
    abra = Abra(path=str(LAB_BIN / "abra"), abra_dir=str(tmp_path / "abra"))
    assert abra.remove_flags() == ["-f", "-n"]
    assert abra.apps() == []
    assert Docker(path=str(LAB_BIN / "docker"), env=env).stacks() == []
