# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tags (Docker Registry v2, with the anonymous token dance) and the lab's per-tag behaviour."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from lab.agent.api import Api, ApiError

DOCKER_HUB = "https://registry-1.docker.io"


class Registry(Api):
    def __init__(self, url: str) -> None:
        super().__init__(url)

    def repo(self, image: str) -> str:
        return f"library/{image}" if self.base == DOCKER_HUB and "/" not in image else image

    def tags(self, image: str) -> list[str]:
        path = f"/v2/{self.repo(image)}/tags/list"
        data, code = self.call("GET", path, ok=(200, 401, 404))
        if code == 404:
            return []
        if code == 401:
            data = self._with_anonymous_token(path)
        return list((data or {}).get("tags") or [])

    def _with_anonymous_token(self, path: str):
        req = urllib.request.Request(self.base + path, method="GET")
        try:
            urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError as err:
            fields = dict(re.findall(r'(\w+)="([^"]*)"', err.headers.get("WWW-Authenticate", "")))
        else:
            return {}
        if "realm" not in fields:
            raise ApiError("GET", self.base + path, 401, "the registry wants credentials")
        realm = fields.pop("realm")
        token = json.loads(urllib.request.urlopen(realm + "?" + urllib.parse.urlencode(fields), timeout=30).read())
        token = token.get("token") or token.get("access_token")
        return Api(self.base, f"Bearer {token}").get(path)

    def behaviour(self, image: str, tag: str) -> dict:
        """The lab registry's ``/lab/v1/images/{name}/{tag}`` (empty on a real registry)."""
        data, code = self.call("GET", f"/lab/v1/images/{image}/{tag}", ok=(200, 404))
        return data if code == 200 and isinstance(data, dict) else {}
