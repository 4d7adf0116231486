# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Co-op Cloud recipe's compose file: its images, its version label, and what an upgrade is."""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from typing import Any

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False
    YAML_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None

VERSION_LABEL = re.compile(r"coop-cloud\.\$\{STACK_NAME\}\.version=(?P<version>[^\s\"']+)")
SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class Image:
    service: str
    name: str
    tag: str


def images(compose_text: str) -> list[Image]:
    data: Any = yaml.safe_load(compose_text) or {}
    found = []
    for service, spec in (data.get("services") or {}).items():
        ref = str((spec or {}).get("image") or "")
        if not ref or "@" in ref:
            continue  # abra cannot handle tag+digest references; nothing to compare there
        name, _sep, tag = ref.rpartition(":")
        if not name or "/" in tag:
            name, tag = ref, "latest"
        found.append(Image(service, name, tag))
    return found


def version_label(compose_text: str) -> str | None:
    match = VERSION_LABEL.search(compose_text)
    return match.group("version") if match else None


def semver(tag: str) -> tuple[int, int, int] | None:
    match = SEMVER.match(tag)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def same_major_releases(current: str, tags: list[str]) -> list[str]:
    """Release tags (x.y.z) with the current tag's major version, oldest first."""
    now = semver(current)
    if now is None:
        return []
    return [t for _key, t in sorted((semver(t), t) for t in tags if semver(t) and semver(t)[0] == now[0])]


def newest_same_major(current: str, tags: list[str]) -> str | None:
    """The newest release tag with the current tag's major version (what a safe upgrade takes)."""
    releases = same_major_releases(current, tags)
    return releases[-1] if releases else None


def retag(compose_text: str, image: str, new_tag: str) -> str:
    """The compose text with ``image``'s tag replaced (text-level, keeping the file's layout)."""
    return re.sub(rf"(image:\s*[\"']?{re.escape(image)}):[^\s\"']+", rf"\g<1>:{new_tag}", compose_text)
