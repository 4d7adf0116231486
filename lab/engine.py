# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Swarm engine and abra app state behind the ``abra`` and ``docker`` stand-ins.

Stdlib only: ``lab/bin/abra`` and ``lab/bin/docker`` may run under a system python3 without the
venv. State lives under ABRA_DIR exactly where abra keeps it (``servers/<server>/<domain>.env``,
``recipes/<recipe>``) plus the engine's own ``.lab-engine/{stacks,volumes,secrets}/`` (one JSON
file per object). Every mutation happens under one file lock and writes through temp + rename, so
a concurrent reader (``docker volume ls``, a check) never sees half a deploy.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.config import described

STACK_LABEL = "com.docker.stack.namespace"
KINDS = ("stacks", "volumes", "secrets")


class EngineError(Exception):
    """A failure abra would report with ``FATA``; the message is what the user sees."""


def abra_dir() -> Path:
    if os.environ.get("ABRA_DIR"):
        return Path(os.environ["ABRA_DIR"])
    return Path(described().get("abra_dir") or Path.home() / ".abra")


def registry_url() -> str:
    return (os.environ.get("LAB_REGISTRY_URL") or described().get("registry_url") or "").rstrip("/")


def stack_name(domain: str) -> str:
    return domain.replace(".", "_")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


@dataclass(frozen=True)
class Image:
    name: str
    tag: str

    @classmethod
    def parse(cls, ref: str) -> "Image":
        if "@" in ref:
            # abra refuses references carrying both a tag and a digest (FACTS §4)
            raise EngineError(f"unable to parse image {ref}: image references with a digest are not supported")
        name, tag = ref, "latest"
        last = ref.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = ref.rsplit(":", 1)
        for prefix in ("docker.io/", "library/"):
            name = name.removeprefix(prefix)
        return cls(name, tag)

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}"


@dataclass
class Compose:
    """What deploy needs from a recipe's compose files (a tolerant line parser, no YAML dependency)."""

    images: list[Image]
    volumes: list[str]
    secrets: list[str]
    version: str

    @classmethod
    def load(cls, recipe_dir: Path) -> "Compose":
        files = sorted(recipe_dir.glob("compose*.yml"))
        if not (recipe_dir / "compose.yml").exists():
            raise EngineError(f"unable to read compose.yml of recipe in {recipe_dir}: file does not exist")
        images: list[Image] = []
        volumes: list[str] = []
        secrets: list[str] = []
        version = ""
        for path in files:
            text = path.read_text()
            for m in re.finditer(r"^\s*image:\s*['\"]?([^'\"\s#]+)", text, re.M):
                img = Image.parse(m.group(1))
                if img not in images:
                    images.append(img)
            m = re.search(r"coop-cloud\.\$\{STACK_NAME\}\.version=([^'\"\s]+)", text)
            if m and path.name == "compose.yml":
                version = m.group(1)
            for key, into in (("volumes", volumes), ("secrets", secrets)):
                for name in _top_level_keys(text, key):
                    if name not in into:
                        into.append(name)
        if "content" not in volumes:
            volumes.insert(0, "content")
        return cls(images, volumes, secrets, version)


def _top_level_keys(text: str, section: str) -> list[str]:
    """Keys one level under a top-level ``section:`` block."""
    keys: list[str] = []
    inside, indent = False, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lead = len(line) - len(line.lstrip())
        if lead == 0:
            inside, indent = line.rstrip() == f"{section}:", None
            continue
        if inside:
            indent = lead if indent is None else indent
            m = re.match(r"\s*([A-Za-z0-9_.-]+):", line)
            if lead == indent and m:
                keys.append(m.group(1))
    return keys


class Engine:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else abra_dir()
        self.state = self.root / ".lab-engine"

    # -- locking and objects -------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _obj(self, kind: str, name: str) -> Path:
        return self.state / kind / f"{name}.json"

    def objects(self, kind: str) -> list[dict]:
        out = []
        for path in sorted((self.state / kind).glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # removed between glob and read
        return out

    def stack(self, name: str) -> dict | None:
        path = self._obj("stacks", name)
        return json.loads(path.read_text()) if path.exists() else None

    def _put(self, kind: str, name: str, data: dict) -> None:
        _write_atomic(self._obj(kind, name), json.dumps(data, indent=1, sort_keys=True))

    def rm(self, kind: str, name: str) -> bool:
        try:
            self._obj(kind, name).unlink()
            return True
        except FileNotFoundError:
            return False

    # -- apps ------------------------------------------------------------------------------------

    def env_path(self, domain: str) -> Path | None:
        for path in (self.root / "servers").glob(f"*/{domain}.env"):
            return path
        return None

    def app_env(self, domain: str) -> dict[str, str]:
        path = self.env_path(domain)
        if path is None:
            raise EngineError(f"cannot find app with name {domain}")
        env = {}
        for line in path.read_text().splitlines():
            m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
            if m:
                env[m.group(1)] = m.group(2).strip().strip("'\"")
        env.setdefault("SERVER", path.parent.name)
        return env

    def app_new(self, recipe: str, server: str, domain: str) -> Path:
        recipe_dir = self.root / "recipes" / recipe
        if not recipe_dir.is_dir():
            raise EngineError(f"unable to find recipe {recipe} in {recipe_dir}")
        with self.locked():
            if self.env_path(domain):
                raise EngineError(f"{domain} already exists")
            sample = recipe_dir / ".env.sample"
            lines = [f"TYPE={recipe}", f"DOMAIN={domain}"]
            if sample.exists():
                lines += [ln for ln in sample.read_text().splitlines()
                          if not re.match(r"\s*#?\s*(TYPE|DOMAIN)=", ln)]
            path = self.root / "servers" / server / f"{domain}.env"
            _write_atomic(path, "\n".join(lines) + "\n")
            return path

    def deploy(self, domain: str, force: bool = False) -> dict:
        env = self.app_env(domain)
        recipe = env.get("TYPE") or env.get("RECIPE", "")
        compose = Compose.load(self.root / "recipes" / recipe)
        name = stack_name(domain)
        if self.stack(name) and not force:
            raise EngineError(f"{domain} is already deployed")
        for image in compose.images:
            pull(image)
        with self.locked():
            now = time.time()
            labels = {STACK_LABEL: name}
            for vol in compose.volumes:
                if not self._obj("volumes", f"{name}_{vol}").exists():
                    self._put("volumes", f"{name}_{vol}", {"name": f"{name}_{vol}", "labels": labels, "created": now})
            for sec in compose.secrets:
                sname = f"{name}_{sec}_v1"
                self._put("secrets", sname, {"name": sname, "labels": labels, "created": now})
            # the stack file last: once it exists the deploy is complete
            stack = {"name": name, "domain": domain, "recipe": recipe, "server": env["SERVER"],
                     "images": [str(i) for i in compose.images], "version": compose.version,
                     "volumes": [f"{name}_{v}" for v in compose.volumes],
                     "secrets": [f"{name}_{s}_v1" for s in compose.secrets], "deployed": now}
            self._put("stacks", name, stack)
            return stack

    def undeploy(self, domain: str) -> None:
        self.app_env(domain)
        with self.locked():
            if not self.rm("stacks", stack_name(domain)):
                raise EngineError(f"{domain} is not deployed")

    def remove(self, domain: str, leave_volume: bool = False, keep_env: bool = False) -> list[str]:
        """Volumes, secrets and the env file; abra refuses while the app is still deployed.
        ``keep_env``: the mutant abra-remove-keeps-listing (`abra app ls` still lists the app)."""
        path = self.env_path(domain)
        if path is None:
            raise EngineError(f"cannot find app with name {domain}")
        name = stack_name(domain)
        with self.locked():
            if self.stack(name):
                raise EngineError(f'{domain} is still deployed. Run "abra app undeploy {domain}"')
            removed = []
            for kind in ("secrets", "volumes"):
                for obj in self.objects(kind):
                    if obj.get("labels", {}).get(STACK_LABEL) != name:
                        continue
                    if kind == "volumes" and leave_volume and obj["name"].endswith("_content"):
                        continue  # fault teardown-leaves-volume
                    self.rm(kind, obj["name"])
                    removed.append(obj["name"])
            if not keep_env:  # mutant abra-remove-keeps-listing keeps it: `abra app ls` still lists the app
                path.unlink()
            return removed

    def apps(self) -> dict[str, dict[str, list[dict]]]:
        out: dict[str, dict[str, list[dict]]] = {}
        for path in sorted((self.root / "servers").glob("*/*.env")):
            domain, server = path.name.removesuffix(".env"), path.parent.name
            env = self.app_env(domain)
            stack = self.stack(stack_name(domain))
            out.setdefault(server, {"apps": []})["apps"].append({
                "appName": domain, "domain": domain, "recipe": env.get("TYPE", ""), "server": server,
                "status": "deployed" if stack else "undeployed",
                "version": (stack or {}).get("version") or "unknown", "chaos": "false",
            })
        return out

    def put_recipe(self, recipe: str, files: dict[str, bytes]) -> Path:
        """Replace ``recipes/<recipe>`` with ``files`` in one rename (what a clone at a ref gives)."""
        target = self.root / "recipes" / recipe
        tmp = target.with_name(f".{recipe}.tmp{os.getpid()}.{time.monotonic_ns()}")
        for rel, data in files.items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        tmp.mkdir(parents=True, exist_ok=True)
        old = target.with_name(f".{recipe}.old{time.monotonic_ns()}")
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target


def pull(image: Image) -> None:
    """The pull check against the lab registry; without a configured registry every image pulls."""
    base = registry_url()
    if not base:
        return
    import urllib.error  # late: most abra/docker calls never pull, and this import is the slow part
    import urllib.request
    req = urllib.request.Request(f"{base}/v2/{image.name}/manifests/{image.tag}", method="HEAD")
    try:
        urllib.request.urlopen(req, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise EngineError(f"unable to pull {image}: manifest for {image} not found: manifest unknown: "
                              f"manifest unknown") from None
        raise EngineError(f"unable to pull {image}: registry answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise EngineError(f"unable to pull {image}: {exc}") from None
