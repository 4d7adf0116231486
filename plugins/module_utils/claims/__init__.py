# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each check's claims as named predicates: ``claims/<id>.py`` exposes ``evaluate(inputs) -> list[Predicate]``.

A role gathers what its check read into ``inputs`` (check_result's option of that name); the
check's claims module judges it here, in Python, one predicate per claim. ``Predicate`` lives in
this package (and is re-exported by ``checks``) so a claims module imports it without importing
``checks``, which imports the registry, which imports the claims modules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The bridge's own comments (run started / results card), as opposed to what the agent or a person wrote.
BRIDGE_COMMENT = re.compile(r"^(### cc-ci results|cc-ci: run started)")
# A Drone build page: <server>/<org>/<repo>/<number> (a Gitea PR page has /pulls/ before its number).
BUILD_URL = re.compile(r"https?://[^\s/)\]>\"'`]+/[^\s/)\]>\"'`]+/[^\s/)\]>\"'`]+/\d+(?![\w/])")


@dataclass(frozen=True)
class Predicate:
    """One claim of a check, judged: ``name`` is ``<ID>.<claim>`` (``V1.non_member_rejected``).

    ``diagnosis`` is said when ``ok`` is false: the component and the lie, in the words of the
    report. ``inputs`` is what the claim was judged on (kept in the evidence, JSON-safe, redacted).
    """

    name: str
    ok: bool
    diagnosis: str
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "diagnosis": self.diagnosis, "inputs": dict(self.inputs)}


def dig(value: Any, *path: str, default: Any = None) -> Any:
    """``value[a][b]…`` through dicts, or ``default`` where a step is missing (a task that never ran)."""
    for key in path:
        if not isinstance(value, dict) or value.get(key) is None:
            return default
        value = value[key]
    return value
