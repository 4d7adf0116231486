#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: drone_verdict
short_description: Wait for the verdict of a cc-ci build and compare the PR's result surfaces
version_added: 0.1.0
description:
  - Waits for Drone build O(build) on O(ci_repo), or for the build the bridge started for the head
    SHA of PR O(number) in O(repo), to end. A build queued behind others (C(pending), one runner) is
    waiting, not late - up to O(queue_timeout) seconds, with what it waits behind in RV(queue); once it
    runs, O(timeout) counts from its C(started). The whole wait is bounded by O(queue_timeout) +
    O(timeout).
  - The verdict is V(GREEN) (build C(success)), V(RED) (C(failure), C(error), C(killed),
    C(skipped)), the held state's name - V(BLOCKED) (needs approval; ends the wait at once),
    V(DECLINED), V(WAITING_ON_DEPENDENCIES) (after O(stall_timeout)) - or V(PENDING) when a bound hits
    first (also a build left C(pending) with no build ahead for O(stall_timeout), as no runner takes it).
    RV(wait_ended) and RV(findings) say which, in a sentence naming the state.
  - Drone's record of the build is also checked against itself (RV(lies)), namely success with a failed
    step, finished before started, ended with a step still running.
  - Then reads both result surfaces on the PR (the C(cc-ci/testme) commit status and the bridge's
    result comment), giving them up to O(surface_wait) seconds to show the final result, and says
    whether they agree with each other and with Drone. A surface that is missing or disagrees is
    returned as a finding.
  - The waiter sleeps until shortly before the build's expected end (its start time plus the median
    of recent builds' durations), then looks about once a second; its long-run request rate stays
    at or below one per O(poll_interval) seconds.
  - Read-only; never reports changed.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.gitea_api
  - coopcloud.cc_ci.drone
  - coopcloud.cc_ci.drone.ci_repo
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
  - coopcloud.cc_ci.attributes.action_group_gitea_drone
options:
  build:
    description: Build number on O(ci_repo). The PR and head SHA are taken from its params.
    type: int
  repo:
    description: The recipe repository, C(owner/name), of PR O(number).
    type: str
  number:
    description: The recipe PR whose head SHA's build to wait for (newest matching build).
    type: int
  sha:
    description: With O(number), wait for the build of this SHA instead of the PR's current head.
    type: str
  timeout:
    description: >-
      Seconds the build may run, counted from its C(started) (and, with O(number), how long to wait
      for it to appear).
    type: float
    default: 1800
  queue_timeout:
    description: >-
      Seconds the build may wait queued (C(pending), not started) behind other builds. Default three
      times O(timeout).
    type: float
  stall_timeout:
    description: >-
      Seconds a build may stay C(pending) with no build running or queued ahead of it (no runner takes
      its stage), or C(waiting_on_dependencies). Default O(timeout), at most 120.
    type: float
  surface_wait:
    description: Seconds to give the bridge, after the build ended, to update the surfaces.
    type: float
    default: 60
  poll_interval:
    description: The long-run request budget, one look per this many seconds.
    type: float
    default: 5
  context:
    description: The commit status context the bridge sets.
    type: str
    default: cc-ci/testme
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
seealso:
  - module: coopcloud.cc_ci.gitea_testme
"""

EXAMPLES = r"""
- name: Verdict of the build a !testme started
  coopcloud.cc_ci.drone_verdict:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    build: "{{ _v1_bot.build.number }}"
    timeout: 600
  register: _v1_verdict

- name: Verdict of a PR head, whichever build it is
  coopcloud.cc_ci.drone_verdict:
    gitea_url: "{{ ccci_gitea_url }}"
    gitea_token: "{{ ccci_gitea_token }}"
    drone_url: "{{ ccci_drone_url }}"
    drone_token: "{{ ccci_drone_token }}"
    repo: recipe-maintainers/custom-html-tiny
    number: 7
  register: _verdict
  failed_when: _verdict.verdict != 'GREEN' or not _verdict.agree
"""

RETURN = r"""
verdict:
  description: V(GREEN), V(RED), V(BLOCKED), V(DECLINED), V(WAITING_ON_DEPENDENCIES) or V(PENDING) (a bound hit).
  type: str
  returned: always
wait_ended:
  description: >-
    Why the wait ended - V(finished), V(blocked), V(declined), V(waiting_on_dependencies),
    V(stalled) (pending, nothing ahead, no runner), V(queue_timeout), V(timeout) (ran too long) or
    V(not_found) (no build appeared).
  type: str
  returned: always
queue:
  description: >-
    What the build waited behind while queued - C(seconds), C(behind) (build numbers ahead when last
    seen queued) and C(note), e.g. C(queued behind build #12 for 8 s) (empty when it never queued).
  type: dict
  returned: always
lies:
  description: Sentences where Drone's record of the build contradicts itself (empty when consistent).
  type: list
  elements: str
  returned: always
build_number:
  description: The build waited for; null when none appeared before the timeout.
  type: int
  returned: always
build_url:
  description: Its Drone page.
  type: str
  returned: always
build_status:
  description: Drone's status of the build when the wait ended.
  type: str
  returned: always
sha:
  description: The recipe commit the build tested (its C(REF) param, or the PR head).
  type: str
  returned: always
pr:
  description: The recipe repo and PR number (from the options or the build's params).
  type: dict
  returned: always
durations:
  description: Timings.
  type: dict
  returned: always
  contains:
    build_seconds: {description: "Run time of the build (so far, when not finished).", type: float}
    waited_seconds: {description: "Time this task waited.", type: float}
    polls: {description: "Looks at the build.", type: int}
surfaces:
  description: >-
    Both result surfaces, from the module_utils result_surfaces: C(status) and C(comment) (each with
    C(present), C(verdict) and details), C(present) (names of those that exist), C(verdict) (what the
    surfaces say together), C(agree), C(findings). Null when the PR is unknown.
  type: dict
  returned: always
agree:
  description: Both surfaces exist, agree with each other and (for a finished build) with Drone.
  type: bool
  returned: always
findings:
  description: Sentences for the report, for example C(status surface missing...).
  type: list
  elements: str
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import HAS_HTTPX, HTTPX_IMPORT_ERROR, ApiError
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import (
    WaitLimits, build_lies, build_seconds, build_waiter, drone_argument_spec, drone_from_module, verdict_of,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import gitea_argument_spec, gitea_from_module
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.result_surfaces import (
    build_params, read_surfaces, settled,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span


def _wait_state(build, info):
    """What a progress line says of a build: queued behind which build, else its status."""
    behind = (info.get("queue") or {}).get("behind") or []
    return f"queued behind build #{behind[0]}" if behind and not build.get("started") else build.get("status")


def find_pr_build(drone, ci_repo, repo, number, sha, deadline, interval, clock=None, sleep=None):
    """The newest build for this PR head; waits for one to appear until ``deadline``."""
    clock, sleep = clock or time.time, sleep or time.sleep
    want = build_params(repo, number, sha)
    while True:
        builds = drone.find_builds(ci_repo, want)
        if builds:
            return max(builds, key=lambda b: b.get("number") or 0)
        if clock() >= deadline:
            return None
        sleep(max(0.0, min(interval, deadline - clock())))


def run(module, gitea, drone, clock=None, sleep=None):
    clock, sleep = clock or time.time, sleep or time.sleep
    p = module.params
    ci_repo, context = p["ci_repo"], p["context"]
    start = clock()
    deadline = start + p["timeout"]
    repo, number, sha = p["repo"], p["number"], p["sha"]
    findings = []
    build = None
    if p["build"] is not None:
        build = drone.get_build(ci_repo, p["build"])
        params = build.get("params") or {}
        repo = repo or params.get("REPO")
        number = number or (int(params["PR"]) if str(params.get("PR", "")).isdigit() else None)
        sha = sha or params.get("REF")
    else:
        if not sha:
            sha = (gitea.get_pr(repo, number).get("head") or {}).get("sha")
        with Span("bridge", f"a build for {repo}#{number} at {str(sha)[:10]}", fired=True):
            build = find_pr_build(drone, ci_repo, repo, number, sha, deadline, p["poll_interval"], clock, sleep)
        if build is None:
            findings.append(f"no Drone build on {ci_repo} for {repo}#{number} at {str(sha)[:10]} "
                            f"within {p['timeout']:.0f} s")

    polls = 0
    finished = False
    ended, queue = "not_found", {"seconds": 0.0, "behind": [], "note": ""}
    if build is not None:
        limits = WaitLimits(p["timeout"], p["queue_timeout"], p["stall_timeout"])
        with Span("build", f"build #{build.get('number')}", build=build.get("number")) as span:
            waiter = build_waiter(drone, ci_repo, build.get("number"), limits=limits,
                                  base_interval=p["poll_interval"], clock=clock, sleep=sleep,
                                  progress=lambda b, info: info["done"] or span.state(_wait_state(b, info)))
            build, finished = waiter.wait()
            span.set(status=(build or {}).get("status"))
        polls, ended, queue = waiter.polls, waiter.ended, waiter.queue
        if waiter.reason:
            findings.append(waiter.reason)
    status = (build or {}).get("status")
    verdict = verdict_of(status) if finished or ended in ("blocked", "declined", "waiting_on_dependencies") \
        else "PENDING"
    build_url = drone.build_url(ci_repo, build["number"]) if build else None
    lies = build_lies(build or {})

    surfaces = None
    agree = False
    if repo and number and sha:
        surface_deadline = clock() + (p["surface_wait"] if finished else 0)
        with Span("bridge", f"the result of build #{(build or {}).get('number')} on {repo}#{number}", result=True):
            while True:
                surfaces = read_surfaces(gitea, repo, number, sha, build_url=build_url, context=context)
                if not finished or settled(surfaces, verdict) or clock() >= surface_deadline:
                    break
                sleep(max(0.0, min(2.0, surface_deadline - clock())))
        findings.extend(surfaces["findings"])
        agree = bool(surfaces["agree"])
        if finished:
            for name in surfaces["present"]:
                said = surfaces[name]["verdict"]
                if said != verdict:
                    agree = False
                    findings.append(f"the {'cc-ci/testme status' if name == 'status' else 'bridge comment'} says "
                                    f"{said} but Drone build #{build['number']} ended {status}")
    elif build is not None:
        findings.append(f"build #{build.get('number')} carries no REPO/PR/REF params: result surfaces not read")

    run_seconds = build_seconds(build or {})
    if run_seconds is None and build and build.get("started"):
        run_seconds = max(0.0, clock() - build["started"])
    return dict(
        changed=False,
        verdict=verdict,
        wait_ended=ended,
        queue={k: v for k, v in queue.items() if k != "done"},
        lies=lies,
        build_number=(build or {}).get("number"),
        build_url=build_url,
        build_status=status,
        sha=sha,
        pr={"repo": repo, "number": number},
        durations={"build_seconds": run_seconds, "waited_seconds": round(clock() - start, 2), "polls": polls},
        surfaces=surfaces,
        agree=agree,
        findings=findings,
    )


def main():
    argument_spec = gitea_argument_spec()
    argument_spec.update(drone_argument_spec())
    argument_spec.update(
        ci_repo=dict(type="str", default="recipe-maintainers/cc-ci"),
        build=dict(type="int"),
        repo=dict(type="str"),
        number=dict(type="int"),
        sha=dict(type="str"),
        timeout=dict(type="float", default=1800.0),
        queue_timeout=dict(type="float"),
        stall_timeout=dict(type="float"),
        surface_wait=dict(type="float", default=60.0),
        poll_interval=dict(type="float", default=5.0),
        context=dict(type="str", default="cc-ci/testme"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=[("build", "number")],
        required_by={"number": ("repo",)},
        supports_check_mode=True,
    )
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        with gitea_from_module(module) as gitea, drone_from_module(module) as drone:
            result = run(module, gitea, drone)
    except ApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, url=exc.url)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
