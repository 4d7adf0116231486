# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab profiles: named sets of the lab's timings and sizes, as playbook variables.

``default`` is the fast lab (3 s builds, a 1 s bridge poll). ``box-like`` is closer to a real cc-ci
box (FACTS §1, §2a): one Drone runner, Gitea's page cap lowered to 20, builds of 10 s, a 5 s bridge
poll. The checks read every one of these from the lab (lab.json) rather than outlasting constants.

``python -m lab.profiles NAME`` prints the profile as a JSON object of extra variables
(``make run LAB_PROFILE=box-like``); an unknown name is one line naming the known ones, exit 2.
"""
from __future__ import annotations

import json
import sys
from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "box-like": {
        "ccci_lab_runners": 1,
        "ccci_lab_max_response_items": 20,
        "ccci_lab_build_seconds": 10,
        "ccci_lab_poll_interval": 5,
    },
}


def extra_vars(name: str | None) -> dict[str, Any]:
    key = (name or "default").strip() or "default"
    if key not in PROFILES:
        raise KeyError(f"unknown LAB_PROFILE {key!r}: use one of {', '.join(sorted(PROFILES))}")
    return dict(PROFILES[key])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        print(json.dumps(extra_vars(argv[0] if argv else None)))
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
