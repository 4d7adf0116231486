#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: agent_skill
short_description: Run a skill through the agent command and read its RESULT line
version_added: 0.1.0
description:
  - Runs C(<agent_cmd> -p "<skill> <args...>") in O(chdir), streams everything it prints into the
    O(transcript) file (kept, also after a timeout) and parses the last C(RESULT:) line.
  - The RESULT is reported, not believed. A check compares it with what it reads itself (PRs,
    statuses, comments, builds).
  - Values in O(env) whose key looks secret (contains C(TOKEN), C(SECRET), C(PASSWORD) or C(KEY))
    are masked in everything the module returns.
  - Fails when the agent command is missing, on timeout, and when no C(RESULT:) line was printed.
    A non-zero exit code with a RESULT line is returned, not failed.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  agent_cmd:
    description:
      - The agent command (the variable C(ccci_agent_cmd)), a name looked up on C(PATH) or a path.
        It may carry arguments (split like a shell would), e.g. C(claude --verbose).
    type: str
    default: claude
  skill:
    description: The skill to run, e.g. C(/recipe-upgrade) or C(/upgrade-all).
    type: str
    required: true
  args:
    description: Arguments for the skill, joined after it with spaces.
    type: list
    elements: str
    default: []
  chdir:
    description: Working directory, normally C(ccci_root) (where the skills live).
    type: path
  env:
    description: More environment for the agent.
    type: dict
    default: {}
  timeout:
    description: Kill the agent (its whole process group) after this many seconds.
    type: int
    default: 3600
  transcript:
    description:
      - File to write the transcript to (replaced). Default a new file in the temp directory.
    type: path
attributes:
  check_mode:
    support: full
    details: In check mode nothing runs; C(changed) is V(true) (a skill run changes the world).
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Run /recipe-upgrade in default mode on the sandbox recipe
  coopcloud.cc_ci.agent_skill:
    agent_cmd: "{{ ccci_agent_cmd }}"
    skill: /recipe-upgrade
    args: [custom-html-tiny]
    chdir: "{{ ccci_root }}"
    timeout: 3600
    transcript: "{{ ccci_report_dir }}/transcripts/v3-recipe-upgrade.log"
  register: _v3_run

- name: The same with test updates allowed
  coopcloud.cc_ci.agent_skill:
    skill: /recipe-upgrade
    args: [custom-html, --with-tests]
    chdir: "{{ ccci_root }}"
    env:
      GITEA_TOKEN: "{{ ccci_gitea_token }}"
  register: _v6_run
"""

RETURN = r"""
result_line:
  description: The last C(RESULT:) line, as printed.
  type: str
  returned: success
  sample: "RESULT: FAILED — upgrade not green after 3 !testme runs"
result:
  description:
    - C(SUCCESS), C(SUCCESS-PENDING-TESTS), C(SUCCESS+TESTPR), C(FAILED), or the raw text after
      C(RESULT:) when it is none of these.
  type: str
  returned: success
  sample: SUCCESS-PENDING-TESTS
result_detail:
  description: The text after the result word, e.g. C(— upgrade not green after 3 !testme runs).
  type: str
  returned: success
rc:
  description: The agent's exit code.
  type: int
  returned: success
seconds:
  description: How long the agent ran.
  type: float
  returned: always
started:
  description: Unix time just before the agent started.
  type: float
  returned: always
finished:
  description: Unix time just after it ended.
  type: float
  returned: success
transcript:
  description: Path of the transcript file.
  type: str
  returned: always
reported_runs:
  description:
    - Each C(VERDICT=... BUILD=...) line the agent echoed from C(testme-on-pr.sh), in order
      (C(build) is null for C(BUILD=?)); what the skill said each C(!testme) run gave.
  type: list
  elements: dict
  returned: success
  sample: [{verdict: RED, build: "http://127.0.0.1:8080/recipe-maintainers/cc-ci/7"}]
stdout_tail:
  description: The last 40 lines of the transcript.
  type: str
  returned: always
cmd:
  description: The command that ran.
  type: list
  elements: str
  returned: always
"""

import os
import re
import shlex
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cli import (
    CliError,
    CliRunner,
    CliTimeout,
    parse_reported_runs,
    parse_result,
)
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import secret_values
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import Span

TAIL_LINES = 40


class Agent(CliRunner):
    binary_name = ""
    path_option = "ccci_agent_cmd"

    def not_found_message(self, wanted: str) -> str:
        where = f"at {wanted}" if os.sep in wanted else "on PATH"
        return f"agent command '{wanted}' not found {where}: set ccci_agent_cmd"


def _tail(path: str, lines: int = TAIL_LINES) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            agent_cmd=dict(type="str", default="claude"),
            skill=dict(type="str", required=True),
            args=dict(type="list", elements="str", default=[]),
            chdir=dict(type="path"),
            env=dict(type="dict", default={}, no_log=False),
            timeout=dict(type="int", default=3600),
            transcript=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    env = {str(k): str(v) for k, v in (p["env"] or {}).items()}
    module.no_log_values.update(secret_values(env))

    words = shlex.split(p["agent_cmd"] or "")
    if not words:
        module.fail_json(msg="agent command is empty: set ccci_agent_cmd")
    if p["chdir"] and not os.path.isdir(p["chdir"]):
        module.fail_json(msg=f"chdir {p['chdir']} is not a directory: set ccci_root")
    try:
        agent = Agent(path=words[0], env=env, cwd=p["chdir"], base_args=words[1:], timeout=p["timeout"])
    except CliError as exc:
        module.fail_json(msg=str(exc))
    prompt = " ".join([p["skill"], *p["args"]])
    args = ["-p", prompt]
    cmd = agent.command(args)

    transcript = p["transcript"]
    if not transcript:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", p["skill"]).strip("-") or "skill"
        fd, transcript = tempfile.mkstemp(prefix=f"agent-{slug}-{time.strftime('%Y%m%dT%H%M%S')}-", suffix=".log")
        os.close(fd)
        if module.check_mode:
            os.unlink(transcript)

    started = time.time()
    if module.check_mode:
        module.exit_json(changed=True, cmd=cmd, transcript=transcript, started=started, seconds=0.0,
                         stdout_tail="", msg="check mode: the agent was not run")

    t0 = time.monotonic()
    try:
        with Span("agent", f"the agent: {prompt}"):
            rc = agent.run_to_file(args, transcript)
    except CliError as exc:
        if isinstance(exc, CliTimeout):
            msg = f"agent skill {prompt} timed out after {p['timeout']}s; transcript: {transcript}"
        else:
            msg = f"agent skill {prompt}: {exc}"
        module.fail_json(
            msg=msg,
            changed=True,
            cmd=cmd,
            transcript=transcript,
            started=started,
            seconds=round(time.monotonic() - t0, 3),
            stdout_tail=_tail(transcript),
        )
    seconds = round(time.monotonic() - t0, 3)
    finished = time.time()
    try:
        with open(transcript, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        module.fail_json(msg=f"cannot read transcript {transcript}: {exc.strerror}", changed=True)
    result_line, result, detail = parse_result(text)
    reported_runs = parse_reported_runs(text)
    out = dict(
        changed=True,
        cmd=cmd,
        rc=rc,
        seconds=seconds,
        started=started,
        finished=finished,
        transcript=transcript,
        stdout_tail=_tail(transcript),
        result_line=result_line,
        result=result,
        result_detail=detail,
        reported_runs=reported_runs,
    )
    if result_line is None:
        module.fail_json(msg=f"agent printed no RESULT line for {prompt} (rc {rc}); transcript: {transcript}", **out)
    # The agent may exit non-zero with a RESULT line (FAILED): that is evidence, not a module failure.
    module.exit_json(failed=False, **out)


if __name__ == "__main__":
    main()
