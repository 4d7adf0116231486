# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compose parsing and the same-major upgrade rule."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import recipe

COMPOSE = """---
version: "3.8"
services:
  app:
    image: joseluisq/static-web-server:2.38.0
    deploy:
      labels:
        - "coop-cloud.${STACK_NAME}.version=1.0.2+2.38.0"
  sidecar:
    image: nginx:1.26.2
  pinned:
    image: nginx:1.26.2@sha256:abc
"""


def test_images_and_version_label() -> None:
    found = recipe.images(COMPOSE)
    assert [(i.service, i.name, i.tag) for i in found] == [
        ("app", "joseluisq/static-web-server", "2.38.0"), ("sidecar", "nginx", "1.26.2")]
    assert recipe.version_label(COMPOSE) == "1.0.2+2.38.0"


def test_newest_same_major_ignores_other_majors_and_non_releases() -> None:
    tags = ["2.36.0", "2.39.0", "3.0.0", "2.40.0-rc1", "latest", "2.38.0"]
    assert recipe.newest_same_major("2.38.0", tags) == "2.39.0"
    assert recipe.newest_same_major("latest", tags) is None


def test_retag_keeps_layout() -> None:
    text = recipe.retag(COMPOSE, "joseluisq/static-web-server", "2.39.0")
    assert "image: joseluisq/static-web-server:2.39.0\n" in text
    assert "nginx:1.26.2\n" in text and text.count("\n") == COMPOSE.count("\n")


def test_same_major_releases_are_sorted_numerically() -> None:
    assert recipe.same_major_releases("2.9.0", ["2.10.0", "2.9.0", "2.9.1", "3.0.0", "x"]) == ["2.9.0", "2.9.1", "2.10.0"]
