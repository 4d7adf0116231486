# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Git smart HTTP (``/{org}/{repo}.git/...``) through ``git http-backend`` as a CGI.

Clone and fetch are open (public repos); a push needs basic auth ``user:token`` of a member of
the repo's org, like Gitea: no credentials → 401 with ``WWW-Authenticate`` so git asks for them.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# /{org}/{repo}[.git]/{info/refs|git-upload-pack|git-receive-pack|HEAD|objects/...}
GIT_PATH = re.compile(r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?"
                      r"(?P<rest>/(?:info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+))$")


@dataclass
class CgiResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def match(path: str) -> re.Match[str] | None:
    return GIT_PATH.match(path)


def is_push(rest: str, query: str) -> bool:
    return rest == "/git-receive-pack" or (rest == "/info/refs" and "service=git-receive-pack" in query)


def run_backend(git_root: Path, owner: str, repo: str, rest: str, method: str, query: str,
                content_type: str, content_encoding: str, body: bytes, remote_user: str, git_protocol: str = "") -> CgiResult:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(git_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{owner}/{repo}.git{rest}",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GIT_CONFIG_NOSYSTEM": "1",
        # The server authorised the push already; let http-backend accept it.
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.receivepack", "GIT_CONFIG_VALUE_0": "true",
    }
    if content_encoding:
        env["HTTP_CONTENT_ENCODING"] = content_encoding
    if git_protocol:  # protocol v2 negotiation (the client's Git-Protocol header)
        env["HTTP_GIT_PROTOCOL"] = git_protocol
    proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
    head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, payload = proc.stdout.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name.strip(), value.strip()))
    if proc.returncode != 0 and not sep:
        return CgiResult(500, [("Content-Type", "text/plain")], proc.stderr)
    return CgiResult(status, headers, payload)
