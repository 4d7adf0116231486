# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight's API half: each finding one line naming the variable and the fix; nothing written."""
from __future__ import annotations

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import DroneClient
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.preflight import preflight

GITEA, DRONE = "http://gitea.test", "http://drone.test"
TOKENS = {"bot-tok": "cc-ci-bot", "out-tok": "outsider"}


class Box:
    """A Gitea + Drone answering as the real ones do for these reads; records every method it saw."""

    def __init__(self) -> None:
        self.members = {"recipe-maintainers": {"cc-ci-bot"}}
        self.repos = {"recipe-maintainers/cc-ci", "recipe-maintainers/custom-html-tiny", "sandbox/custom-html-tiny"}
        self.push = {"sandbox/custom-html-tiny"}
        self.tests = {"custom-html-tiny"}
        self.drone_ok = True
        self.methods: set[str] = set()

    def gitea(self, request: httpx.Request) -> httpx.Response:
        self.methods.add(request.method)
        user = TOKENS.get(request.headers.get("authorization", "").removeprefix("token "))
        path = request.url.path.removeprefix("/api/v1")
        if user is None:
            return httpx.Response(401, json={"message": "user does not exist"})
        if path == "/user":
            return httpx.Response(200, json={"login": user})
        if path.startswith("/orgs/"):
            dummy, dummy1, org, dummy2, login = path.split("/")
            if dummy1 == "public_members":  # memberships are private: none is public
                return httpx.Response(404)
            if user not in self.members.get(org, set()):
                return httpx.Response(303, headers={"Location": f"/api/v1/orgs/{org}/public_members/{login}"})
            return httpx.Response(204 if login in self.members[org] else 404)
        parts = path.split("/")
        repo = "/".join(parts[2:4])
        if repo not in self.repos:
            return httpx.Response(404, json={"message": "not found"})
        if len(parts) == 4:
            return httpx.Response(200, json={"full_name": repo, "permissions": {"push": repo in self.push}})
        if parts[4:6] == ["contents", "tests"] and parts[6] in self.tests:
            return httpx.Response(200, json=[{"name": "test_serves.json", "type": "file"}])
        return httpx.Response(404, json={"message": "not found"})

    def drone(self, request: httpx.Request) -> httpx.Response:
        self.methods.add(request.method)
        if not self.drone_ok:
            return httpx.Response(401, text="Unauthorized")
        if request.url.path == "/api/user":
            return httpx.Response(200, json={"login": "cc-ci-bot"})
        return httpx.Response(200, json=[])

    def run(self, bot: str = "bot-tok", outsider: str | None = "out-tok", recipes=("custom-html-tiny",),
            upstream: str = "sandbox", poll_repos=None, bridge_service: str = ""):
        kw = {"transport": httpx.MockTransport(self.gitea), "tries": 1}
        gitea = GiteaClient(GITEA, bot, **kw)
        other = GiteaClient(GITEA, outsider, token_name="ccci_gitea_outsider_token", **kw) if outsider else None
        drone = DroneClient(DRONE, "drone-tok", transport=httpx.MockTransport(self.drone), tries=1)
        return preflight(gitea, other, drone, mirror_org="recipe-maintainers", upstream_org=upstream,
                         ci_repo="recipe-maintainers/cc-ci", recipes=list(recipes), poll_repos=poll_repos,
                         bridge_service=bridge_service)


def test_a_ready_box_passes_and_nothing_is_written() -> None:
    box = Box()
    found = box.run(poll_repos=["recipe-maintainers/custom-html-tiny"])
    assert found.failures == [] and found.notes == []
    assert found.facts == {"bot": "cc-ci-bot", "outsider": "outsider", "drone_user": "cc-ci-bot"}
    assert box.methods == {"GET"}


@pytest.mark.parametrize(("change", "kw", "expected"), [
    (lambda b: None, {"bot": "bad"}, "ccci_gitea_token: GET http://gitea.test/api/v1/user: HTTP 401"),
    (lambda b: b.members["recipe-maintainers"].discard("cc-ci-bot"), {},
     "ccci_gitea_token: its user cc-ci-bot is not a member of recipe-maintainers: add cc-ci-bot"),
    (lambda b: None, {"outsider": "bad"}, "ccci_gitea_outsider_token: GET http://gitea.test/api/v1/user: HTTP 401"),
    (lambda b: None, {"outsider": "bot-tok"}, "ccci_gitea_outsider_token is the bot's own (cc-ci-bot)"),
    (lambda b: b.members["recipe-maintainers"].add("outsider"), {},
     "ccci_gitea_outsider_token: its user outsider is a member of recipe-maintainers"),
    (lambda b: None, {"recipes": ["nope"]}, "ccci_sandbox_recipes: nope has no mirror recipe-maintainers/nope"),
    (lambda b: None, {"bot": "out-tok", "outsider": None}, "ccci_gitea_token: its user outsider is not a member"),
    (lambda b: b.tests.clear(), {}, "ccci_sandbox_recipes: custom-html-tiny is not enrolled: recipe-maintainers/cc-ci "
     "has no tests/custom-html-tiny/"),
    (lambda b: None, {"poll_repos": ["recipe-maintainers/other"]},
     "ccci_sandbox_recipes: the bridge does not poll recipe-maintainers/custom-html-tiny"),
    (lambda b: b.push.clear(), {}, "ccci_upstream_org: the bot cannot push to sandbox/custom-html-tiny"),
    (lambda b: b.repos.discard("sandbox/custom-html-tiny"), {}, "ccci_upstream_org: no repo sandbox/custom-html-tiny"),
    (lambda b: setattr(b, "drone_ok", False), {}, "ccci_drone_token/ccci_drone_url: GET http://drone.test/api/user: HTTP 401"),
])
def test_each_fault_is_one_line_naming_the_variable(change, kw, expected) -> None:
    box = Box()
    change(box)
    found = box.run(**kw)
    # one line for the fault (an unknown recipe has no upstream either: a second, true line)
    assert len(found.failures) == (2 if kw.get("recipes") else 1), found.failures
    assert found.failures[0].startswith(expected), found.failures
    assert not any("\n" in line or "-tok" in line for line in found.failures)


def test_a_mirror_the_bridge_does_not_poll_names_the_service_to_fix() -> None:
    found = Box().run(recipes=("custom-html-tiny",), poll_repos=["recipe-maintainers/other"],
                      bridge_service="cc-ci-bridge_bridge")
    assert found.failures == ["ccci_sandbox_recipes: the bridge does not poll recipe-maintainers/custom-html-tiny: "
                              "add it to POLL_REPOS of service cc-ci-bridge_bridge (or name an enrolled recipe)"]
    assert Box().run(poll_repos=["Recipe-Maintainers/Custom-HTML-Tiny"]).failures == []  # Gitea's names ignore case


def test_what_is_missing_is_a_note_not_a_failure() -> None:
    found = Box().run(outsider=None, upstream="")
    assert found.failures == []
    assert [n.split(" ")[0] for n in found.notes] == ["ccci_gitea_outsider_token", "ccci_upstream_org"]
