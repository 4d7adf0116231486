# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run ledger: one JSON object a line, appended and fsynced *before* the resource it names is
created, so whatever a killed run opened can still be found and closed by the next one.

The only home of the ledger's format. Writers: :func:`append` (``gitea.py``'s modules and
``run_ledger``) and :func:`mark_done`. Readers: :func:`read`, which skips and reports every line
it cannot use (a JSON value that is not an object, bytes that are not UTF-8, a line cut short by a
``kill -9``) instead of failing, so one bad line never stops a sweep. :func:`compact` drops the
lines a clean sweep settled, so the next sweep costs what is open, not what ever existed.

All writers and the compactor take an exclusive ``flock`` on ``<ledger>.lock`` (not on the ledger
itself, which compaction replaces), so an append never lands in a replaced file.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.state import utc_iso

DONE = "ledger_done"
META = ("time", "created_by")


@dataclass
class Ledger:
    """What :func:`read` found: the entries (each with ``done``), the lines it skipped and why,
    and a mark (line count + digest) that :func:`compact` uses to drop exactly these lines."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    lines: int = 0
    digest: str = ""

    @property
    def open(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if not e["done"]]

    @property
    def mark(self) -> dict[str, Any]:
        return {"lines": self.lines, "digest": self.digest}


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(f"{path}.lock", "a", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)


def _write_line(path: str, record: dict[str, Any]) -> None:
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    with _locked(path), open(path, "ab+") as handle:
        if handle.seek(0, os.SEEK_END) > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = b"\n" + line  # the last write was cut short: never glue onto it
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def append(path: str | None, record: dict[str, Any]) -> dict[str, Any] | None:
    """Append one entry (write before create); returns it with ``created_by`` and ``time``."""
    if not path:
        return None
    entry = json.loads(json.dumps(record))  # plain JSON types, as read back
    if entry.get("kind") == DONE:
        raise ValueError(f"kind {DONE} is reserved for done markers")
    entry.setdefault("created_by", "ccci")
    entry.setdefault("time", utc_iso())
    _write_line(path, entry)
    return entry


def mark_done(path: str, match: dict[str, Any]) -> None:
    """Mark every open entry whose fields include all of *match* done (an appended marker line)."""
    _write_line(path, {"kind": DONE, "match": match, "time": utc_iso(), "created_by": "ccci"})


def matches(entry: dict[str, Any], match: dict[str, Any] | None) -> bool:
    return all(entry.get(k) == v for k, v in (match or {}).items())


def same(entry: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """The same resource: equal fields, bookkeeping (time, created_by, done) aside."""
    return {k: v for k, v in entry.items() if k not in (*META, "done")} == wanted


def _parse(raw: bytes, number: int, skipped: list[str]) -> dict[str, Any] | None:
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        skipped.append(f"line {number}: not UTF-8 (byte {exc.start}): skipped")
        return None
    try:
        data = json.loads(text)
    except ValueError:
        cut = "" if raw.endswith(b"\n") else " (cut short, e.g. by kill -9)"
        skipped.append(f"line {number}: not JSON{cut}: skipped")
        return None
    if not isinstance(data, dict):
        skipped.append(f"line {number}: a JSON {type(data).__name__}, not an object: skipped")
        return None
    return data


def read(path: str | None) -> Ledger:
    """The ledger's entries; a missing file is an empty ledger. Never raises on content."""
    ledger = Ledger()
    if not path:
        return ledger
    try:
        with open(path, "rb") as handle:
            raw_lines = handle.readlines()
    except FileNotFoundError:
        return ledger
    digest = hashlib.sha256()
    records = []
    for number, raw in enumerate(raw_lines, start=1):
        digest.update(raw)
        record = _parse(raw, number, ledger.skipped)
        if record is not None:
            records.append(record)
    ledger.lines, ledger.digest = len(raw_lines), digest.hexdigest()
    for record in records:
        if record.get("kind") == DONE:
            for entry in ledger.entries:
                if not entry["done"] and matches(entry, record.get("match")):
                    entry["done"] = True
        else:
            ledger.entries.append(dict(record, done=False))
    return ledger


def compact(path: str, mark: dict[str, Any], keep: list[dict[str, Any]] | None = None) -> bool:
    """Drop the first ``mark['lines']`` lines (a read whose entries are all settled), keeping any
    entries in *keep* and every line appended since. Does nothing (returns False) when those lines
    changed since the read (their digest differs), so a concurrent rewrite is never undone."""
    lines = int(mark.get("lines") or 0)
    if lines <= 0 or not os.path.exists(path):
        return False
    with _locked(path):
        with open(path, "rb") as handle:
            raw_lines = handle.readlines()
        if hashlib.sha256(b"".join(raw_lines[:lines])).hexdigest() != mark.get("digest"):
            return False
        kept = [(json.dumps({k: v for k, v in e.items() if k != "done"}, sort_keys=True) + "\n").encode()
                for e in keep or []]
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            handle.writelines(kept + raw_lines[lines:])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    return True


# run_ledger's options: the module (docs, any target) and its action plugin (in the controller's
# worker, no module process) validate with the same spec and act through apply().
ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", choices=["present", "absent", "read"], default="present"),
    entry=dict(type="dict"),
    match=dict(type="dict"),
)
REQUIRED_IF = [("state", "present", ("entry",)), ("state", "absent", ("match",))]


class Refused(ValueError):
    """An entry the ledger does not take (a reserved kind)."""


def apply(path: str, state: str, entry: dict[str, Any] | None, match: dict[str, Any] | None,
          check_mode: bool) -> tuple[dict[str, Any], list[str]]:
    """What run_ledger does: ``(result, warnings)``. Raises OSError or :class:`Refused`."""
    read_back = read(path)
    warnings = [f"ledger {path}: {note}" for note in read_back.skipped]
    if state == "read":
        chosen = [e for e in read_back.entries if matches(e, match)]
        return dict(changed=False, entries=chosen, open=[e for e in chosen if not e["done"]],
                    skipped=read_back.skipped), warnings
    if state == "absent":
        matched = [e for e in read_back.open if matches(e, match)]
        if matched and not check_mode:
            mark_done(path, match or {})
        return dict(changed=bool(matched), matched=matched), warnings
    wanted = json.loads(json.dumps(entry))  # plain JSON types, as read back
    if wanted.get("kind") == DONE:
        raise Refused(f"kind {DONE} is reserved for done markers: use state=absent")
    for existing in read_back.open:
        if same(existing, wanted):
            return dict(changed=False, entry=existing), warnings
    record = dict(wanted, created_by=wanted.get("created_by", "ccci"), time=utc_iso())
    if not check_mode:
        append(path, record)
    return dict(changed=True, entry=record), warnings
