# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab registry (Docker Registry v2 subset) on loopback, over lab/data/registry.json."""
from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from lab.config import LabConfig
from lab.registry import RegistryService


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, LabConfig]]:
    cfg = LabConfig.new(tmp_path_factory.mktemp("registry"))
    svc = RegistryService(cfg)
    url = svc.start()
    assert cfg.registry_url == url
    with httpx.Client(base_url=url, timeout=5) as c:
        yield c, cfg
    svc.stop()


def test_base_and_tags(reg: tuple[httpx.Client, LabConfig]) -> None:
    c, _unused = reg
    assert c.get("/v2/").status_code == 200
    tags = c.get("/v2/joseluisq/static-web-server/tags/list").json()
    assert tags == {"name": "joseluisq/static-web-server", "tags": ["2.36.0", "2.37.0", "2.38.0", "2.39.0"]}
    assert c.get("/v2/nginx/tags/list").json()["tags"] == ["1.25.5", "1.26.2", "1.27.3"]
    assert c.get("/v2/library/nginx/tags/list").json()["tags"][-1] == "1.27.3"
    r = c.get("/v2/nope/tags/list")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_manifests(reg: tuple[httpx.Client, LabConfig]) -> None:
    c, _unused = reg
    r = c.get("/v2/joseluisq/static-web-server/manifests/2.38.0")
    assert r.status_code == 200 and r.json()["schemaVersion"] == 2
    digest = r.headers["Docker-Content-Digest"]
    assert c.head("/v2/joseluisq/static-web-server/manifests/2.38.0").headers["Docker-Content-Digest"] == digest
    assert c.get(f"/v2/joseluisq/static-web-server/manifests/{digest}").status_code == 200
    missing = c.get("/v2/joseluisq/static-web-server/manifests/2.39.0-bad")  # the lab's regression
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert c.head("/v2/nginx/manifests/9.9.9").status_code == 404


def test_behaviour_and_changes(reg: tuple[httpx.Client, LabConfig]) -> None:
    c, _unused = reg
    sws = c.get("/lab/v1/images/joseluisq/static-web-server/2.39.0").json()
    assert sws["behaviour"] == {"health_path": "/health", "serves_index": True} and sws["changes"] == {}
    old = c.get("/lab/v1/images/nginx/1.26.2").json()
    assert old["behaviour"]["server_header"] == "nginx/1.26.2"
    new = c.get("/lab/v1/images/nginx/1.27.3").json()
    assert new["behaviour"]["server_header"] == "nginx/1.27.3"
    assert new["changes"] == {"server_header": "1.27 reports its new version"}
    assert c.get("/lab/v1/images/nginx/1.28.0").status_code == 404
    assert set(c.get("/lab/v1/images/joseluisq/static-web-server").json()["tags"]) >= {"2.38.0"}


def test_state_overlay_adds_tags(reg: tuple[httpx.Client, LabConfig]) -> None:
    c, cfg = reg
    overlay = {"images": {"nginx": {"tags": {"1.28.0": {"behaviour": {"server_header": "nginx/1.28.0"}}}}}}
    (cfg.path.parent / "registry.json").write_text(json.dumps(overlay))
    try:
        assert "1.28.0" in c.get("/v2/nginx/tags/list").json()["tags"]
        assert c.get("/lab/v1/images/nginx/1.28.0").json()["changes"] == {}
    finally:
        (cfg.path.parent / "registry.json").unlink()
    assert "1.28.0" not in c.get("/v2/nginx/tags/list").json()["tags"]


def test_read_only(reg: tuple[httpx.Client, LabConfig]) -> None:
    c, _unused = reg
    assert c.put("/v2/nginx/manifests/1.0", content=b"{}").status_code == 405
