#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: testme_helper
short_description: Run the box's testme-on-pr.sh as a black box and read its verdict
version_added: 0.1.0
description:
  - Runs C(<helper> <recipe> <pr>) with C(POST), C(MAX_WAIT) and C(INTERVAL) in its environment and
    parses the C(VERDICT=GREEN|RED|PENDING) and C(BUILD=<url>|?) lines it prints (the last of each
    wins). The exit code is returned but not trusted for the verdict.
  - The helper is a black box. This module only runs it and reports what it printed, with the wall
    clock times around the run, so a check can compare them with the comment and build times it
    reads itself.
  - Values in O(env) whose key looks secret (contains C(TOKEN), C(SECRET), C(PASSWORD) or C(KEY))
    are masked in everything the module returns.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  helper:
    description:
      - Path of C(testme-on-pr.sh), e.g. C(<ccci_root>/.claude/skills/recipe-upgrade/testme-on-pr.sh)
        (the variable C(ccci_testme_helper)).
    type: path
    required: true
  recipe:
    description: The recipe name (its mirror is C(<MIRROR_ORG>/<recipe>)).
    type: str
    required: true
  pr:
    description: The recipe PR number.
    type: int
    required: true
  post:
    description:
      - V(true) sets C(POST=1) (post one C(!testme), then poll); V(false) sets C(POST=0) (poll only).
    type: bool
    default: true
  max_wait:
    description: C(MAX_WAIT) for the helper, in seconds.
    type: int
    default: 1800
  interval:
    description: C(INTERVAL) for the helper, in seconds.
    type: int
    default: 5
  env:
    description:
      - More environment for the helper, e.g. C(GITEA_URL), C(GITEA_TOKEN), C(MIRROR_ORG).
      - O(post), O(max_wait) and O(interval) win over the same keys here.
    type: dict
    default: {}
  chdir:
    description: Working directory for the helper.
    type: path
  timeout:
    description: Kill the helper after this many seconds. Default O(max_wait) + 120.
    type: int
  watch:
    description:
      - Stop the helper once what it waits for has provably not come, instead of at C(MAX_WAIT) - the
        build it waits on (with O(post), the one its own C(!testme) started; else also any build of
        O(watch.sha)) was seen ended C(grace) seconds ago and the helper still polls. RV(stopped) says so.
      - Read from Drone's build list every O(interval) seconds (at least one); a failed read never stops it.
    type: dict
    suboptions:
      drone_url:
        description: Drone's URL, as the box reaches it.
        type: str
        required: true
      drone_token:
        description: A Drone token that reads O(watch.ci_repo).
        type: str
        required: true
      ci_repo:
        description: The repo the bridge's builds run on.
        type: str
        default: recipe-maintainers/cc-ci
      repo:
        description: The recipe mirror, C(owner/name) (the builds' C(REPO) param).
        type: str
        required: true
      sha:
        description: The PR head the helper reads (without O(post), builds of this C(REF) count).
        type: str
      grace:
        description: Seconds the bridge has after a build's end to post its status (two polls plus its slack).
        type: float
        required: true
attributes:
  check_mode:
    support: full
    details: In check mode the helper is not run (it may post a comment); C(changed) is O(post).
  diff_mode:
    support: none
notes:
  - The helper's exit codes are not part of its contract (FACTS.md); only the printed lines are.
"""

EXAMPLES = r"""
- name: Post !testme once and wait for the verdict
  coopcloud.cc_ci.testme_helper:
    helper: "{{ ccci_testme_helper }}"
    recipe: custom-html-tiny
    pr: "{{ _pr.number }}"
    post: true
    max_wait: 600
    interval: 5
    env:
      GITEA_URL: "{{ ccci_gitea_url }}"
      GITEA_TOKEN: "{{ ccci_gitea_token }}"
      MIRROR_ORG: "{{ ccci_mirror_org }}"
  register: _v2_green

- name: Poll only (must not post another !testme)
  coopcloud.cc_ci.testme_helper:
    helper: "{{ ccci_testme_helper }}"
    recipe: custom-html-tiny
    pr: "{{ _pr.number }}"
    post: false
    max_wait: 0
  register: _v2_poll
"""

RETURN = r"""
verdict:
  description: C(GREEN), C(RED), C(PENDING), or C(UNKNOWN) when no valid C(VERDICT=) line was printed.
  type: str
  returned: success
  sample: GREEN
build_url:
  description: The C(BUILD=) URL; null when the helper printed C(BUILD=?) or nothing.
  type: str
  returned: success
  sample: http://127.0.0.1:8080/recipe-maintainers/cc-ci/7
rc:
  description: The helper's exit code.
  type: int
  returned: success
stdout:
  description: What the helper printed on stdout.
  type: str
  returned: success
stderr:
  description: What the helper printed on stderr.
  type: str
  returned: success
seconds:
  description: How long the helper ran.
  type: float
  returned: success
started:
  description: Unix time just before the helper started.
  type: float
  returned: success
finished:
  description: Unix time just after it ended.
  type: float
  returned: success
stopped:
  description: Why the helper was stopped before it ended itself (O(watch)); null when it ended itself.
  type: str
  returned: success
cmd:
  description: The command that ran.
  type: list
  elements: str
  returned: success
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import (
    CliError,
    CliRunner,
    last_line,
    parse_verdict,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.helper_watch import BuildWatch, drone_builds
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import secret_values
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span


class HelperScript(CliRunner):
    binary_name = "testme-on-pr.sh"
    path_option = "ccci_testme_helper (option helper)"


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            helper=dict(type="path", required=True),
            recipe=dict(type="str", required=True),
            pr=dict(type="int", required=True),
            post=dict(type="bool", default=True),
            max_wait=dict(type="int", default=1800),
            interval=dict(type="int", default=5),
            env=dict(type="dict", default={}, no_log=False),
            chdir=dict(type="path"),
            timeout=dict(type="int"),
            watch=dict(type="dict", options=dict(
                drone_url=dict(type="str", required=True),
                drone_token=dict(type="str", required=True, no_log=True),
                ci_repo=dict(type="str", default="recipe-maintainers/cc-ci"),
                repo=dict(type="str", required=True),
                sha=dict(type="str"),
                grace=dict(type="float", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    p = module.params
    env = {str(k): str(v) for k, v in (p["env"] or {}).items()}
    module.no_log_values.update(secret_values(env))
    env.update(POST="1" if p["post"] else "0", MAX_WAIT=str(p["max_wait"]), INTERVAL=str(p["interval"]))

    try:
        helper = HelperScript(path=p["helper"], env=env, cwd=p["chdir"])
    except CliError as exc:
        module.fail_json(msg=str(exc))
    args = [p["recipe"], str(p["pr"])]
    cmd = helper.command(args)
    if module.check_mode:
        module.exit_json(changed=p["post"], cmd=cmd, msg="check mode: the helper was not run")

    timeout = p["timeout"] if p["timeout"] is not None else p["max_wait"] + 120
    started = time.time()
    t0 = time.monotonic()
    try:
        with Span("helper", f"testme-on-pr.sh {p['recipe']} #{p['pr']} (POST={int(p['post'])})",
                  recipe=p["recipe"], post=p["post"]):
            watch = p["watch"]
            if watch:
                look = BuildWatch(drone_builds(watch["drone_url"], watch["drone_token"], watch["ci_repo"]),
                                  repo=watch["repo"], pr=p["pr"], post=p["post"], sha=watch["sha"],
                                  grace=watch["grace"]).look
                rc, out, err, stopped = helper.run_watched(args, look, max(1, p["interval"]), timeout=timeout)
            else:
                (rc, out, err), stopped = helper.run(args, timeout=timeout), None
    except CliError as exc:
        module.fail_json(msg=str(exc), cmd=cmd, started=started, stdout=exc.out, stderr=exc.err)
    finished = time.time()
    verdict, build_url = parse_verdict(out)
    result = dict(
        changed=p["post"],
        verdict=verdict,
        build_url=build_url,
        rc=rc,
        stdout=out,
        stderr=err,
        seconds=round(time.monotonic() - t0, 3),
        started=started,
        finished=finished,
        cmd=cmd,
        stopped=stopped,
    )
    if verdict == "UNKNOWN" and not stopped:
        reason = last_line(err) or last_line(out) or "no output"
        module.fail_json(msg=f"testme helper printed no VERDICT line (rc {rc}): {reason}", **result)
    # A RED or PENDING verdict exits non-zero by design: a result, not a module failure.
    module.exit_json(failed=False, **result)


if __name__ == "__main__":
    main()
