# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""git over HTTP: clone, commit, push (basic auth through git's env config, never on the command line)."""
from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from pathlib import Path


class GitError(Exception):
    pass


class Git:
    def __init__(self, base_url: str, user: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.token = token

    def url(self, repo: str) -> str:
        return f"{self.base_url}/{repo}.git"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(GIT_TERMINAL_PROMPT="0", GIT_AUTHOR_NAME=self.user or "cc-ci-bot",
                   GIT_AUTHOR_EMAIL=f"{self.user or 'cc-ci-bot'}@cc-ci.invalid",
                   GIT_COMMITTER_NAME=self.user or "cc-ci-bot",
                   GIT_COMMITTER_EMAIL=f"{self.user or 'cc-ci-bot'}@cc-ci.invalid")
        if self.user and self.token:
            cred = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
            env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader",
                       GIT_CONFIG_VALUE_0=f"Authorization: Basic {cred}")
        return env

    def run(self, *args: str, cwd: str | Path | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=cwd, env=self.env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {(proc.stderr or proc.stdout).strip().splitlines()[-1:] or ['failed']}")
        return proc.stdout.strip()

    def clone(self, repo: str, prefix: str, branch: str | None = None) -> Path:
        where = Path(tempfile.mkdtemp(prefix=prefix)) / repo.split("/")[-1]
        args = ["clone", "-q"]
        if branch:
            args += ["-b", branch]
        self.run(*args, self.url(repo), str(where))
        return where
