# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a command-line tool: find it once, build its base command once, fail in one clear line.

Shaped after community.docker's ``module_utils/_common_cli.py``: a :class:`CliRunner` subclass per
tool (tmux, abra, docker) knows its binary name and the option a user sets to point at it, so the
error for a missing binary names the fix. No Ansible state here: modules catch :class:`CliError`
and turn its message into ``fail_json(msg=...)``.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

__all__ = [
    "CliError",
    "CliNotFound",
    "CliTimeout",
    "CliRunner",
    "RESULTS",
    "Timer",
    "VERDICTS",
    "find_binary",
    "parse_kv",
    "parse_reported_runs",
    "parse_result",
    "parse_verdict",
    "last_line",
]


class CliError(Exception):
    """A command-line tool failed; ``str(err)`` is one line a person can act on."""

    def __init__(self, msg: str, rc: int | None = None, out: str = "", err: str = "") -> None:
        super().__init__(" ".join(msg.split()) if "\n" in msg else msg)
        self.rc = rc
        self.out = out
        self.err = err


class CliNotFound(CliError):
    """The binary is not installed / not on PATH."""


class CliTimeout(CliError):
    """The command ran longer than its timeout and was killed."""


def last_line(text: str) -> str:
    """The last non-empty line of *text*, stripped (``""`` for none)."""
    for line in reversed((text or "").splitlines()):
        if line.strip():
            return line.strip()
    return ""


def find_binary(name_or_path: str, search_path: str | None = None) -> str | None:
    """Absolute path of an executable given by name (looked up on PATH) or by path; None if absent."""
    if os.sep in name_or_path:
        path = os.path.abspath(os.path.expanduser(name_or_path))
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(name_or_path, path=search_path)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class CliRunner:
    """Base class: one binary, a fixed base command, environment overrides and a timeout.

    Subclasses set :attr:`binary_name` (looked up on PATH when no explicit path is given) and
    :attr:`path_option` (the module option or variable that points at the binary, for the message).
    """

    binary_name: ClassVar[str] = ""
    path_option: ClassVar[str] = ""

    def __init__(
        self,
        path: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        cwd: str | None = None,
        base_args: Sequence[str] = (),
    ) -> None:
        self.env: dict[str, str] = dict(os.environ)
        self.env.update({k: str(v) for k, v in (env or {}).items()})
        self.timeout = timeout
        self.cwd = cwd
        self.binary = self._find(path)
        self.base: list[str] = [self.binary, *base_args]

    # -- discovery -----------------------------------------------------------------------------
    def _find(self, path: str | None) -> str:
        wanted = path or self.binary_name
        found = find_binary(wanted, self.env.get("PATH"))
        if found:
            return found
        raise CliNotFound(self.not_found_message(wanted))

    def not_found_message(self, wanted: str) -> str:
        """The one-line error for a missing binary, naming the option that fixes it."""
        fix = f": set {self.path_option}" if self.path_option else ""
        label = self.binary_name or os.path.basename(wanted)
        if os.sep in wanted:
            return f"{label} not found or not executable at {wanted}{fix}"
        return f"{label} not found on PATH{fix}"

    # -- running -------------------------------------------------------------------------------
    def command(self, args: Iterable[str]) -> list[str]:
        """The full argv for *args* (base command + args)."""
        return [*self.base, *(str(a) for a in args)]

    def describe(self, args: Iterable[str]) -> str:
        """A short printable form of the command, for messages (``abra app ls -m``)."""
        argv = self.command(args)
        return shlex.join([os.path.basename(argv[0]), *argv[1:]])

    def run(
        self,
        args: Iterable[str],
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        data: str | None = None,
    ) -> tuple[int, str, str]:
        """Run the tool; return ``(rc, stdout, stderr)``. Raises :class:`CliTimeout` on timeout."""
        args = list(args)
        argv = self.command(args)
        run_env = dict(self.env)
        run_env.update({k: str(v) for k, v in (env or {}).items()})
        limit = self.timeout if timeout is None else timeout
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=run_env,
                cwd=self.cwd,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise CliError(f"cannot run {self.describe(args)}: {exc.strerror or exc}") from exc
        try:
            out, err = proc.communicate(input=data, timeout=limit)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            out, err = proc.communicate()
            raise CliTimeout(
                f"{self.describe(args)} timed out after {limit:g}s", rc=None, out=out or "", err=err or ""
            ) from exc
        return proc.returncode, out or "", err or ""

    def run_watched(
        self,
        args: Iterable[str],
        stop: Callable[[], str | None],
        every: float,
        timeout: float | None = None,
    ) -> tuple[int, str, str, str | None]:
        """Like :meth:`run`, but asks ``stop()`` every ``every`` seconds while the tool runs; when it
        gives a reason (what the tool waits for has provably not come), the tool's process group is
        stopped. Returns ``(rc, stdout, stderr, reason)``; ``reason`` is None when the tool ended itself."""
        args = list(args)
        limit = self.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        try:
            proc = subprocess.Popen(self.command(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=self.env, cwd=self.cwd, text=True,
                                    start_new_session=True)
        except OSError as exc:
            raise CliError(f"cannot run {self.describe(args)}: {exc.strerror or exc}") from exc
        reason = None
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                out, err = proc.communicate(timeout=every if left is None else max(0.0, min(every, left)))
                return proc.returncode, out or "", err or "", reason
            except subprocess.TimeoutExpired as exc:
                if left is not None and left <= every:
                    _kill_group(proc)
                    out, err = proc.communicate()
                    raise CliTimeout(f"{self.describe(args)} timed out after {limit:g}s", rc=None,
                                     out=out or "", err=err or "") from exc
            reason = stop()
            if reason:
                _kill_group(proc)
                out, err = proc.communicate()
                return proc.returncode, out or "", err or "", reason

    def run_checked(self, args: Iterable[str], what: str | None = None, **kwargs) -> str:
        """Run the tool and return stdout; raise :class:`CliError` (one line) on a non-zero rc."""
        args = list(args)
        rc, out, err = self.run(args, **kwargs)
        if rc != 0:
            reason = last_line(err) or last_line(out) or "no output"
            raise CliError(f"{what or self.describe(args)} failed (rc {rc}): {reason}", rc=rc, out=out, err=err)
        return out

    def run_to_file(
        self,
        args: Iterable[str],
        path: str,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> int:
        """Run the tool with stdout and stderr streamed into *path* (so a partial log survives a
        timeout); return the rc. Raises :class:`CliTimeout` after killing the process group."""
        args = list(args)
        argv = self.command(args)
        run_env = dict(self.env)
        run_env.update({k: str(v) for k, v in (env or {}).items()})
        limit = self.timeout if timeout is None else timeout
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as log:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=run_env,
                    cwd=self.cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise CliError(f"cannot run {self.describe(args)}: {exc.strerror or exc}") from exc
            try:
                return proc.wait(timeout=limit)
            except subprocess.TimeoutExpired as exc:
                _kill_group(proc)
                raise CliTimeout(f"{self.describe(args)} timed out after {limit:g}s (log: {path})") from exc


# -- output of the box's scripts -----------------------------------------------------------------

VERDICTS = ("GREEN", "RED", "PENDING")
RESULTS = ("SUCCESS+TESTPR", "SUCCESS-PENDING-TESTS", "SUCCESS", "FAILED")
_KV_RE = re.compile(r"^\s*([A-Z][A-Z0-9_]*)=(.*?)\s*$")
_RESULT_RE = re.compile(r"^[\s>*`_#-]*RESULT\s*:\s*(.*?)[\s*`_]*$")


def parse_kv(text: str) -> dict[str, str]:
    """``KEY=value`` lines of *text* (the last occurrence of a key wins)."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        m = _KV_RE.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def parse_verdict(text: str) -> tuple[str, str | None]:
    """``(verdict, build_url)`` from testme-on-pr.sh output: GREEN/RED/PENDING or UNKNOWN, and the
    ``BUILD=`` URL (None when missing or ``?``)."""
    kv = parse_kv(text)
    verdict = kv.get("VERDICT", "").strip().upper()
    build = kv.get("BUILD", "").strip()
    return (verdict if verdict in VERDICTS else "UNKNOWN"), (None if build in ("", "?") else build)


def parse_result(text: str) -> tuple[str | None, str | None, str]:
    """``(result_line, result, detail)`` from an agent transcript: the last ``RESULT: ...`` line, the
    result normalised to one of :data:`RESULTS` (or the raw text when it is none of them), and the
    text after the result token (e.g. ``— upgrade not green after 3 !testme runs``)."""
    line = None
    raw = ""
    for candidate in (text or "").splitlines():
        m = _RESULT_RE.match(candidate)
        if m:
            line, raw = candidate.strip(), m.group(1).strip()
    if line is None:
        return None, None, ""
    upper = raw.upper()
    for token in RESULTS:
        if upper.startswith(token):
            rest = raw[len(token):]
            if token == "SUCCESS" and rest[:1] in ("+", "-") and rest[1:2].isalnum():
                continue  # an unknown SUCCESS-variant: keep it raw
            return line, token, rest.strip()
    return line, raw, ""


_RUN_RE = re.compile(r"\bVERDICT=(GREEN|RED|PENDING|ERROR)\b(?:\s+BUILD=(\S+))?")


def parse_reported_runs(text: str) -> list[dict[str, str | None]]:
    """Each ``VERDICT=... BUILD=...`` the agent echoed from testme-on-pr.sh, in order: what the
    skill said each ``!testme`` run gave (``build`` None for ``BUILD=?`` or none)."""
    runs = []
    for match in _RUN_RE.finditer(text or ""):
        build = match.group(2)
        runs.append({"verdict": match.group(1), "build": None if build in (None, "?") else build.rstrip("/")})
    return runs


class Timer:
    """Wall-clock start/finish and monotonic duration of one run."""

    def __init__(self) -> None:
        self.started = time.time()
        self._t0 = time.monotonic()

    @property
    def seconds(self) -> float:
        return round(time.monotonic() - self._t0, 3)
