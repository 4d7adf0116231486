#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gitea_testme
short_description: Post a trigger comment on a recipe PR and observe whether the cc-ci bridge fires
version_added: 0.1.0
description:
  - Posts O(body) (default C(!testme)) as the user of O(gitea_token) on PR O(number) of O(repo),
    then watches for up to O(window) seconds what the comment caused.
  - >-
    V(fired) when a new Drone build on O(ci_repo) for this PR and head SHA (params C(REPO), C(PR),
    C(REF)) appeared AND at least one result surface appeared on the PR (a new C(cc-ci/testme)
    status on the head SHA, or a bridge comment after the posted one). The watch ends as soon as
    that is seen.
  - >-
    V(partial) when only one of the two appeared by the end of the window (a build but no surface,
    or a surface but no build); the returned C(seen) says which.
  - >-
    V(ignored) when nothing appeared and the poster is a member of O(org); V(rejected) when nothing
    appeared and the poster is not.
  - The bridge polls, so the window should cover a few of its poll intervals; it defaults to three
    times O(poll_interval).
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.drone
  - coopcloud.cc_ci.drone.ci_repo
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea_drone
options:
  repo:
    description: The recipe repository, C(owner/name).
    type: str
    required: true
  number:
    description: The PR number.
    type: int
    required: true
  body:
    description: The comment to post, for example C(!testme), C(!testme --quick) or C(!testmexyz).
    type: str
    default: '!testme'
  org:
    description: The org whose members the bridge accepts; decides V(ignored) against V(rejected).
    type: str
    default: recipe-maintainers
  poll_interval:
    description: The bridge's poll interval in seconds (30 on the box).
    type: float
    default: 30
  window:
    description: Seconds to watch after posting. Defaults to 3 x O(poll_interval).
    type: float
  interval:
    description: Seconds between looks while watching. Defaults to O(poll_interval)/10, at least 1.
    type: float
  context:
    description: The commit status context the bridge sets.
    type: str
    default: cc-ci/testme
  ledger:
    description:
      - Path of the run's ledger (JSON lines); a line C(kind=comment) is appended before posting.
    type: path
attributes:
  check_mode:
    support: full
    details: In check mode nothing is posted and nothing is watched; the task reports changed.
  diff_mode:
    support: none
seealso:
  - module: coopcloud.cc_ci.drone_verdict
"""

EXAMPLES = r"""
- name: A member's !testme fires the bridge
  coopcloud.cc_ci.gitea_testme:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    repo: recipe-maintainers/custom-html-tiny
    number: "{{ _pr.pr.number }}"
    poll_interval: 30
    ledger: "{{ ccci_report_dir }}/ledger.jsonl"
  register: _v1_bot

- name: An outsider's !testme is rejected
  coopcloud.cc_ci.gitea_testme:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_outsider_token }}"
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    repo: recipe-maintainers/custom-html-tiny
    number: "{{ _pr.pr.number }}"
  register: _v1_outsider
  failed_when: _v1_outsider.outcome != 'rejected'
"""

RETURN = r"""
outcome:
  description: V(fired), V(partial), V(ignored) or V(rejected); null in check mode.
  type: str
  returned: always
comment:
  description: The posted comment (null in check mode).
  type: dict
  returned: always
  contains:
    id: {description: "Comment id.", type: int}
    html_url: {description: "Its web address.", type: str}
    created_at: {description: "When Gitea recorded it.", type: str}
    user: {description: "Who posted it.", type: str}
build:
  description: The Drone build the comment caused, or null.
  type: dict
  returned: always
  contains:
    number: {description: "Build number.", type: int}
    url: {description: "Build page.", type: str}
    created: {description: "Unix time Drone created it.", type: int}
    status: {description: "Its status when seen.", type: str}
    params: {description: "Its params (RECIPE, REPO, PR, REF, ...).", type: dict}
seen:
  description: Which surfaces appeared after the comment.
  type: dict
  returned: always
  contains:
    build: {description: "A matching new build appeared.", type: bool}
    status: {description: "A new C(cc-ci/testme) status appeared on the head SHA.", type: bool}
    status_state: {description: "Its state.", type: str}
    status_target_url: {description: "Its target_url.", type: str}
    comment: {description: "A bridge comment appeared after the posted one.", type: bool}
    comment_id: {description: "Its id.", type: int}
    comment_url: {description: "Its web address.", type: str}
poster:
  description: The token's user and whether it is a member of O(org).
  type: dict
  returned: always
head_sha:
  description: The PR head SHA the build must carry as C(REF).
  type: str
  returned: always
seconds:
  description: Seconds spent watching.
  type: float
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import ledger
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import drone_argument_spec, drone_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import (
    gitea_argument_spec, gitea_from_module,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.result_surfaces import observe_trigger, outcome_of
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span


def _build_out(drone, ci_repo, build):
    if not build:
        return None
    return {"number": build.get("number"), "url": drone.build_url(ci_repo, build.get("number")),
            "created": build.get("created"), "status": build.get("status"), "params": build.get("params") or {}}


def run(module, gitea, drone):
    p = module.params
    repo, number, ci_repo, context = p["repo"], p["number"], p["ci_repo"], p["context"]
    window = p["window"] if p["window"] is not None else 3 * p["poll_interval"]
    interval = p["interval"] if p["interval"] is not None else max(1.0, p["poll_interval"] / 10.0)

    pr = gitea.get_pr(repo, number)
    sha = (pr.get("head") or {}).get("sha")
    login = (gitea.get_user() or {}).get("login")
    member = gitea.is_org_member(p["org"], login) if login else None
    poster = {"login": login, "member": member, "org": p["org"]}
    last_build = max([b.get("number") or 0 for b in drone.list_builds(ci_repo, 1, 25)] or [0])
    status_ids = {s.get("id") for s in gitea.list_statuses(repo, sha)} if sha else set()
    result = dict(changed=True, outcome=None, comment=None, build=None, poster=poster, head_sha=sha,
                  seen={"build": False, "status": False, "comment": False}, seconds=0.0)
    if module.check_mode:
        return result

    ledger.append(p["ledger"], {"kind": "comment", "repo": repo, "pr": number, "body": p["body"]})
    comment = gitea.post_comment(repo, number, p["body"])
    result["comment"] = {"id": comment.get("id"), "html_url": comment.get("html_url"),
                         "created_at": comment.get("created_at"),
                         "user": (comment.get("user") or {}).get("login")}
    with Span("bridge", f"the bridge to act on {p['body']!r} on {repo}#{number}",
              note=f"bridge poll {p['poll_interval']:g} s, window {window:g} s",
              poll=p["poll_interval"], window=window) as span:
        seen = observe_trigger(gitea, drone, repo=repo, number=number, sha=sha, ci_repo=ci_repo, comment=comment,
                               last_build=last_build, status_ids=status_ids, window=window, interval=interval,
                               context=context)
        span.set(fired=seen["build"] is not None)
    status, bridge = seen["status"] or {}, seen["bridge_comment"] or {}
    result.update(
        outcome=outcome_of(seen, member),
        build=_build_out(drone, ci_repo, seen["build"]),
        seconds=seen["seconds"],
        seen={"build": seen["build"] is not None, "status": bool(status), "comment": bool(bridge),
              "status_state": status.get("status") or status.get("state"),
              "status_target_url": status.get("target_url"),
              "comment_id": bridge.get("id"), "comment_url": bridge.get("html_url")},
    )
    return result


def main():
    argument_spec = gitea_argument_spec()
    argument_spec.update(drone_argument_spec())
    argument_spec.update(
        ci_repo=dict(type="str", default="recipe-maintainers/cc-ci"),
        repo=dict(type="str", required=True),
        number=dict(type="int", required=True),
        body=dict(type="str", default="!testme"),
        org=dict(type="str", default="recipe-maintainers"),
        poll_interval=dict(type="float", default=30.0),
        window=dict(type="float"),
        interval=dict(type="float"),
        context=dict(type="str", default="cc-ci/testme"),
        ledger=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        with gitea_from_module(module) as gitea, drone_from_module(module) as drone:
            result = run(module, gitea, drone)
    except ApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, url=exc.url)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
