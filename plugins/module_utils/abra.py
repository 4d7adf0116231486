# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""abra and docker wrappers, and a verified teardown of abra apps.

abra is trusted to act (undeploy, remove) but not to report: what is left after a teardown is read
from the engine with docker (stacks, and volumes and secrets labelled with the stack namespace).
Stack name = app domain with ``.`` → ``_`` (FACTS.md §4).
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import CliError, CliRunner, last_line

__all__ = [
    "Abra",
    "App",
    "AppTeardown",
    "Docker",
    "Leftovers",
    "STACK_LABEL",
    "parse_apps",
    "stack_name",
    "teardown",
    "query",
]

STACK_LABEL = "com.docker.stack.namespace"


def stack_name(domain: str) -> str:
    """The Swarm stack name abra gives an app: its domain with dots turned into underscores."""
    return domain.replace(".", "_")


@dataclass(frozen=True)
class App:
    domain: str
    recipe: str = ""
    server: str = ""
    status: str = ""

    @property
    def stack(self) -> str:
        return stack_name(self.domain)


def _get(data: Mapping[str, Any], *keys: str) -> str:
    lowered = {str(k).lower(): v for k, v in data.items()}
    for key in keys:
        value = lowered.get(key.lower())
        if value not in (None, ""):
            return str(value)
    return ""


def _app(data: Any, server: str = "") -> App | None:
    if not isinstance(data, Mapping):
        return None
    domain = _get(data, "domain", "appName", "name")
    if not domain:
        return None
    return App(
        domain=domain,
        recipe=_get(data, "recipe", "type"),
        server=_get(data, "server") or server,
        status=_get(data, "status"),
    )


def parse_apps(text: str) -> list[App]:
    """Apps from ``abra app ls -m``: ``{server: {"apps": [...]}}``, ``{server: [...]}`` or a list.

    Text before the JSON (a warning line) is skipped; empty output means no apps.
    """
    text = (text or "").strip()
    if not text:
        return []
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise ValueError(f"no JSON in output: {last_line(text)[:120]}")
    data = json.loads(text[min(starts):])
    apps: list[App] = []
    if isinstance(data, list):
        apps = [a for a in (_app(d) for d in data) if a]
    elif isinstance(data, Mapping):
        if isinstance(data.get("apps"), list):  # a single server's block
            return [a for a in (_app(d) for d in data["apps"]) if a]
        for server, block in data.items():
            items = block.get("apps") if isinstance(block, Mapping) else block
            if isinstance(items, list):
                apps.extend(a for a in (_app(d, str(server)) for d in items) if a)
    else:
        raise ValueError("JSON is neither an object nor a list")
    return apps


class Abra(CliRunner):
    """The abra CLI (``ABRA_DIR`` from *abra_dir* when given)."""

    binary_name = "abra"
    path_option = "abra_path"

    def __init__(self, path: str | None = None, abra_dir: str | None = None, timeout: float | None = 600, **kw) -> None:
        env = dict(kw.pop("env", None) or {})
        if abra_dir:
            env["ABRA_DIR"] = abra_dir
        super().__init__(path=path, env=env, timeout=timeout, **kw)
        self._remove_flags: list[str] | None = None

    def version(self) -> str:
        return last_line(self.run_checked(["--version"]))

    def remove_flags(self) -> list[str]:
        """The force and no-input flags of ``abra app remove``, probed from its ``--help``."""
        if self._remove_flags is None:
            rc, out, err = self.run(["app", "remove", "--help"], timeout=60)
            text = out + "\n" + err
            flags: list[str] = []
            for short, long in (("-f", "--force"), ("-n", "--no-input")):
                if re.search(rf"(?<![\w-]){short}[,\s]", text):
                    flags.append(short)
                elif re.search(rf"(?<![\w-]){long}\b", text):
                    flags.append(long)
                else:
                    raise CliError(
                        f"abra app remove does not support {long} ({short}) according to `abra app remove --help`"
                        f" (rc {rc}): use an abra that has it or set abra_path"
                    )
            self._remove_flags = flags
        return self._remove_flags

    def no_input_flag(self) -> str:
        return self.remove_flags()[-1]

    def apps(self, server: str | None = None) -> list[App]:
        out = self.run_checked(["app", "ls", "-m"])
        try:
            apps = parse_apps(out)
        except ValueError as exc:
            raise CliError(f"abra app ls -m printed no usable JSON: {exc}") from exc
        return [a for a in apps if not server or a.server == server]

    def undeploy(self, domain: str) -> None:
        self.run_checked(["app", "undeploy", domain, self.no_input_flag()])

    def remove(self, domain: str) -> None:
        self.run_checked(["app", "remove", domain, *self.remove_flags()])


@dataclass
class Leftovers:
    stack: bool = False
    volumes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    env_file: bool = False

    @property
    def empty(self) -> bool:
        return not (self.stack or self.volumes or self.secrets or self.env_file)

    def items(self, domain: str) -> list[str]:
        """What is left, one phrase each: ``volume X of D``."""
        out = [f"stack {stack_name(domain)} of {domain}"] if self.stack else []
        out += [f"volume {v} of {domain}" for v in self.volumes]
        out += [f"secret {s} of {domain}" for s in self.secrets]
        if self.env_file:
            out.append(f"app {domain} (abra app ls still lists it)")
        return out


class Docker(CliRunner):
    """The docker CLI, read-only: what the engine holds for a stack."""

    binary_name = "docker"
    path_option = "docker_path"

    def stacks(self) -> list[str]:
        return _lines(self.run_checked(["stack", "ls", "--format", "{{.Name}}"]))

    def volumes(self, stack: str) -> list[str]:
        return _lines(self.run_checked(["volume", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"]))

    def secrets(self, stack: str) -> list[str]:
        return _lines(self.run_checked(["secret", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"]))

    def leftovers(self, domain: str, stacks: Iterable[str] | None = None) -> Leftovers:
        stack = stack_name(domain)
        names = self.stacks() if stacks is None else stacks
        return Leftovers(stack=stack in names, volumes=self.volumes(stack), secrets=self.secrets(stack))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class AppTeardown:
    """What happened to one app."""

    domain: str
    stack: str
    recipe: str = ""
    server: str = ""
    known: bool = False
    before: Leftovers = field(default_factory=Leftovers)
    actions: list[str] = field(default_factory=list)
    left: Leftovers = field(default_factory=Leftovers)
    error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    @property
    def problems(self) -> list[str]:
        found = [f"teardown left {item}" for item in self.left.items(self.domain)]
        if self.error:
            found.insert(0, self.error)
        return found

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed"] = self.changed
        data["deployed"] = self.before.stack
        return data


def _targets(apps: list[App], domains: Iterable[str] | None, recipe: str | None) -> list[tuple[str, App | None]]:
    by_domain = {a.domain: a for a in apps}
    if domains:
        return [(d, by_domain.get(d)) for d in dict.fromkeys(domains)]
    return [(a.domain, a) for a in apps if recipe is None or a.recipe == recipe]


def query(
    abra: Abra, docker: Docker, domains: Iterable[str] | None = None, recipe: str | None = None, server: str | None = None
) -> tuple[list[AppTeardown], list[str]]:
    """The apps (by domain or recipe, or all) with what the engine holds for each, and all stacks."""
    apps = abra.apps(server)
    stacks = docker.stacks()
    found = []
    for domain, app in _targets(apps, domains, recipe):
        item = AppTeardown(domain=domain, stack=stack_name(domain), known=app is not None,
                           recipe=app.recipe if app else "", server=app.server if app else "")
        item.before = docker.leftovers(domain, stacks)
        item.before.env_file = app is not None
        item.left = item.before
        found.append(item)
    return found, stacks


def _wait(probe: Callable[[], bool], timeout: float, interval: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def teardown(
    abra: Abra,
    docker: Docker,
    domains: Iterable[str] | None = None,
    recipe: str | None = None,
    server: str | None = None,
    check_mode: bool = False,
    verify_timeout: float = 60.0,
    interval: float = 1.0,
) -> list[AppTeardown]:
    """Undeploy (when deployed) and ``remove -f -n`` each app, then verify against the engine that
    no stack, volume or secret of its stack and no env file is left. Apps with nothing left are not
    touched. Errors are kept per app (``error``/``left``); the caller decides how to fail."""
    found = query(abra, docker, domains, recipe, server)[0]
    todo = [t for t in found if not t.before.empty]
    if todo and not check_mode:
        abra.remove_flags()  # probe once, before touching anything
    for item in todo:
        if item.known:
            if item.before.stack:
                item.actions.append("undeploy")
            item.actions.append("remove")
        else:
            item.error = f"abra does not know {item.domain} any more (no env file), so it cannot remove what is left"
        if check_mode:
            item.left = item.before
            continue
        try:
            if "undeploy" in item.actions:
                abra.undeploy(item.domain)
                _wait(lambda: item.stack not in docker.stacks(), verify_timeout, interval)
            if "remove" in item.actions:
                abra.remove(item.domain)
        except CliError as exc:
            item.error = str(exc)

    if not check_mode and todo:
        def clean() -> bool:
            known = {a.domain for a in abra.apps(server)}
            stacks = docker.stacks()
            for item in todo:
                item.left = docker.leftovers(item.domain, stacks)
                item.left.env_file = item.domain in known
            return all(i.left.empty for i in todo)

        _wait(clean, verify_timeout, interval)
    return found
