# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's container registry: a Docker Registry v2 subset over ``lab/data/registry.json``.

Only what an upgrade flow asks a registry: which tags exist (``tags/list``), whether a tag exists
(``manifests``), plus a lab-only endpoint the Drone harness uses to learn what a deployed tag
*does* (``/lab/v1/images/{name}/{tag}``). A tag the registry lacks (``2.39.0-bad``) cannot be
pulled: that is how the lab makes a regression. ``<state>/registry.json``, when present, is merged
over the packaged data (a test can add tags without touching the repo).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lab.config import DATA_DIR, LabConfig

log = logging.getLogger("lab.registry")

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
TAGS = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
LAB_IMAGE = re.compile(r"^/lab/v1/images/(?P<name>.+)/(?P<tag>[^/]+)$")
LAB_TAGS = re.compile(r"^/lab/v1/images/(?P<name>.+)$")


def load_images(state_dir: str | None = None) -> dict[str, dict[str, Any]]:
    images: dict[str, dict[str, Any]] = json.loads((DATA_DIR / "registry.json").read_text())["images"]
    overlay = Path(state_dir) / "registry.json" if state_dir else None
    if overlay and overlay.is_file():
        for name, img in json.loads(overlay.read_text()).get("images", {}).items():
            images.setdefault(name, {"tags": {}})["tags"].update(img.get("tags", {}))
    return images


def canonical(name: str) -> str:
    """``docker.io/library/nginx`` and ``library/nginx`` are Docker Hub's ``nginx``."""
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name[len("library/"):] if name.startswith("library/") else name


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(name: str, tag: str) -> bytes:
    """A deterministic v2 manifest: the same name:tag always has the same digest."""
    seed = f"{name}:{tag}".encode()
    body = {
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1472,
                   "digest": digest(b"config:" + seed)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3400000 + i,
                    "digest": digest(f"layer{i}:".encode() + seed)} for i in range(2)],
    }
    return json.dumps(body, indent=3).encode()


def _error(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": detail}]}


class RegistryService:
    def __init__(self, cfg: LabConfig, port: int = 0) -> None:
        self.cfg = cfg
        self.port = port
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    def images(self) -> dict[str, dict[str, Any]]:
        return load_images(self.cfg.state_dir)  # re-read: an overlay written later counts

    def start(self) -> str:
        handler = _make_handler(self)
        server = None
        if self.port:
            try:
                server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
            except OSError:
                server = None
        server = server or ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.cfg.registry_url = self.url
        threading.Thread(target=server.serve_forever, args=(0.1,), name="lab-registry", daemon=True).start()
        log.info("registry on %s", self.url)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        js = {"Content-Type": "application/json; charset=utf-8"}
        api = {"Docker-Distribution-API-Version": "registry/2.0"}
        if path in ("/v2", "/v2/"):
            return 200, b"{}", {**js, **api}
        images = self.images()
        m = TAGS.match(path)
        if m:
            name = canonical(m["name"])
            img = images.get(name)
            if img is None:
                body = _error("NAME_UNKNOWN", "repository name not known to registry", {"name": m["name"]})
                return 404, json.dumps(body).encode(), {**js, **api}
            return 200, json.dumps({"name": m["name"], "tags": sorted(img["tags"], key=_version_key)}).encode(), \
                {**js, **api}
        m = MANIFEST.match(path)
        if m:
            name, ref = canonical(m["name"]), m["ref"]
            tags = images.get(name, {}).get("tags", {})
            tag = ref if ref in tags else next((t for t in tags if digest(manifest(name, t)) == ref), None)
            if tag is None:
                body = _error("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref})
                return 404, json.dumps(body).encode(), {**js, **api}
            data = manifest(name, tag)
            return 200, data, {"Content-Type": MANIFEST_TYPE, "Docker-Content-Digest": digest(data),
                               "Etag": f'"{digest(data)}"', **api}
        m = LAB_IMAGE.match(path)
        if m:
            name, tag = canonical(m["name"]), m["tag"]
            entry = images.get(name, {}).get("tags", {}).get(tag)
            if entry is None:  # maybe "<name>" alone where name has a slash: list its tags
                if canonical(f"{m['name']}/{tag}") in images:
                    return self._lab_tags(images, canonical(f"{m['name']}/{tag}"))
                body = _error("MANIFEST_UNKNOWN", "manifest unknown", {"name": m["name"], "Tag": tag})
                return 404, json.dumps(body).encode(), js
            return 200, json.dumps({"name": name, "tag": tag, "behaviour": entry.get("behaviour", {}),
                                    "changes": entry.get("changes", {})}).encode(), js
        m = LAB_TAGS.match(path)
        if m and canonical(m["name"]) in images:
            return self._lab_tags(images, canonical(m["name"]))
        return 404, json.dumps(_error("NOT_FOUND", f"no route {path}")).encode(), js

    @staticmethod
    def _lab_tags(images: dict[str, Any], name: str) -> tuple[int, bytes, dict[str, str]]:
        tags = images[name]["tags"]
        body = {"name": name, "tags": {t: tags[t] for t in sorted(tags, key=_version_key)}}
        return 200, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"}


def _version_key(tag: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-+]", tag))


def _make_handler(svc: RegistryService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "lab-registry"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug(fmt, *args)

        def _serve(self) -> None:
            if self.command not in ("GET", "HEAD"):
                status, body, headers = 405, json.dumps(_error("UNSUPPORTED", "read-only lab registry")).encode(), \
                    {"Content-Type": "application/json"}
            else:
                status, body, headers = svc.answer(self.command, unquote(urlsplit(self.path).path))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler
