# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cc-ci harness as one Drone build: clone, deploy, install, upgrade, backup-restore, tests, teardown.

The verdict comes from the recipe content at REF (its compose file, through the abra stand-in and
the registry) and from the cc-ci tests at TESTS_REF, so seeding a bad tag or a stale test changes
the result exactly as on the box. Steps after a failure are skipped; teardown always runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lab import faults as lab_faults
from lab.config import BIN_DIR, LabConfig
from lab.drone.gitea import GiteaError, GiteaReader
from lab.drone.store import BuildStore
from lab.engine import Engine, Image, stack_name

STAGE = 1
MISSING = object()


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Run:
    """One build's working state, passed from step to step."""

    repo: str
    number: int
    params: dict[str, str]
    cancel: threading.Event
    recipe: str = ""
    source: str = ""
    ref: str | None = None
    tests_ref: str = "main"
    quick: bool = False
    tests: list[str] | None = None
    tests_error: str = ""
    server: str = "lab.local"
    files: dict[str, bytes] = field(default_factory=dict)
    behaviour: dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return f"{self.recipe}-{self.number}.{self.server}"


class Harness:
    # one recipe checkout per recipe name under ABRA_DIR: hold it from clone to deploy
    _recipe_locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, cfg: LabConfig, store: BuildStore) -> None:
        self.cfg = cfg
        self.store = store
        self.engine = Engine(Path(cfg.abra_dir))
        self._reader: GiteaReader | None = None

    def gitea(self) -> GiteaReader:
        # made on first use: cfg.gitea_url is set by the daemon before Drone starts
        if self._reader is None:
            self._reader = GiteaReader(self.cfg.gitea_url, self.cfg.tokens.get("drone", ""))
        return self._reader

    def _recipe_lock(self, recipe: str) -> threading.Lock:
        with self._locks_guard:
            return self._recipe_locks.setdefault(recipe, threading.Lock())

    # -- the build -------------------------------------------------------------------------------

    def run(self, repo: str, number: int, cancel: threading.Event) -> None:
        build = self.store.get(repo, number)
        if build is None or build["status"] != "pending":
            return
        params = {k: str(v) for k, v in (build.get("params") or {}).items()}
        run = Run(repo, number, params, cancel, server=self.cfg.abra_server)
        run.recipe = params.get("RECIPE", "").strip()
        run.source = params.get("REPO") or f"{self.cfg.mirror_org}/{run.recipe}"
        # mutant harness-ignores-ref: the harness checks out the default branch whatever REF says
        run.ref = None if self.cfg.has("harness-ignores-ref") else (params.get("REF") or None)
        run.tests_ref = params.get("TESTS_REF") or "main"
        run.quick = _truthy(params.get("QUICK"))
        if run.recipe:
            try:
                run.tests = self._list_tests(run.recipe, run.tests_ref)
            except (GiteaError, httpx.HTTPError) as exc:
                run.tests_error = str(exc)

        steps: list[tuple[str, Callable[[Run, Callable[[str], None]], bool]]] = [
            ("clone", self.clone), ("deploy", self.deploy), ("install", self.install),
            ("upgrade", self.upgrade), ("backup-restore", self.backup_restore),
            *[(f"test:{name}", self._test_step(name)) for name in run.tests or []],
            ("teardown", self.teardown),
        ]
        now = int(time.time())
        began: list[bool] = []

        def start(b: dict) -> None:
            if b["status"] != "pending":  # cancelled while queued or while its tests were listed: stays so
                return
            began.append(True)
            b.update(status="running", started=now)
            # the runner takes the stage: it starts and its steps appear (Drone creates none before)
            b["stages"][0].update(status="running", machine="lab-runner", started=now, updated=now, steps=[
                {"id": i, "step_id": b["stages"][0]["id"], "number": i, "name": name, "status": "pending",
                 "exit_code": 0, "started": 0, "stopped": 0, "version": 1, "image": "cc-ci/harness"}
                for i, (name, _) in enumerate(steps, start=1)])

        self.store.update(repo, number, start)
        if not began:
            return
        t0, total = time.time(), max(self.cfg.build_seconds, 0.0)
        failed = killed = False
        for index, (name, fn) in enumerate(steps, start=1):
            is_teardown = name == "teardown"
            killed = killed or cancel.is_set()
            if (failed or killed) and not is_teardown:
                self._set_step(repo, number, index, status="skipped")
                continue
            if run.quick and name in ("upgrade", "backup-restore"):
                self._step(repo, number, index, t0 + total * index / len(steps), self.quick_skip, run,
                           status_ok="skipped")
                continue
            # each step ends on its share of the build time, so slow steps eat into later sleeps
            ok = self._step(repo, number, index, t0 + total * index / len(steps), fn, run,
                            interruptible=not is_teardown)
            if not ok:
                if cancel.is_set() and not is_teardown:
                    killed = True
                else:
                    failed = True
        final = "killed" if killed else ("failure" if failed else "success")
        if failed and self.cfg.has("drone-success-despite-failed-step"):
            final = "success"  # the lie: the build says success, its failed step stays failed

        def finish(b: dict) -> None:
            end = int(time.time())
            if self.cfg.has("drone-finished-before-started"):
                end = b["started"] - 7  # the lie: a clock that stamps the end before the start
            b.update(status=final, finished=end)
            for stage in b["stages"]:
                stage.update(status=final, stopped=end, exit_code=0 if final == "success" else 1)

        self.store.update(repo, number, finish)

    def _set_step(self, repo: str, number: int, index: int, **fields: Any) -> None:
        def change(b: dict) -> None:
            b["stages"][0]["steps"][index - 1].update(fields)
        self.store.update(repo, number, change)

    def _step(self, repo: str, number: int, index: int, until: float, fn: Callable[[Run, Callable[[str], None]], bool],
              run: Run, interruptible: bool = True, status_ok: str = "success") -> bool:
        began = time.time()
        self._set_step(repo, number, index, status="running", started=int(began))

        def log(line: str) -> None:
            self.store.log(repo, number, STAGE, index, line, began)

        try:
            ok = bool(fn(run, log))
        except Exception as exc:  # a harness bug or an unreachable service is a failed step, not a dead worker
            log(f"error: {type(exc).__name__}: {exc}")
            ok = False
        remaining = until - time.time()
        if remaining > 0:
            if interruptible:
                run.cancel.wait(remaining)
            else:
                time.sleep(remaining)
        if interruptible and run.cancel.is_set():
            log("cancelled")
            status, ok = "killed", False
        else:
            status = status_ok if ok else "failure"
        self._set_step(repo, number, index, status=status, stopped=int(time.time()), exit_code=0 if ok else 1)
        return ok

    # -- helpers ---------------------------------------------------------------------------------

    def _list_tests(self, recipe: str, ref: str) -> list[str] | None:
        entries = self.gitea().listdir(self.cfg.ci_repo, f"tests/{recipe}", ref)
        if entries is None:
            return None
        names = [e["name"] for e in entries if e.get("type") == "file"]
        return sorted(n.removeprefix("test_").removesuffix(".json") for n in names
                      if n.startswith("test_") and n.endswith(".json"))

    def _abra(self, log: Callable[[str], None], *args: str) -> bool:
        bin_dir = Path(self.cfg.bin_dir) if (Path(self.cfg.bin_dir) / "abra").exists() else BIN_DIR
        env = {**os.environ, "ABRA_DIR": self.cfg.abra_dir, "LAB_REGISTRY_URL": self.cfg.registry_url,
               "CCCI_LAB_STATE": self.cfg.state_dir, lab_faults.ENV: ",".join(sorted(lab_faults.active(configured=self.cfg.faults)))}
        log("+ abra " + " ".join(args))
        proc = subprocess.run([sys.executable, str(bin_dir / "abra"), *args], env=env, text=True,
                              capture_output=True, timeout=120)
        for line in (proc.stdout + proc.stderr).splitlines():
            if line.strip():
                log(line)
        return proc.returncode == 0

    # -- steps -----------------------------------------------------------------------------------

    @staticmethod
    def quick_skip(run: Run, log: Callable[[str], None]) -> bool:
        log("QUICK: skipped (!testme --quick)")
        return True

    def clone(self, run: Run, log: Callable[[str], None]) -> bool:
        if not run.recipe:
            log("RECIPE is not set: nothing to test")
            return False
        log(f"cloning {run.source} at {run.ref or 'its default branch'}")
        head = run.ref or (self.gitea().branch_head(run.source, "main") or {}).get("id", "?")
        files = self.gitea().tree(run.source, run.ref)
        log(f"HEAD is now at {head}")
        if "compose.yml" not in files:
            log(f"{run.source} at {run.ref}: no compose.yml, not a recipe")
            return False
        log(f"{len(files)} files: {', '.join(sorted(files))}")
        run.files = files
        if run.tests is None:
            log(run.tests_error or f"no tests for {run.recipe}: tests/{run.recipe}/ does not exist in "
                f"{self.cfg.ci_repo} at {run.tests_ref} (recipe not enrolled)")
            return False
        log(f"tests from {self.cfg.ci_repo}@{run.tests_ref}: {', '.join(run.tests) or '(none)'}")
        return True

    def deploy(self, run: Run, log: Callable[[str], None]) -> bool:
        with self._recipe_lock(run.recipe):
            self.engine.put_recipe(run.recipe, run.files)
            if not self._abra(log, "app", "new", run.recipe, "--server", self.cfg.abra_server,
                              "--domain", run.domain, "-n"):
                return False
            return self._abra(log, "app", "deploy", run.domain, "-n")

    def install(self, run: Run, log: Callable[[str], None]) -> bool:
        stack = self.engine.stack(stack_name(run.domain))
        if not stack:
            log(f"{run.domain} is not deployed")
            return False
        for ref in stack["images"]:
            image = Image.parse(ref)
            resp = httpx.get(f"{self.cfg.registry_url.rstrip('/')}/lab/v1/images/{image.name}/{image.tag}", timeout=10)
            if resp.status_code != 200:
                log(f"{ref}: no behaviour known (HTTP {resp.status_code})")
                return False
            behaviour = resp.json().get("behaviour") or {}
            for key, value in behaviour.items():
                run.behaviour.setdefault(key, value)
            log(f"{ref}: {json.dumps(behaviour, sort_keys=True)}")
        if run.behaviour.get("serves_index") is False:
            log(f"{run.domain}: the app does not serve its index page")
            return False
        log(f"{run.domain} is up (version {stack.get('version') or 'unknown'})")
        return True

    def upgrade(self, run: Run, log: Callable[[str], None]) -> bool:
        stack = self.engine.stack(stack_name(run.domain)) or {}
        log(f"upgrade path checked for {run.recipe} {stack.get('version') or ''}".rstrip())
        return bool(stack)

    def backup_restore(self, run: Run, log: Callable[[str], None]) -> bool:
        volume = f"{stack_name(run.domain)}_content"
        if volume not in {v["name"] for v in self.engine.objects("volumes")}:
            log(f"volume {volume} is missing")
            return False
        log(f"backed up and restored {volume}")
        return True

    def _test_step(self, name: str) -> Callable[[Run, Callable[[str], None]], bool]:
        def step(run: Run, log: Callable[[str], None]) -> bool:
            path = f"tests/{run.recipe}/test_{name}.json"
            raw = self.gitea().read(self.cfg.ci_repo, path, run.tests_ref)
            if raw is None:
                log(f"{path} vanished from {self.cfg.ci_repo}@{run.tests_ref}")
                return False
            test = json.loads(raw)
            if test.get("why"):
                log(f"{test.get('name', name)}: {test['why']}")
            ok = True
            for key, want in (test.get("expect") or {}).items():
                got = run.behaviour.get(key, MISSING)
                shown = "<missing>" if got is MISSING else _show(got)
                if got != want:
                    log(f"expected {key}={_show(want)} got {shown}")
                    ok = False
                else:
                    log(f"ok {key}={shown}")
            return ok
        return step

    def teardown(self, run: Run, log: Callable[[str], None]) -> bool:
        if self.cfg.has("harness-skips-teardown"):
            log(f"removed {run.domain}")  # the lie: nothing was undeployed or removed
            return True
        if not run.recipe or self.engine.env_path(run.domain) is None:
            log("nothing deployed: nothing to tear down")
            return True
        ok = True
        if self.engine.stack(stack_name(run.domain)):
            ok = self._abra(log, "app", "undeploy", run.domain, "-n")
        return self._abra(log, "app", "remove", run.domain, "-f", "-n") and ok
