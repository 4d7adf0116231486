# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redaction: the one set of rules for what is a secret and how it is masked, used by every module
that shows an environment, a crontab, a report or a URL."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

MASK = "********"
# A variable or query parameter whose name contains one of these words holds a secret.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|KEY|AUTH|CREDENTIAL|SIG", re.IGNORECASE)
# Values shorter than this are left alone: masking "1" or "on" everywhere would garble the text.
MIN_SECRET_LEN = 4
_QUERY_PAIR = re.compile(r"([^&=]+)=([^&]*)")


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    return bool(SECRET_NAME.search(str(name))) or name in set(extra)


def secret_names(env: Mapping[str, str], extra: Iterable[str] = ()) -> set[str]:
    """The names in *env* that hold secrets (by the name rule, or listed in *extra*)."""
    extra = set(extra)
    return {k for k in env if is_secret_name(k, extra)}


def secret_values(env: Mapping[str, str] | None, extra: Iterable[str] = ()) -> set[str]:
    """The non-empty values of *env*'s secrets (e.g. for ``module.no_log_values``)."""
    env = env or {}
    return {str(env[k]) for k in secret_names(env, extra) if env[k]}


def redact_env(env: Mapping[str, str] | None, extra: Iterable[str] = ()) -> dict[str, str]:
    """A copy of *env* with the values of its secrets masked."""
    env = env or {}
    names = secret_names(env, extra)
    return {k: (MASK if k in names else v) for k, v in env.items()}


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """*text* with every occurrence of each secret value masked (longest first)."""
    for value in sorted({str(s) for s in secrets if s and len(str(s)) >= MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def redact_url(url: str) -> str:
    """The URL without userinfo, and with the values of secret query parameters masked."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = _QUERY_PAIR.sub(lambda m: f"{m.group(1)}=***" if is_secret_name(m.group(1)) else m.group(0), parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
