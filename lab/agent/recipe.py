# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A recipe's compose file: image references, the version label, and the same-major upgrade rule."""
from __future__ import annotations

import re
from dataclasses import dataclass

IMAGE = re.compile(r"^(?P<indent>\s*)image:\s*[\"']?(?P<ref>[^\s\"'#]+)", re.M)
VERSION_LABEL = re.compile(r"(coop-cloud\.\$\{STACK_NAME\}\.version=)(?P<version>[^\s\"']+)")
SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class Image:
    name: str
    tag: str


def images(compose: str) -> list[Image]:
    out = []
    for m in IMAGE.finditer(compose):
        ref = m.group("ref")
        if "@" in ref:
            continue
        name, _, tag = ref.rpartition(":")
        if not name or "/" in tag:
            name, tag = ref, "latest"
        out.append(Image(name, tag))
    return out


def version_label(compose: str) -> str | None:
    m = VERSION_LABEL.search(compose)
    return m.group("version") if m else None


def semver(tag: str) -> tuple[int, int, int] | None:
    m = SEMVER.match(tag)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def newest_same_major(current: str, tags: list[str]) -> str | None:
    now = semver(current)
    if now is None:
        return None
    same = [(semver(t), t) for t in tags if semver(t) and semver(t)[0] == now[0]]
    return max(same)[1] if same else None


def retag(compose: str, name: str, tag: str) -> str:
    return re.sub(rf"(image:\s*[\"']?{re.escape(name)}):[^\s\"']+", rf"\g<1>:{tag}", compose)


def next_version(current: str | None, tag: str) -> str:
    """``1.0.2+2.38.0`` + ``2.39.0`` -> ``1.0.3+2.39.0`` (recipe semver patch + 1)."""
    recipe = (current or "0.0.0").split("+", 1)[0]
    parts = (recipe.split(".") + ["0", "0", "0"])[:3]
    try:
        major, minor, patch = (int(p) for p in parts)
    except ValueError:
        major, minor, patch = 0, 0, 0
    return f"{major}.{minor}.{patch + 1}+{tag}"


def set_version(compose: str, version: str) -> str:
    return VERSION_LABEL.sub(lambda m: m.group(1) + version, compose)
