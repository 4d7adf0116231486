# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""``claude -p "<prompt>"``: the lab's stand-in for the claude CLI, for the skills cc-ci uses."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from lab.agent.config import AgentConfig

VERSION = "1.0.0 (cc-ci lab stand-in)"
USAGE = ('usage: claude -p|--print "<prompt>"   (prompts: /recipe-upgrade <recipe> [--with-tests], '
         "/upgrade-all [--dry-run])\n       claude --version")


def credentials() -> Path:
    base = os.environ.get("CLAUDE_CONFIG_DIR") or str(Path(os.environ.get("HOME") or Path.home()) / ".claude")
    return Path(base) / ".credentials.json"


def main(argv: list[str]) -> int:
    if argv in (["--version"], ["-v"]):
        print(f"{VERSION}")
        return 0
    if argv in (["--help"], ["-h"]):
        print(USAGE)
        return 0
    prompt = None
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg in ("-p", "--print"):
            if not rest:
                print(f"claude: {arg} needs a prompt\n{USAGE}", file=sys.stderr)
                return 2
            prompt = rest.pop(0)
        elif arg.startswith("--print="):
            prompt = arg.split("=", 1)[1]
        else:
            print(f"claude: unknown option or argument '{arg}' (this stand-in knows -p/--print, --version)\n{USAGE}",
                  file=sys.stderr)
            return 2
    if prompt is None:
        print(f"claude: interactive mode is not supported by the lab stand-in\n{USAGE}", file=sys.stderr)
        return 2
    if not credentials().is_file():
        print("not logged in: run claude login", file=sys.stderr)
        return 1
    words = shlex.split(prompt)
    if not words:
        print("claude: empty prompt", file=sys.stderr)
        return 2
    cfg = AgentConfig.load()
    missing = cfg.missing()
    if missing:
        print(f"claude: cannot reach the box: {', '.join(missing)} not set (and no $CCCI_LAB_STATE/lab.json)",
              file=sys.stderr)
        return 1
    skill, args = words[0], words[1:]
    if skill == "/recipe-upgrade":
        from lab.agent import recipe_upgrade
        return recipe_upgrade.main(cfg, args)
    if skill == "/upgrade-all":
        from lab.agent import upgrade_all
        return upgrade_all.main(cfg, args)
    print(f"I can run /recipe-upgrade <recipe> [--with-tests] and /upgrade-all [--dry-run]; "
          f"'{skill}' is not a skill here.")
    print("RESULT: FAILED — unknown skill")
    return 2
