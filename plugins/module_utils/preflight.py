# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight's API half: before a run creates anything, what a long run needs from Gitea and Drone.

Each finding is one line naming the fix. Reads only (no write, no comment): a few seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import DroneClient
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient, _q, split_repo


@dataclass
class Findings:
    """What the preflight found: ``failures`` stop the run, ``notes`` say what will SKIP and why."""

    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def fail(self, line: str) -> None:
        self.failures.append(line)


def _exists(client: GiteaClient, path: str) -> bool:
    dummy, status = client.get(path, accept=(200, 404))
    return status == 200


def check_bot(gitea: GiteaClient, org: str, found: Findings) -> str | None:
    """The bot's login, when its token works and it is a member of ``org``."""
    try:
        login = (gitea.get_user() or {}).get("login")
    except ApiError as exc:
        if exc.status in (401, 403):
            found.fail(f"ccci_gitea_token: {exc} (set it to the bot's token, a member of {org})")
        else:  # no answer, or no Gitea API at this URL
            found.fail(f"ccci_gitea_url: {exc}")
        return None
    try:
        member = gitea.is_org_member(org, login)
    except ApiError as exc:
        if exc.status != 303:  # 303: Gitea hides the org's members from a non-member, so it is not one
            found.fail(f"ccci_gitea_token: {exc} (check ccci_mirror_org)")
            return None
        member = False
    found.facts["bot"] = login
    if not member:
        found.fail(f"ccci_gitea_token: its user {login} is not a member of {org}: add {login} to {org} "
                   "or set the bot's token")
    found.facts["bot_member"] = member
    return login


def check_outsider(gitea: GiteaClient, outsider: GiteaClient | None, org: str, bot: str | None,
                   found: Findings) -> None:
    """The outsider's token works and its user is outside ``org`` (asked with the bot's token)."""
    if outsider is None:
        found.notes.append("ccci_gitea_outsider_token is empty: V1's outsider case will SKIP")
        return
    try:
        login = (outsider.get_user() or {}).get("login")
    except ApiError as exc:
        found.fail(f"ccci_gitea_outsider_token: {exc} (set the token of a user outside {org})")
        return
    found.facts["outsider"] = login
    if login == bot:
        found.fail(f"ccci_gitea_outsider_token is the bot's own ({login}): set the token of a user outside {org}")
        return
    if bot is None or not found.facts.get("bot_member"):
        return  # whether it is a member needs a member's token, already named above
    try:
        member = gitea.is_org_member(org, login)
    except ApiError as exc:
        found.fail(f"ccci_gitea_outsider_token: cannot tell whether {login} is in {org}: {exc}")
        return
    if member:
        found.fail(f"ccci_gitea_outsider_token: its user {login} is a member of {org}: "
                   f"set the token of a user outside {org} (V1 needs a rejected !testme)")


def check_recipes(gitea: GiteaClient, mirror_org: str, ci_repo: str, recipes: list[str],
                  poll_repos: list[str] | None, found: Findings, bridge_service: str = "") -> None:
    """Each sandbox recipe is enrolled: its mirror exists, cc-ci has ``tests/<recipe>/`` and, when the
    bridge's POLL_REPOS was read on the box, the bridge polls the mirror (FACTS: both or !testme is silent)."""
    if not recipes:
        found.fail("ccci_sandbox_recipes is empty: name at least one enrolled sandbox recipe")
        return
    ci_owner, ci_name = split_repo(ci_repo)
    try:
        if not _exists(gitea, f"/repos/{_q(ci_owner)}/{_q(ci_name)}"):
            found.fail(f"ccci_ci_repo: no repo {ci_repo} on Gitea (or the bot cannot read it): set the cc-ci repo")
            return
        for recipe in recipes:
            mirror = f"{mirror_org}/{recipe}"
            if not _exists(gitea, f"/repos/{_q(mirror_org)}/{_q(recipe)}"):
                found.fail(f"ccci_sandbox_recipes: {recipe} has no mirror {mirror}: enrol it (mirror it into "
                           f"{mirror_org}) or name an enrolled recipe")
                continue
            if not _exists(gitea, f"/repos/{_q(ci_owner)}/{_q(ci_name)}/contents/tests/{_q(recipe)}"):
                found.fail(f"ccci_sandbox_recipes: {recipe} is not enrolled: {ci_repo} has no tests/{recipe}/ "
                           "(add its tests to cc-ci or name an enrolled recipe)")
            if poll_repos is not None and mirror.lower() not in {r.lower() for r in poll_repos}:
                service = f"service {bridge_service}" if bridge_service else "the bridge's service"
                found.fail(f"ccci_sandbox_recipes: the bridge does not poll {mirror}: add it to POLL_REPOS of "
                           f"{service} (or name an enrolled recipe)")
    except ApiError as exc:
        found.fail(f"ccci_sandbox_recipes: {exc}")


def check_upstream(gitea: GiteaClient, upstream_org: str, recipes: list[str], found: Findings) -> None:
    """The bot may push to the sandbox upstream of each recipe (seeding writes there)."""
    if not upstream_org:
        found.notes.append("ccci_upstream_org is empty: the checks that seed an upgrade (V3-V8) will SKIP")
        return
    for recipe in recipes:
        try:
            data, status = gitea.get(f"/repos/{_q(upstream_org)}/{_q(recipe)}", accept=(200, 404))
        except ApiError as exc:
            found.fail(f"ccci_upstream_org: {exc}")
            return
        if status == 404:
            found.fail(f"ccci_upstream_org: no repo {upstream_org}/{recipe}: create the sandbox upstream "
                       "or point ccci_upstream_org at the org that holds it")
        elif not ((data or {}).get("permissions") or {}).get("push"):
            found.fail(f"ccci_upstream_org: the bot cannot push to {upstream_org}/{recipe}: give it write "
                       "access to the sandbox upstream (never point this at the real upstream)")


def check_drone(drone: DroneClient, ci_repo: str, found: Findings) -> None:
    """The Drone token works and reads the cc-ci repo's builds."""
    try:
        user, dummy = drone.get("/api/user")
        found.facts["drone_user"] = (user or {}).get("login")
        drone.list_builds(ci_repo, 1, 1)
    except ApiError as exc:
        found.fail(f"ccci_drone_token/ccci_drone_url: {exc}")


def preflight(gitea: GiteaClient, outsider: GiteaClient | None, drone: DroneClient, *, mirror_org: str,
              upstream_org: str, ci_repo: str, recipes: list[str], poll_repos: list[str] | None = None,
              bridge_service: str = "") -> Findings:
    found = Findings()
    bot = check_bot(gitea, mirror_org, found)
    if not any(line.startswith("ccci_gitea_url:") for line in found.failures):  # else it would say the same
        check_outsider(gitea, outsider, mirror_org, bot, found)
    if bot is not None:
        check_recipes(gitea, mirror_org, ci_repo, recipes, poll_repos, found, bridge_service)
        check_upstream(gitea, upstream_org, recipes, found)
    check_drone(drone, ci_repo, found)
    found.facts.pop("bot_member", None)
    return found
