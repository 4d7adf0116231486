# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The environment a systemd service runs with: ``User=``, ``WorkingDirectory=``, ``Environment=``
and ``EnvironmentFile=`` of its ``[Service]`` section, read the way systemd reads them.

Two sources, one result (:class:`UnitEnv`):

* :func:`from_systemctl` asks a running systemd (``systemctl show -p ...``), which has already merged
  drop-ins and resolved specifiers; the ``EnvironmentFiles=`` it names are then read here, as systemd
  reads them when it starts the service.
* :func:`parse_unit_file` reads the unit file (plus its ``<unit>.d/*.conf`` drop-ins) itself.

Parsing follows systemd (``conf-parser.c``, ``extract_first_word()``, ``env-file.c``):

* ``#`` and ``;`` start comment lines; a line ending in an odd number of backslashes continues on
  the next line (the backslash becomes a space); comment lines inside a continuation are skipped.
* ``Environment=`` takes several whitespace-separated ``NAME=VALUE`` words per line. Double and single
  quotes group (also in the middle of a word: ``FOO="a b"``); C escapes (``\\n``, ``\\t``, ``\\x41``,
  ``\\"``, ``\\\\`` ...) are unescaped, inside and outside quotes. An empty ``Environment=`` resets the
  list. Later assignments of a name override earlier ones.
* ``EnvironmentFile=`` names a file (absolute path or glob); a leading ``-`` means a missing file is
  ignored. An empty ``EnvironmentFile=`` resets the list. The files are read in order after
  ``Environment=`` and **override** it (systemd.exec(5)). File syntax: ``KEY=VALUE`` lines, ``#``/``;``
  comments, single quotes literal, double quotes with ``\\"``, ``\\\\``, ``\\$`` and ``\\``` escapes,
  a trailing backslash continues the line, unquoted trailing whitespace is dropped.
* Specifiers (``%%``, ``%n``, ``%N``, ``%p``, ``%i``, ``%u``, ``%U``, ``%h``, ``%s``, ``%t``, ``%S``, ...) are
  expanded as systemd.unit(5) says: ``%u``/``%h`` are the service manager's user (root, ``/root`` for a
  system unit), not ``User=``.

Where systemd would log a warning and drop an assignment, this module raises :class:`UnitError`
instead: the weekly job must not run with a silently different environment. Every error is one line
that names the file, the line and the fix.
"""
from __future__ import annotations

import glob
import grp
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_PATH",
    "UNIT_DIRS",
    "UnitEnv",
    "UnitError",
    "extract_words",
    "find_unit_file",
    "load",
    "parse_env_file",
    "parse_systemctl_show",
    "parse_unit_file",
    "parse_unit_text",
    "from_systemctl",
    "systemd_running",
]

#: The PATH systemd gives a service that sets none (split-usr build, the superset).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/lib/systemd/system", "/usr/lib/systemd/system")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIX = "fix the unit or point ccci_loops_unit at the right unit file"


class UnitError(Exception):
    """The unit cannot be read or parsed; ``str(err)`` is one line naming the fix."""


@dataclass
class UnitEnv:
    """What a service's process gets: its user, working directory and environment."""

    unit: str
    source: str  # "file:<path>" or "systemctl"
    user: str | None = None
    working_directory: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    #: (path, optional) pairs in the order systemd reads them.
    environment_files: list[tuple[str, bool]] = field(default_factory=list)
    #: The files actually read (globs expanded, missing optional ones left out).
    files_read: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def home(self) -> str | None:
        """HOME as the service sees it: set in the unit, else the passwd home of User= (root's for none)."""
        if self.environment.get("HOME"):
            return self.environment["HOME"]
        try:
            return pwd.getpwnam(self.user or "root").pw_dir
        except KeyError:
            return None

    def as_dict(self) -> dict:
        return {
            "unit": self.unit,
            "source": self.source,
            "user": self.user,
            "working_directory": self.working_directory,
            "environment": dict(self.environment),
            "environment_files": [{"path": p, "optional": o} for p, o in self.environment_files],
            "files_read": list(self.files_read),
            "notes": list(self.notes),
        }


# -- extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE) ---------------------------------------

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"', "'": "'", "s": " "}


def _cunescape_one(text: str, i: int, relax: bool) -> tuple[str, int]:
    """Unescape the escape starting after the backslash at ``text[i]``; return (chars, next index)."""
    c = text[i]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 1
    if c == "x" and re.match(r"[0-9A-Fa-f]{2}", text[i + 1:i + 3]):
        value = int(text[i + 1:i + 3], 16)
        if value == 0:
            raise ValueError("\\x00 is not allowed")
        return chr(value), i + 3
    if c in "uU":
        width = 4 if c == "u" else 8
        digits = text[i + 1:i + 1 + width]
        if len(digits) == width and re.fullmatch(r"[0-9A-Fa-f]+", digits):
            return chr(int(digits, 16)), i + 1 + width
    if c in "01234567" and re.match(r"[0-7]{3}", text[i:i + 3]):
        value = int(text[i:i + 3], 8)
        if value == 0 or value > 255:
            raise ValueError(f"bad octal escape \\{text[i:i + 3]}")
        return chr(value), i + 3
    if relax:
        return c, i + 1
    raise ValueError(f"unknown escape \\{c}")


def extract_words(value: str, relax: bool = False) -> list[str]:
    """Split *value* into words as systemd's ``extract_first_word()`` with UNQUOTE|CUNESCAPE does.

    *relax* keeps unknown escapes (``\\$`` -> ``$``), as needed for ``systemctl show`` output.
    Raises :class:`ValueError` on an unterminated quote, a trailing backslash or a bad escape.
    """
    words: list[str] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in " \t\n\r":
            i += 1
        if i >= n:
            return words
        word: list[str] = []
        quote: str | None = None
        while i < n:
            c = value[i]
            if c == "\\":  # an escape reads the same inside quotes and out
                if i + 1 >= n:
                    raise ValueError("unterminated quote" if quote else "trailing backslash")
                ch, i = _cunescape_one(value, i + 1, relax)
                word.append(ch)
                continue
            if quote and c == quote:
                quote = None
            elif not quote and c in " \t\n\r":
                break
            elif not quote and c in "'\"":
                quote = c
            else:
                word.append(c)
            i += 1
        if quote:
            raise ValueError(f"unterminated {quote} quote")
        words.append("".join(word))


# -- specifiers -------------------------------------------------------------------------------------

def _manager_user(unit_path: str | None) -> str:
    """Who runs the service manager that loads the unit: root for a system unit; for a user unit
    (``.../systemd/user/...``) the owner of the unit file."""
    if unit_path and "/systemd/user/" in unit_path and os.path.exists(unit_path):
        try:
            return pwd.getpwuid(os.stat(unit_path).st_uid).pw_name
        except KeyError:
            pass
    return "root"


def _expand_specifiers(value: str, unit: str, manager: str = "root") -> str:
    """Expand systemd.unit(5) specifiers. ``%u``/``%U``/``%h``/``%s`` name the user running the
    service manager (root for system units), never ``User=`` (systemd.unit(5): "not influenced by
    the User= setting")."""
    name = os.path.basename(unit)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    prefix, _sep, instance = stem.partition("@")

    def entry() -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(manager)
        except KeyError as exc:
            raise ValueError(f"no passwd entry for the manager's user {manager}") from exc

    system = manager == "root"
    table = {"%": lambda: "%", "n": lambda: name, "N": lambda: stem, "p": lambda: prefix,
             "i": lambda: instance, "u": lambda: manager, "U": lambda: str(entry().pw_uid),
             "h": lambda: entry().pw_dir, "s": lambda: "/bin/sh" if system else entry().pw_shell,
             "E": lambda: "/etc", "T": lambda: "/tmp", "V": lambda: "/var/tmp"}
    if system:
        table.update({"t": lambda: "/run", "S": lambda: "/var/lib", "C": lambda: "/var/cache",
                      "L": lambda: "/var/log"})
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "%" and i + 1 < len(value):
            spec = value[i + 1]
            if spec not in table:
                raise ValueError(f"specifier %{spec} is not supported here")
            out.append(table[spec]())
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


# -- the unit file ----------------------------------------------------------------------------------

def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, logical line) pairs: continuations joined, comments dropped."""
    result: list[tuple[int, str]] = []
    cont: str | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if cont is not None and line[:1] in ("#", ";"):
            continue
        if cont is None:
            start = number
            if not line or line[:1] in ("#", ";"):
                continue
        joined = line if cont is None else cont + line
        trailing = len(joined) - len(joined.rstrip("\\"))
        if trailing % 2 == 1:
            cont = joined[:-1] + " "
            continue
        cont = None
        result.append((start, joined))
    if cont is not None:
        result.append((start, cont.rstrip()))
    return result


def parse_unit_text(text: str, unit: str = "unit", env: UnitEnv | None = None, where: str | None = None) -> UnitEnv:
    """Apply the ``[Service]`` settings of one unit file's *text* to *env* (a new one by default)."""
    env = env or UnitEnv(unit=unit, source=f"file:{unit}")
    where = where or unit
    manager = _manager_user(where)
    section = None
    saw_service = False
    for number, line in _logical_lines(text):
        if line.startswith("["):
            if not line.endswith("]"):
                raise UnitError(f"{where} line {number}: bad section header {line!r}: {_FIX}")
            section = line[1:-1].strip()
            saw_service = saw_service or section == "Service"
            continue
        if "=" not in line:
            raise UnitError(f"{where} line {number}: {line!r} is not KEY=VALUE: {_FIX}")
        if section is None:
            raise UnitError(f"{where} line {number}: assignment outside any [section]: {_FIX}")
        key, _sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if section != "Service":
            continue
        try:
            if key == "User":
                env.user = _expand_specifiers(value, unit, manager) or None
            elif key == "WorkingDirectory":
                env.working_directory = value or None
            elif key == "Environment":
                if not value:
                    env.environment.clear()
                    continue
                for word in extract_words(value):
                    word = _expand_specifiers(word, unit, manager)
                    name, sep, val = word.partition("=")
                    if not sep or not _NAME_RE.match(name):
                        raise ValueError(f"{word!r} is not a valid NAME=VALUE assignment")
                    env.environment.pop(name, None)
                    env.environment[name] = val
            elif key == "EnvironmentFile":
                if not value:
                    env.environment_files.clear()
                    continue
                optional = value.startswith("-")
                path = _expand_specifiers(value[1:] if optional else value, unit, manager)
                if not os.path.isabs(path):
                    raise ValueError(f"EnvironmentFile path {path!r} is not absolute")
                env.environment_files.append((path, optional))
        except ValueError as exc:
            raise UnitError(f"{where} line {number}: {key}= {exc} (systemd would drop this line): {_FIX}") from exc
    if env.working_directory:
        wd = env.working_directory.lstrip("-")
        if wd == "~":
            wd = env.home() or wd
        env.working_directory = _expand_specifiers(wd, unit, manager)
    if not saw_service and not env.notes:
        env.notes.append(f"{where} has no [Service] section")
    return env


def find_unit_file(unit: str, dirs: tuple[str, ...] = UNIT_DIRS) -> str:
    """The unit file for *unit* (a path, or a name looked up in systemd's unit directories)."""
    if os.sep in unit:
        if not os.path.exists(unit):
            raise UnitError(f"unit file {unit} does not exist: {_FIX}")
        return unit
    for folder in dirs:
        path = os.path.join(folder, unit)
        if os.path.exists(path):
            return path
    raise UnitError(f"unit {unit} not found in {', '.join(dirs)}: {_FIX}")


def parse_unit_file(path: str, files: bool = True) -> UnitEnv:
    """Read a unit file and its ``<unit>.d/*.conf`` drop-ins; read its environment files; merge."""
    path = find_unit_file(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UnitError(f"cannot read unit file {path}: {exc.strerror or exc}: {_FIX}") from exc
    except UnicodeDecodeError as exc:
        raise UnitError(f"unit file {path} is not UTF-8 text: {_FIX}") from exc
    env = UnitEnv(unit=os.path.basename(path), source=f"file:{path}")
    env = parse_unit_text(text, os.path.basename(path), env, where=path)
    if env.notes and env.notes[-1].endswith("has no [Service] section"):
        raise UnitError(f"{path} has no [Service] section, so it is not a service unit: {_FIX}")
    for dropin in sorted(glob.glob(os.path.join(glob.escape(path + ".d"), "*.conf"))):
        try:
            with open(dropin, encoding="utf-8") as fh:
                parse_unit_text(fh.read(), env.unit, env, where=dropin)
        except OSError as exc:
            raise UnitError(f"cannot read drop-in {dropin}: {exc.strerror or exc}: {_FIX}") from exc
        env.notes = [n for n in env.notes if not n.endswith("has no [Service] section")]
        env.notes.append(f"drop-in {dropin} applied")
    if files:
        _apply_environment_files(env)
    return env


# -- EnvironmentFile= syntax (env-file.c) ------------------------------------------------------------

def parse_env_file(text: str, where: str = "environment file") -> dict[str, str]:
    """Parse an ``EnvironmentFile=`` file as systemd does. Invalid names raise :class:`UnitError`."""
    result: dict[str, str] = {}
    pairs: list[tuple[str, str, int]] = []
    state = "PRE_KEY"
    key: list[str] = []
    value: list[str] = []
    last_value_ws: int | None = None
    line = 1
    key_line = 1

    def push() -> None:
        k = "".join(key).rstrip()
        v = "".join(value)
        if last_value_ws is not None:
            v = v[:last_value_ws]
        pairs.append((k, v, key_line))

    for c in text + "\n":
        if state == "PRE_KEY":
            if c in "#;":
                state = "COMMENT"
            elif c in " \t\r":
                pass
            elif c == "\n":
                line += 1
            else:
                state, key, value, key_line = "KEY", [c], [], line
        elif state == "KEY":
            if c == "\n":
                state = "PRE_KEY"
                line += 1
            elif c == "=":
                state, last_value_ws = "PRE_VALUE", None
            else:
                key.append(c)
        elif state == "PRE_VALUE":
            if c in " \t\r":
                pass
            elif c == "\n":
                push()
                state = "PRE_KEY"
                line += 1
            elif c == "'":
                state = "SQ"
            elif c == '"':
                state = "DQ"
            elif c == "\\":
                state = "VALUE_ESCAPE"
            else:
                state = "VALUE"
                value.append(c)
                last_value_ws = None
        elif state == "VALUE":
            if c == "\n":
                push()
                state = "PRE_KEY"
                line += 1
            elif c == "\\":
                state = "VALUE_ESCAPE"
                last_value_ws = None
            else:
                if c in " \t\r":
                    if last_value_ws is None:
                        last_value_ws = len(value)
                else:
                    last_value_ws = None
                value.append(c)
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c == "\n":
                line += 1
            else:
                value.append(c)
        elif state == "SQ":
            if c == "'":
                state = "PRE_VALUE"
            else:
                if c == "\n":
                    line += 1
                value.append(c)
        elif state == "DQ":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DQ_ESCAPE"
            else:
                if c == "\n":
                    line += 1
                value.append(c)
        elif state == "DQ_ESCAPE":
            state = "DQ"
            if c == "\n":
                line += 1
            elif c in '"\\`$':
                value.append(c)
            else:
                value.extend(("\\", c))
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c == "\n":
                state = "PRE_KEY"
                line += 1
        elif state == "COMMENT_ESCAPE":
            state = "COMMENT"
            if c == "\n":
                line += 1
    if state in ("SQ", "DQ", "DQ_ESCAPE"):
        raise UnitError(f"{where} line {key_line}: unterminated quote in the value of {''.join(key).strip()}: "
                        "fix the environment file")
    for k, v, number in pairs:
        if not _NAME_RE.match(k):
            raise UnitError(f"{where} line {number}: {k!r} is not a valid variable name (systemd would ignore it): "
                            "fix the environment file")
        result.pop(k, None)
        result[k] = v
    return result


def readable_by(path: str, user: str) -> bool:
    """Whether *user* may read *path*: asked of the kernel when this runs as *user*, else judged by the mode bits
    (this may run as root for another user)."""
    try:
        entry = pwd.getpwnam(user)
        if entry.pw_uid == os.geteuid():
            return os.access(path, os.R_OK)
        st = os.stat(path)
    except (KeyError, OSError):
        return False
    if entry.pw_uid == 0:
        return True
    if st.st_uid == entry.pw_uid:
        return bool(st.st_mode & 0o400)
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {entry.pw_gid}
    return bool(st.st_mode & (0o040 if st.st_gid in groups else 0o004))


def unreadable_env_files(env: UnitEnv, user: str) -> list[str]:
    """The unit's EnvironmentFiles that exist and that *user* cannot read (systemd reads them as root; a job run
    as *user* that sources them cannot)."""
    out = []
    for pattern, dummy in env.environment_files:
        for path in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            if os.path.exists(path) and not readable_by(path, user):
                out.append(path)
    return out


def not_readable_fix(path: str, user: str) -> str:
    """One line: *user* (the weekly job's) cannot read the EnvironmentFile *path*, and the fix."""
    try:
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        group = user
    return (f"EnvironmentFile {path} is not readable by {user}, who runs the weekly job and sources it at each fire: "
            f"chgrp {group} {path} && chmod 640 {path} (its tokens then stay in that one file, never in the crontab)")


def _apply_environment_files(env: UnitEnv) -> None:
    files_env: dict[str, str] = {}
    for pattern, optional in env.environment_files:
        paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not paths and not optional:
            raise UnitError(f"EnvironmentFile={pattern} of {env.unit} matches no file and is not optional "
                            f"(systemd would refuse to start the service): {_FIX}")
        for path in paths:
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except FileNotFoundError as exc:
                if optional:
                    env.notes.append(f"optional EnvironmentFile=-{path} is missing (ignored, as systemd does)")
                    continue
                raise UnitError(f"EnvironmentFile={path} of {env.unit} does not exist (systemd would refuse to "
                                f"start the service): create it or write EnvironmentFile=-{path}") from exc
            except OSError as exc:
                raise UnitError(f"cannot read EnvironmentFile={path} of {env.unit}: {exc.strerror or exc}: "
                                "run as a user that can read it") from exc
            for k, v in parse_env_file(text, where=path).items():
                files_env.pop(k, None)
                files_env[k] = v
            env.files_read.append(path)
    for k, v in files_env.items():
        env.environment.pop(k, None)
        env.environment[k] = v


# -- systemctl show ---------------------------------------------------------------------------------

def systemd_running(run_dir: str = "/run/systemd/system") -> bool:
    """True when systemd is PID 1 here (sd_booted())."""
    return os.path.isdir(run_dir) and shutil.which("systemctl") is not None


def parse_systemctl_show(unit: str, text: str) -> UnitEnv:
    """A :class:`UnitEnv` from the output of ``systemctl show -p LoadState,Environment,User,...``."""
    env = UnitEnv(unit=unit, source="systemctl")
    props: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props.setdefault(key, []).append(value)
    load = (props.get("LoadState") or [""])[-1]
    if load and load != "loaded":
        raise UnitError(f"systemd has no unit {unit} (LoadState={load}): {_FIX}")
    env.user = (props.get("User") or [""])[-1] or None
    env.working_directory = (props.get("WorkingDirectory") or [""])[-1].lstrip("-") or None
    if env.working_directory == "~":
        env.working_directory = env.home()
    for value in props.get("Environment", []):
        try:
            words = extract_words(value, relax=True)
        except ValueError as exc:
            raise UnitError(f"cannot parse systemctl's Environment= of {unit}: {exc}") from exc
        for word in words:
            name, sep, val = word.partition("=")
            if sep and _NAME_RE.match(name):
                env.environment.pop(name, None)
                env.environment[name] = val
    for value in props.get("EnvironmentFiles", []):
        m = re.match(r"^(.*?) \(ignore_errors=(yes|no)\)$", value)
        if m:
            env.environment_files.append((m.group(1), m.group(2) == "yes"))
        elif value:
            env.environment_files.append((value, False))
    return env


def from_systemctl(unit: str, systemctl: str = "systemctl", timeout: float = 30, files: bool = True) -> UnitEnv:
    """Ask systemd for the unit's settings, then read its environment files as systemd would."""
    argv = [systemctl, "show", "-p", "LoadState,Environment,User,WorkingDirectory,EnvironmentFiles", unit]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnitError(f"cannot run {' '.join(argv)}: {exc}: {_FIX}") from exc
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip().splitlines()
        raise UnitError(f"systemctl show {unit} failed (rc {proc.returncode}): {reason[-1] if reason else 'no output'}: {_FIX}")
    env = parse_systemctl_show(unit, proc.stdout)
    if files:
        _apply_environment_files(env)
    return env


def load(unit: str, source: str = "auto", files: bool = True) -> UnitEnv:
    """The service's environment. *source*: ``auto`` (systemd for a unit name when systemd runs,
    else the file), ``systemd`` or ``file``; *files* False leaves its EnvironmentFiles unread."""
    if not unit:
        raise UnitError(f"no unit given: {_FIX}")
    if source not in ("auto", "systemd", "file"):
        raise UnitError(f"unit source must be auto, systemd or file, not {source!r}")
    use_systemd = source == "systemd" or (source == "auto" and os.sep not in unit and systemd_running())
    if use_systemd:
        return from_systemctl(unit, files=files)
    return parse_unit_file(unit, files=files)
