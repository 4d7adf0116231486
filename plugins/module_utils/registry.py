# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A container registry's tags (Docker Registry HTTP API v2), with the anonymous token dance."""
from __future__ import annotations

import re
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiClient, ApiError

DOCKER_HUB = "https://registry-1.docker.io"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryClient(ApiClient):
    def __init__(self, url: str = DOCKER_HUB, **kw: Any) -> None:
        super().__init__(url.rstrip("/"), None, token_name="the registry", **kw)

    def repository(self, image: str) -> str:
        # Docker Hub keeps its official images under library/.
        return f"library/{image}" if self.base_url == DOCKER_HUB and "/" not in image else image

    def tags(self, image: str) -> list[str]:
        path = f"/v2/{self.repository(image)}/tags/list"
        response = self.send("GET", path, accept=(200, 401), not_found=f"no image {image} in the registry")
        if response.status_code == 401:
            token = self._anonymous_token(response.headers.get("WWW-Authenticate", ""))
            if token is None:
                raise ApiError("GET", self.url(path), 401, "the registry wants credentials")
            data, _status = self._get_with(path, token)
        else:
            data = self.decode(response)
        return list((data or {}).get("tags") or [])

    def _anonymous_token(self, challenge: str) -> str | None:
        fields = dict(_CHALLENGE.findall(challenge))
        if "realm" not in fields:
            return None
        data, _status = self.get(fields["realm"], params={k: v for k, v in fields.items() if k != "realm"})
        return (data or {}).get("token") or (data or {}).get("access_token")

    def _get_with(self, path: str, token: str) -> tuple[Any, int]:
        response = self._http.get(self.url(path), headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise ApiError("GET", self.url(path), response.status_code, "registry refused the anonymous token")
        return response.json(), 200
