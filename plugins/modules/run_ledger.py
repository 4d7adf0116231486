#!/usr/bin/python
# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: run_ledger
short_description: Record a resource in the run's on-disk ledger before creating it
version_added: 0.1.0
description:
  - The ledger is a JSON-lines file. Each line is one entry (the fields of O(entry), plus C(time)
    and C(created_by)), appended and flushed to disk before the caller creates the resource, so a
    cleanup after a crash still finds it.
  - With O(state=present) an entry is appended unless an identical entry that is not done is
    already there (then C(changed) is V(false)).
  - With O(state=absent) every open entry whose fields include all of O(match) is marked done, by
    appending a C(kind=ledger_done) line (the file is only ever appended to).
  - With O(state=read) the entries are returned, each with C(done).
author: coopcloud.cc_ci developers (@recipe-maintainers)
options:
  path:
    description: The ledger file (the variable C(ccci_ledger)); created with its folder when missing.
    type: path
    required: true
  state:
    description: V(present) appends, V(absent) marks done, V(read) reads.
    type: str
    choices: [present, absent, read]
    default: present
  entry:
    description: "The resource, e.g. C({kind: pr, repo: recipe-maintainers/custom-html-tiny, ref: ccci/v3})."
    type: dict
  match:
    description:
      - Fields an entry must have (equal values) to be marked done (O(state=absent)) or returned
        (O(state=read)).
    type: dict
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Reports what would be appended or marked; writes nothing.
"""

EXAMPLES = r"""
- name: Record the scratch branch before creating it
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    entry:
      kind: branch
      repo: "{{ ccci_upstream_org }}/custom-html-tiny"
      ref: ccci/v4-regression
  delegate_to: localhost

- name: The deploys still open
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    state: read
    match: {kind: deploy}
  register: _ledger

- name: Mark a torn-down deploy done
  coopcloud.cc_ci.run_ledger:
    path: "{{ ccci_ledger }}"
    state: absent
    match: {kind: deploy, domain: custom-html-tiny-3.lab.local}
"""

RETURN = r"""
entry:
  description: The line appended (or the open entry already there).
  type: dict
  returned: when state=present
entries:
  description: The ledger's entries (done markers left out), each with C(done) (bool).
  type: list
  elements: dict
  returned: when state=read
open:
  description: The entries that are not done.
  type: list
  elements: dict
  returned: when state=read
matched:
  description: The open entries marked done.
  type: list
  elements: dict
  returned: when state=absent
"""

import datetime
import fcntl
import json
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DONE = "ledger_done"
META = ("time", "created_by")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read(path: str) -> list[dict[str, Any]]:
    """Entries with ``done``; lines cut short by a kill are skipped."""
    lines: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for raw in fh:
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    lines.append(data)
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for data in lines:
        if data.get("kind") == DONE:
            match = data.get("match") or {}
            for entry in entries:
                if not entry["done"] and matches(entry, match):
                    entry["done"] = True
        else:
            entries.append(dict(data, done=False))
    return entries


def matches(entry: dict[str, Any], match: dict[str, Any] | None) -> bool:
    return all(entry.get(k) == v for k, v in (match or {}).items())


def append(path: str, record: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _same(entry: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return {k: v for k, v in entry.items() if k not in (*META, "done")} == wanted


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent", "read"], default="present"),
            entry=dict(type="dict"),
            match=dict(type="dict"),
        ),
        required_if=[("state", "present", ("entry",)), ("state", "absent", ("match",))],
        supports_check_mode=True,
    )
    p = module.params
    path = p["path"]
    try:
        entries = read(path)
        if p["state"] == "read":
            chosen = [e for e in entries if matches(e, p["match"])]
            module.exit_json(changed=False, entries=chosen, open=[e for e in chosen if not e["done"]])
        if p["state"] == "absent":
            matched = [e for e in entries if not e["done"] and matches(e, p["match"])]
            if matched and not module.check_mode:
                append(path, {"kind": DONE, "match": p["match"], "time": _now(), "created_by": "ccci"})
            module.exit_json(changed=bool(matched), matched=matched)
        wanted = json.loads(json.dumps(p["entry"]))  # plain JSON types, as read back
        if wanted.get("kind") == DONE:
            module.fail_json(msg=f"kind {DONE} is reserved for done markers: use state=absent")
        for entry in entries:
            if not entry["done"] and _same(entry, wanted):
                module.exit_json(changed=False, entry=entry)
        record = dict(wanted)
        record.setdefault("created_by", "ccci")
        record["time"] = _now()
        if not module.check_mode:
            append(path, record)
        module.exit_json(changed=True, entry=record)
    except OSError as exc:
        module.fail_json(msg=f"ledger {path}: {exc.strerror or exc}: check the path (ccci_ledger)")


if __name__ == "__main__":
    main()
