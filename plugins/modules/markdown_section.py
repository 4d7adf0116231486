#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: markdown_section
short_description: Replace one section of a Markdown file in place
version_added: 0.1.0
description:
  - Finds the sections of O(path) whose heading has O(level) C(#) signs and whose text matches O(heading)
    (headings inside fenced code blocks do not count). A section is its heading and everything up to the
    next heading of the same or a higher level.
  - The first such section is replaced by O(content); any later one is removed, so exactly one remains.
    With none, O(content) is appended at the end. Every other line stays as it was.
  - Lines matching O(strip_lines) (markers an earlier tool left) are removed wherever they are.
  - RV(remaining) lists the lines that still contain any of O(forbid) afterwards (a superseded
    schedule mentioned elsewhere), for the caller to judge.
author: coopcloud.cc_ci developers (@coopcloud)
extends_documentation_fragment:
  - coopcloud.cc_ci.attributes
  - coopcloud.cc_ci.attributes.platform
options:
  path:
    description: The Markdown file.
    type: path
    required: true
  heading:
    description: A regular expression the heading's text must match (searched from its start).
    type: str
    required: true
  level:
    description: The heading level (number of C(#)).
    type: int
    default: 2
  content:
    description: The new section, its heading line included.
    type: str
    required: true
  create:
    description: Create the file (holding only O(content)) when it does not exist; else a missing file is an error.
    type: bool
    default: false
  mode:
    description: Mode of a file created here.
    type: raw
    default: "0644"
  strip_lines:
    description: Regular expressions; whole lines matching any are removed.
    type: list
    elements: str
    default: []
  forbid:
    description: Strings reported in RV(remaining) when a line still contains one after the update.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The skill's Cron section states the anchored schedule
  coopcloud.cc_ci.markdown_section:
    path: /srv/cc-ci/.claude/skills/upgrade-all/SKILL.md
    heading: Cron\b
    content: "{{ lookup('ansible.builtin.template', 'cron-section.md.j2') }}"
    forbid: [Sat 03:00 UTC]
"""

RETURN = r"""
replaced:
  description: How many sections matched (the first replaced, the others removed); 0 when appended.
  type: int
  returned: always
remaining:
  description: Lines (1-based number and text) that still contain a string of O(forbid).
  type: list
  elements: dict
  returned: always
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(index, level, text) of each heading outside fenced code blocks."""
    found = []
    fence = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence:
            continue
        h = _HEADING.match(line)
        if h:
            found.append((i, len(h.group(1)), h.group(2)))
    return found


def replace_section(text: str, heading: str, level: int, content: str,
                    strip_lines: list[str] | None = None) -> tuple[str, int]:
    """*text* with the matching sections replaced by one *content*; (new text, sections matched)."""
    lines = text.split("\n")
    trailing = text.endswith("\n")
    if trailing:
        lines = lines[:-1]
    strip = [re.compile(p) for p in strip_lines or []]
    lines = [ln for ln in lines if not any(p.search(ln) for p in strip)]
    pattern = re.compile(heading)
    heads = headings(lines)
    spans = []
    for n, (index, lvl, title) in enumerate(heads):
        if lvl == level and pattern.match(title):
            end = next((i for i, lv, _t in heads[n + 1:] if lv <= level), len(lines))
            spans.append((index, end))
    new = content.rstrip("\n").split("\n")
    if not spans:
        while lines and not lines[-1].strip():
            lines.pop()
        out = lines + ([""] if lines else []) + new
        return "\n".join(out) + "\n", 0
    first_start, first_end = spans[0]
    out: list[str] = []
    i = 0
    while i < len(lines):
        span = next((s for s in spans if s[0] == i), None)
        if span is None:
            out.append(lines[i])
            i += 1
            continue
        if span[0] == first_start:
            out.extend(new)
            if first_end < len(lines):
                out.append("")  # a blank line before the next heading
        i = span[1]
    return "\n".join(out) + "\n", len(spans)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            heading=dict(type="str", required=True),
            level=dict(type="int", default=2),
            content=dict(type="str", required=True),
            create=dict(type="bool", default=False),
            mode=dict(type="raw", default="0644"),
            strip_lines=dict(type="list", elements="str", default=[]),
            forbid=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p["path"]
    exists = os.path.exists(path)
    if not exists and not p["create"]:
        module.fail_json(msg=f"{path} does not exist (create=false)")
    try:
        before = ""
        if exists:
            with open(path, encoding="utf-8") as fh:
                before = fh.read()
        for regex in [p["heading"], *p["strip_lines"]]:
            re.compile(regex)
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg=f"cannot read {path}: {exc}")
    except re.error as exc:
        module.fail_json(msg=f"bad regular expression: {exc}")
    if exists:
        after, matched = replace_section(before, p["heading"], p["level"], p["content"], p["strip_lines"])
    else:
        after, matched = p["content"].rstrip("\n") + "\n", 0
    changed = after != before
    if changed and not module.check_mode:
        tmp = f"{path}.ccci-tmp"
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(after)
            if exists:
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            os.replace(tmp, path)
        except OSError as exc:
            module.fail_json(msg=f"cannot write {path}: {exc}")
        if not exists:
            module.set_mode_if_different(path, p["mode"], False)
    remaining = [{"line": n, "text": line} for n, line in enumerate(after.split("\n"), 1)
                 if any(f in line for f in p["forbid"])]
    module.exit_json(changed=changed, replaced=matched, remaining=remaining,
                     diff={"before": before, "after": after, "before_header": path, "after_header": path})


if __name__ == "__main__":
    main()
