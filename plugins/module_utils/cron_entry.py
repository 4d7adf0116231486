# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The weekly entry in a crontab: its text block, its command, and the environment cron gives it.

The entry is one marker-delimited block appended to the user's crontab::

    # BEGIN ccci-upgrade-all (managed by coopcloud.cc_ci.completion_cron)
    SHELL=/bin/sh
    PATH=/usr/local/bin:/usr/bin:/bin
    HOME=/home/cc-ci
    5 21 * * 1 mkdir -p ... && { ...; /srv/cc-ci/cc-ci-plan/launch-upgrader.sh start; ...; } >> ... 2>&1 # ccci-upgrade-all anchor=2026-11-23T21:05:00-05:00
    # END ccci-upgrade-all

This runs on the box with the box's own ``python3``, so it uses the standard library only: the
crontab is read and written as raw text through the box's ``crontab`` program (``crontab -u USER``
for another user), and only the block changes, every other byte of the crontab stays as it was.
The job line is ``<5 fields> <command> # <marker comment>`` with ``%`` escaped, the form
python-crontab renders; the controller's action plugin (``plugins/action/completion_cron.py``)
reads the written line back with python-crontab, so a line cron would read otherwise fails the task.

Vixie/Debian cron semantics used here (FACTS.md §5): a ``NAME=value`` line sets the variable for
every later line of the crontab; a value quoted with matching quotes at both ends loses them;
jobs run with ``SHELL=/bin/sh``, ``PATH=/usr/bin:/bin``, ``HOME`` and ``LOGNAME``/``USER`` from the
passwd entry unless the crontab sets them, in the user's HOME, through ``$SHELL -c``.
"""
from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.cron_anchor import MARKER_ID, anchor_from_marker

__all__ = [
    "CRON_DEFAULT_PATH",
    "CrontabError",
    "CrontabIO",
    "Located",
    "block_lines",
    "cron_base_env",
    "effective_env",
    "job_command",
    "job_command_of",
    "job_line",
    "locate",
    "parse_var_line",
    "render_var",
    "splice",
    "run_as_cron",
    "user_kwargs",
]

CRON_DEFAULT_PATH = "/usr/bin:/bin"
CRONTAB_COMMAND = shutil.which("crontab") or "/usr/bin/crontab"


class CrontabError(Exception):
    """Reading or writing the crontab failed; one line naming the fix."""


def begin_line(marker_id: str = MARKER_ID) -> str:
    return f"# BEGIN {marker_id} (managed by coopcloud.cc_ci.completion_cron; edits here are overwritten)"


def end_line(marker_id: str = MARKER_ID) -> str:
    return f"# END {marker_id}"


def render_var(key: str, value: str) -> str:
    """One crontab variable line that Debian cron's ``load_env()`` reads back as exactly ``key`` = ``value``.

    cron takes an unquoted value up to the end of the line; a value opened with a quote runs to the same
    quote, and nothing but blanks may follow it (else the line is not a variable line and ``crontab``
    rejects it as a bad job); then trailing blanks are dropped and, when what is left starts and ends
    with the same quote, that pair too (checked against Debian's cron 3.0pl1-162). There is no escape
    character. So a value that is empty, starts with a blank or starts with a quote is quoted with a
    quote it does not contain; one that contains both quotes, ends with a blank, or starts and ends
    with the same quote cannot be carried and is refused.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise CrontabError(f"variable name {key!r} cannot go into a crontab")
    if "\n" in value or "\r" in value or "\0" in value:
        raise CrontabError(f"the value of {key} contains a newline or NUL, which a crontab line cannot carry")
    if value != value.rstrip(" \t\f\v"):
        raise CrontabError(f"the value of {key} ends with a blank, which Debian cron drops even inside quotes: "
                           "change the value")
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        raise CrontabError(f"the value of {key} starts and ends with the same quote, which Debian cron strips even "
                           "from a quoted value: change the value")
    if value == "" or value != value.lstrip(" \t\f\v") or value[0] in "'\"":
        quote = next((q for q in ('"', "'") if q not in value), None)
        if quote is None:
            raise CrontabError(f"the value of {key} needs quoting in a crontab (it starts with a quote or a blank) "
                               "but contains both quote characters, which cron cannot read back: change the value")
        value = f"{quote}{value}{quote}"
    return f"{key}={value}"


def _quoted_or_word(text: str, stop: str) -> tuple[str, str] | None:
    """(token, rest): a quoted token runs to the same quote; a bare one stops at a blank or *stop*."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return None if end < 0 else (text[1:end], text[end + 1:])
    m = re.match(r"[^\s" + re.escape(stop) + r"]*", text)
    return m.group(0), text[m.end():]


def parse_var_line(line: str) -> tuple[str, str] | None:
    """``(name, value)`` when *line* is a cron variable line, as Debian cron's ``load_env()`` reads it;
    None when it is not (cron then parses it as a job line, and ``crontab`` rejects a bad one)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    name_rest = _quoted_or_word(text, "=")
    if name_rest is None or not name_rest[0]:
        return None
    name, rest = name_rest
    rest = rest.lstrip()
    if not rest.startswith("="):
        return None
    rest = rest[1:].lstrip()
    if not rest:
        return None  # "NAME=" with nothing after it is not a variable line
    if rest[0] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end < 0 or rest[end + 1:].strip():
            return None  # unterminated, or text after the closing quote
        value = rest[1:end]
    else:
        value = rest
    value = value.rstrip(" \t\f\v\r")  # Debian trims trailing blanks, inside quotes too
    if len(value) >= 2 and value[0] in ("'", '"') and value[-1] == value[0]:
        value = value[1:-1]  # and then strips one matching pair of quotes more
    return name, value


def source_prefix(env_files: tuple[str, ...] | list[str] = ()) -> str:
    """Shell that reads the loops unit's EnvironmentFiles into the job's environment (``set -a``: exported),
    so the job gets their values, tokens among them, at each fire rather than copies in the crontab."""
    if not env_files:
        return ""
    return "set -a; " + "".join(f". {shlex.quote(path)}; " for path in env_files) + "set +a; "


def job_command(launcher: str, action: str, log: str, marker_id: str = MARKER_ID,
                env_files: tuple[str, ...] | list[str] = ()) -> str:
    """The job's shell command: a timestamped line, the unit's EnvironmentFiles sourced, the launcher, its exit
    code, all into *log*.

    No ``%`` in it (cron would turn ``%`` into a newline). Times are UTC ISO 8601 seconds.
    """
    q = shlex.quote
    stamp = '"$(date -u -Iseconds)"'
    return (
        f"mkdir -p {q(os.path.dirname(log) or '.')} && {{ echo {stamp} {q(marker_id + ' ' + action + ': fired')}; "
        f"{source_prefix(env_files)}{q(launcher)} {action}; echo {stamp} {q(marker_id + ' ' + action + ': exit')} $?; }}"
        f" >> {q(log)} 2>&1"
    )


def sourced_files(command: str) -> list[str]:
    """The EnvironmentFiles a job command written by :func:`job_command` sources (the inverse of :func:`source_prefix`)."""
    m = re.search(r"; set -a; (.*?)set \+a; ", command)
    if not m:
        return []
    return [shlex.split(part.strip()[2:])[0] for part in m.group(1).split("; ") if part.strip().startswith(". ")]


# A line the job's sh reads exactly as systemd does: NAME=value with nothing sh would expand, split or unquote
# differently (a file with any other line keeps its values in the crontab instead).
_SHELL_SAFE_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=(?:[A-Za-z0-9_./:@+,=~-]*|'[^'\n]*')$")


def shell_safe_env_file(text: str) -> bool:
    """Whether ``. file`` in sh gives each variable the value systemd's EnvironmentFile= parser gives it."""
    return all(not line.strip() or line.lstrip().startswith(("#", ";")) or _SHELL_SAFE_LINE.match(line.strip())
               for line in text.splitlines())


SCHEDULE_FIELD = re.compile(r"[0-9*][0-9*,/-]*")
ESCAPED_PERCENT = "\\%"  # cron reads a bare % as a newline, and \% as %


def job_line(schedule: str, command: str, comment: str) -> str:
    """The crontab line for the job: five schedule fields, the command (``%`` escaped, which cron would
    turn into a newline), the marker comment."""
    fields = schedule.split()
    if len(fields) != 5 or not all(SCHEDULE_FIELD.fullmatch(f) for f in fields):
        raise CrontabError(f"invalid schedule {schedule!r}")
    if "\n" in command or "\n" in comment:
        raise CrontabError("a crontab job line cannot carry a newline")
    return f"{' '.join(fields)} {command.replace('%', ESCAPED_PERCENT)} # {comment}"


def job_command_of(line: str, marker_id: str = MARKER_ID) -> str:
    """The command of our job line (the inverse of :func:`job_line`): what cron hands to ``$SHELL -c``,
    without the schedule fields and the marker comment, ``\\%`` read back as ``%``."""
    m = re.match(r"\s*(?:@\w+|(?:[^@#\s]+\s+){4}[^@#\s]+)\s+(.*?)\s+#\s*" + re.escape(marker_id) + r"(?:\s.*)?$", line)
    if not m:
        raise CrontabError(f"cannot parse the {marker_id} job line")
    return m.group(1).replace(ESCAPED_PERCENT, "%").strip()


def block_lines(env: Mapping[str, str], schedule: str, command: str, comment: str,
                marker_id: str = MARKER_ID) -> list[str]:
    """The managed block: BEGIN, the variable lines, the job line, END."""
    return [begin_line(marker_id), *(render_var(k, v) for k, v in env.items()),
            job_line(schedule, command, comment), end_line(marker_id)]


@dataclass
class Located:
    """Where the entry sits in a crontab's lines, and what was wrong with its markers."""

    job_indexes: list[int] = field(default_factory=list)
    #: (first, last) line ranges that belong to the entry: BEGIN..END blocks, repaired ones, stray markers.
    regions: list[tuple[int, int]] = field(default_factory=list)
    comment: str | None = None  # the marker comment of the (first) job line
    notes: list[str] = field(default_factory=list)
    foreign_blocks: int = 0  # blocks whose job line names another cc-ci root (left alone)

    @property
    def found(self) -> bool:
        return bool(self.job_indexes) or bool(self.regions)

    @property
    def block(self) -> tuple[int, int] | None:
        return self.regions[0] if self.regions else None

    @property
    def anchor(self):
        return anchor_from_marker(self.comment, MARKER_ID) if self.comment else None


def _job_comment(line: str, marker_id: str) -> str | None:
    if line.lstrip().startswith("#"):
        return None
    m = re.search(r"\s#\s*(" + re.escape(marker_id) + r"(?:\s.*)?)$", line)
    return m.group(1).strip() if m else None


def _is_begin(line: str, marker_id: str) -> bool:
    return line.startswith(f"# BEGIN {marker_id}")


def _is_end(line: str, marker_id: str) -> bool:
    return line.strip() == end_line(marker_id)


def locate(lines: list[str], marker_id: str = MARKER_ID, owner: str | None = None) -> Located:
    """Find the entry: its job lines (comment starting with the marker id) and its marker blocks.

    Damaged markers are repaired, each with a note: a BEGIN without END ends at its job line (or is
    the BEGIN line alone when no job line follows); an END with no BEGIN before it is a stray line; a
    second block is part of the entry too. A job line outside any block (hand-edited) is the entry's
    only line there: the variable lines above it are the user's.

    With *owner* (this box's cc-ci root, as the job line names it), a job line that does not contain it
    is another root's entry: it and its block are left alone, as lines outside the entry.
    """
    found = Located()
    jobs, foreign = [], []
    for i, line in enumerate(lines):
        comment = _job_comment(line, marker_id)
        if comment is not None and (comment == marker_id or comment.startswith(marker_id + " ")):
            if owner is not None and owner not in line:
                foreign.append(i)
                continue
            jobs.append(i)
            found.comment = found.comment or comment
    found.job_indexes = jobs
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_begin(line, marker_id):
            nxt = next((j for j in range(i + 1, len(lines))
                        if _is_begin(lines[j], marker_id) or _is_end(lines[j], marker_id)), None)
            limit = nxt if nxt is not None else len(lines)
            if any(i < j < limit for j in foreign) and not any(i < j < limit for j in jobs):
                found.foreign_blocks += 1  # another root's block: not ours to touch
                i = nxt + 1 if nxt is not None and _is_end(lines[nxt], marker_id) else limit
                continue
            if nxt is not None and _is_end(lines[nxt], marker_id):
                found.regions.append((i, nxt))
                i = nxt + 1
                continue
            job = next((j for j in jobs if i < j < limit), None)
            if job is not None:
                found.regions.append((i, job))
                found.notes.append(f"repaired the crontab: the {marker_id} block at line {i + 1} had no END marker; "
                                   f"it was taken to end at its job line (line {job + 1})")
                i = job + 1
            else:
                found.regions.append((i, i))
                found.notes.append(f"repaired the crontab: removed a {marker_id} BEGIN marker with no END and no "
                                   f"job line (line {i + 1})")
                i += 1
            continue
        if _is_end(line, marker_id):
            found.regions.append((i, i))
            found.notes.append(f"repaired the crontab: removed a stray {marker_id} END marker with no BEGIN "
                               f"before it (line {i + 1})")
        i += 1
    blocks = [r for r in found.regions if r[1] > r[0]]
    if len(blocks) > 1:
        found.notes.append(f"repaired the crontab: {len(blocks)} {marker_id} blocks were found; they are "
                           "replaced by one")
    stray_jobs = [j for j in jobs if not any(a <= j <= b for a, b in found.regions)]
    if stray_jobs and found.regions:
        found.notes.append(f"repaired the crontab: {len(stray_jobs)} {marker_id} job line(s) outside the block "
                           "were removed")
    elif len(stray_jobs) > 1:
        found.notes.append(f"repaired the crontab: {len(stray_jobs)} {marker_id} job lines were found; one entry "
                           "is kept")
    return found


def splice(text: str, new_block: list[str] | None, marker_id: str = MARKER_ID, owner: str | None = None) -> str:
    """*text* with the entry replaced by *new_block* (None removes it); other lines byte-identical.

    The block goes where the first old block (or the first job line) was, else at the end. A job line
    outside the blocks is replaced alone: the user's variable lines above it stay, and still apply.
    """
    lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines = lines[:-1]
    if lines == [""]:
        lines = []
    loc = locate(lines, marker_id, owner)
    drop: set[int] = set(loc.job_indexes)
    for first, last in loc.regions:
        drop.update(range(first, last + 1))
    starts = [first for first, _last in loc.regions if _is_begin(lines[first], marker_id)] + loc.job_indexes
    starts = starts or [first for first, _last in loc.regions]  # only stray END lines: put it there
    insert_at: int | None = min(starts) if starts else None
    kept: list[str] = []
    for i, line in enumerate(lines):
        if i == insert_at and new_block is not None:
            kept.extend(new_block)
        if i not in drop:
            kept.append(line)
    if insert_at is None and new_block is not None:
        kept.extend(new_block)
    if not any(line.strip() for line in kept):
        return ""  # only blank lines left: the crontab was ours alone, leave none behind
    return "\n".join(kept) + "\n"


def cron_base_env(user: str) -> dict[str, str]:
    """What cron gives every job before the crontab's own variables."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError as exc:
        raise CrontabError(f"user {user} does not exist on this machine") from exc
    return {"SHELL": "/bin/sh", "PATH": CRON_DEFAULT_PATH, "HOME": pw.pw_dir, "LOGNAME": user, "USER": user}


def effective_env(text: str, user: str, marker_id: str = MARKER_ID, owner: str | None = None) -> tuple[dict[str, str], str]:
    """(environment, command) cron uses for our job: the base env plus every variable line above it."""
    env = cron_base_env(user)
    lines = text.split("\n")
    loc = locate(lines, marker_id, owner)
    if not loc.job_indexes:
        raise CrontabError(f"no {marker_id} entry in the crontab")
    index = loc.job_indexes[0]
    for line in lines[:index]:
        var = parse_var_line(line)
        if var is not None:
            env[var[0]] = var[1]
    return env, job_command_of(lines[index], marker_id)


class CrontabIO:
    """Read and write one crontab as raw text: a user's (``crontab -u``) or a file (*tabfile*)."""

    def __init__(self, user: str | None = None, tabfile: str | None = None) -> None:
        if not user and not tabfile:
            raise CrontabError("give a crontab user or a tabfile")
        self.user = user
        self.tabfile = tabfile

    @property
    def where(self) -> str:
        return f"tabfile {self.tabfile}" if self.tabfile else f"crontab of {self.user}"

    def _crontab(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run the box's ``crontab``; ``-u USER`` only for another user than the current one (as python-crontab
        does: some crontab programs refuse ``-u`` with your own name)."""
        user = [] if pwd.getpwuid(os.getuid()).pw_name == self.user else ["-u", self.user]
        try:
            return subprocess.run([CRONTAB_COMMAND, *user, *args], input=stdin, capture_output=True, text=True,
                                  timeout=60, check=False)
        except FileNotFoundError as exc:
            raise CrontabError(f"no crontab program ({CRONTAB_COMMAND}): install cron") from exc
        except subprocess.TimeoutExpired as exc:
            raise CrontabError(f"crontab {' '.join(args)} for {self.user} did not return in 60 s") from exc

    def read(self) -> str:
        if self.tabfile:
            try:
                with open(self.tabfile, encoding="utf-8") as fh:
                    return fh.read()
            except FileNotFoundError:
                return ""
            except OSError as exc:
                raise CrontabError(f"cannot read {self.tabfile}: {exc.strerror or exc}") from exc
        proc = self._crontab("-l")
        if proc.returncode != 0:
            if "no crontab for" in proc.stderr:
                return ""
            raise CrontabError(f"crontab -l for {self.user} failed: {proc.stderr.strip() or proc.returncode}")
        return proc.stdout

    def write(self, text: str) -> None:
        if self.tabfile:
            folder = os.path.dirname(os.path.abspath(self.tabfile))
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ccci-crontab-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self.tabfile)
            return
        # ``crontab -`` reads the new crontab from stdin: the text (with the unit's secrets) never sits in a file
        proc = self._crontab("-r") if not text else self._crontab("-", stdin=text)
        if proc.returncode != 0 and not (not text and "no crontab for" in proc.stderr):
            raise CrontabError(f"crontab {'-r' if not text else 'install'} for {self.user} failed: "
                               f"{proc.stderr.strip() or proc.returncode}")


def user_kwargs(user: str) -> dict:
    """``subprocess`` arguments that run a child as *user* (with its groups); {} for the current user."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError as exc:
        raise CrontabError(f"user {user} does not exist on this machine") from exc
    if pw.pw_uid == os.getuid():
        return {}
    if os.getuid() != 0:
        raise CrontabError(f"cannot run the job as {user}: not root (run the play with become: true)")
    groups = sorted({g.gr_gid for g in __import__("grp").getgrall() if user in g.gr_mem} | {pw.pw_gid})
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": groups}


def run_as_cron(command: str, env: Mapping[str, str], user: str, timeout: float = 120) -> tuple[int, str]:
    """Run *command* the way cron runs a job: ``$SHELL -c`` (``/bin/sh``), only *env*, in HOME, as
    *user*, no stdin. Returns ``(rc, combined output)``; rc 124 on timeout."""
    shell = env.get("SHELL") or "/bin/sh"
    home = env.get("HOME") or "/"
    cwd = home if os.path.isdir(home) else "/"
    try:
        proc = subprocess.run([shell, "-c", command], env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              check=False, start_new_session=True, **user_kwargs(user))
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return 124, out
    except OSError as exc:
        return 127, f"cannot run {shell}: {exc.strerror or exc}"
    return proc.returncode, proc.stdout
