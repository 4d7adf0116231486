# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small HTTP API client on httpx, shared by the Gitea and Drone clients.

Every call names the status codes the caller accepts (``accept=(200, 404)``) and gets back
``(data, status)``; anything else raises :class:`ApiError`, whose ``str`` is one line a person can
act on: ``<METHOD> <url>: HTTP <code>: <message> (<hint>)``. Tokens travel only in the
``Authorization`` header and never appear in a message.

Deadline: one operation (connecting, reading and every retry) ends within ``deadline`` seconds
(default 60). A server that never answers ends in ``<METHOD> <url>: no answer within N s``; one
that cannot be reached in ``... cannot connect (<reason>)``. An accepted answer that is not JSON (an
HTML page, a proxy's error page) is one line naming the URL, never a crash further on.

Retries: bounded (``tries``, default 4) with exponential backoff and jitter, capped in total
(``max_backoff``, default 8 s) and by the deadline. Idempotent methods (GET, HEAD, PUT, DELETE,
OPTIONS) are retried on connection errors, timeouts and 5xx; POST and PATCH only when the request
surely never reached the server (connection refused, connect timeout), so a comment or a build is
never sent twice.
"""
from __future__ import annotations

import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import redact_url

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import api_call

# httpx imports its command-line client (click, rich) whenever they are installed: about 0.2 s of every
# module run's start-up, for a CLI no module uses. A None entry makes that import fail, as httpx allows.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
try:
    import httpx
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    httpx = None  # type: ignore[assignment]
    HAS_HTTPX = False
    HTTPX_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_HTTPX = True
    HTTPX_IMPORT_ERROR = None

IDEMPOTENT = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
RETRY_STATUS = frozenset((500, 502, 503, 504))
USER_AGENT = "coopcloud.cc_ci"
DEFAULT_DEADLINE = 60.0
CONNECT_TIMEOUT = 10.0  # a reachable server accepts within this; the rest of the deadline is for reading


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class ApiError(Exception):
    """An API call that did not end with an accepted status (or did not reach the server).

    ``status`` is None for connection errors. ``str(err)`` is one line.
    """

    def __init__(self, method: str, url: str, status: int | None = None, message: str = "",
                 hint: str | None = None, body: Any = None, no_answer_within: float | None = None) -> None:
        self.method = method.upper()
        self.no_answer_within = no_answer_within
        self.url = redact_url(url)
        self.status = status
        self.message = _one_line(message) if message else ""
        self.hint = hint
        self.body = body
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.no_answer_within is not None:
            return (f"{self.method} {self.url}: no answer within {self.no_answer_within:g} s "
                    f"({self.message or 'the server accepted but did not answer'}): check that it is up and "
                    "not overloaded, or raise the timeout")
        if self.status is None:
            return f"{self.method} {self.url}: cannot connect ({self.message or 'no reason given'}): check the URL"
        text = f"{self.method} {self.url}: HTTP {self.status}"
        if self.message:
            text += f": {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


def _error_message(response: Any) -> tuple[str, Any]:
    """The ``message`` field of a JSON error body, or a short excerpt of the body."""
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "errors"):
            if body.get(key):
                value = body[key]
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    value = value[0].get("message") or value[0].get("code") or value[0]
                return _one_line(str(value)), body
    text = response.text or ""
    if "<html" in text[:200].lower():
        return "unexpected HTML page (is this the API base URL?)", body
    return _one_line(text, 120) if text.strip() else (response.reason_phrase or ""), body


def _connect_reason(exc: Exception) -> str:
    reason = str(exc) or type(exc).__name__
    low = reason.lower()
    if "connection refused" in low or "errno 111" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low:
        return "unknown host"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {type(exc).__name__}"
    return _one_line(reason, 100)


class ApiClient:
    """Base URL + auth header + timeout + bounded retries + one-line errors.

    ``auth_scheme`` is the word before the token in ``Authorization`` (``token`` for Gitea,
    ``Bearer`` for Drone); ``token_name`` is what a person should check when it is rejected (401).
    ``transport`` (an ``httpx`` transport) and ``sleep`` exist for tests.
    """

    def __init__(self, base_url: str, token: str | None = None, *, auth_scheme: str = "token",
                 token_name: str = "the API token", timeout: float = DEFAULT_DEADLINE, validate_certs: bool = True,
                 tries: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
                 transport: Any = None, sleep: Callable[[float], None] | None = None,
                 jitter: Callable[[], float] = random.random) -> None:
        if not HAS_HTTPX:
            raise RuntimeError("the Python library httpx is required")
        if not base_url or not re.match(r"^https?://", base_url):
            raise ValueError(f"base URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.token_name = token_name
        self.deadline = float(timeout) if timeout and float(timeout) > 0 else DEFAULT_DEADLINE
        self.tries = max(1, int(tries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep or time.sleep
        self._jitter = jitter
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"{auth_scheme} {token}"
        kwargs: dict[str, Any] = dict(headers=headers, timeout=self.deadline, verify=validate_certs,
                                      follow_redirects=False)
        if transport is not None:
            kwargs["transport"] = transport
        self._http = httpx.Client(**kwargs)
        self.calls = 0  # requests sent, retries included (observability, tests)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------
    def url(self, path: str) -> str:
        if re.match(r"^https?://", path):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _delay(self, attempt: int, slept: float) -> float:
        """Exponential backoff with jitter for retry number ``attempt`` (0-based), within the cap."""
        delay = self.backoff * (2 ** attempt) * (0.5 + self._jitter())
        return max(0.0, min(delay, self.max_backoff - slept))

    def _hint(self, status: int, not_found: str | None) -> str | None:
        if status == 401:
            return f"token rejected: check {self.token_name}"
        if status == 403:
            return f"forbidden: the user of {self.token_name} lacks the permission"
        if status == 404:
            return not_found or "not found: check the owner/repo, number or ref"
        return None

    def send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             json_body: Any = None, accept: Iterable[int] = (200,),
             not_found: str | None = None) -> Any:
        """Send with retries; return the ``httpx.Response`` when its status is accepted."""
        method = method.upper()
        url = self.url(path)
        accept = tuple(accept)
        retry_any = method in IDEMPOTENT
        slept = 0.0
        attempt = 0
        end = time.monotonic() + self.deadline
        while True:
            shown = str(httpx.URL(url, params=params)) if params else url
            left = end - time.monotonic()
            # Half the deadline at most for one try, so a server that hangs once still gets a retry.
            read = max(0.1, min(left, self.deadline / 2 if retry_any else left))
            timeout = httpx.Timeout(read, connect=max(0.1, min(CONNECT_TIMEOUT, left)))
            sent = time.monotonic()
            try:
                self.calls += 1
                response = self._http.request(method, url, params=params, json=json_body, timeout=timeout)
            except httpx.ConnectTimeout as exc:
                error = ApiError(method, shown, None, _connect_reason(exc))
                retryable = True
            except httpx.ConnectError as exc:
                error = ApiError(method, shown, None, _connect_reason(exc))
                retryable = True
            except httpx.TimeoutException as exc:
                error = ApiError(method, shown, None, f"{type(exc).__name__} after {attempt + 1} tries",
                                 no_answer_within=self.deadline)
                retryable = retry_any
            except httpx.TransportError as exc:
                error = ApiError(method, shown, None, _connect_reason(exc))
                retryable = retry_any
            else:
                api_call(time.monotonic() - sent)  # the run's own-work account (spans.py)
                if response.status_code in accept:
                    return response
                message, body = _error_message(response)
                error = ApiError(method, shown, response.status_code, message,
                                 self._hint(response.status_code, not_found), body)
                retryable = retry_any and response.status_code in RETRY_STATUS
            attempt += 1
            if not retryable or attempt >= self.tries:
                raise error
            delay = min(self._delay(attempt - 1, slept), end - time.monotonic())
            if delay < 0 or (delay == 0 and slept >= self.max_backoff):
                raise error
            if end - time.monotonic() - delay < 0.1:  # no time left for another try
                raise error
            self._sleep(delay)
            slept += delay

    @staticmethod
    def decode(response: Any) -> Any:
        """JSON body, None when empty; an answer that is not JSON raises :class:`ApiError` naming the URL."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            text = response.text or ""
            what = "an HTML page (is this the API base URL?)" if "<html" in text[:500].lower() else \
                f"not JSON: {_one_line(text, 60)!r}"
            raise ApiError(response.request.method, str(response.request.url), response.status_code,
                           f"the answer is {what}") from None

    # -- public --------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None, accept: Iterable[int] = (200,),
                not_found: str | None = None) -> tuple[Any, int]:
        """``(data, status)`` for an accepted status; :class:`ApiError` otherwise."""
        response = self.send(method, path, params=params, json_body=json_body, accept=accept,
                             not_found=not_found)
        return self.decode(response), response.status_code

    def get(self, path: str, **kw: Any) -> tuple[Any, int]:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[Any, int]:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> tuple[Any, int]:
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> tuple[Any, int]:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[Any, int]:
        return self.request("DELETE", path, **kw)

    def iter_pages(self, path: str, params: dict[str, Any] | None = None, *, limit: int = 50,
                   page_param: str = "page", limit_param: str = "limit", max_limit: int = 50,
                   max_pages: int = 200, not_found: str | None = None) -> Iterator[Any]:
        """Items of a paged list endpoint, every page of it.

        The server may cap the page below ``limit`` (Gitea's MAX_RESPONSE_ITEMS), so a short page
        says nothing about the end: the list goes on while the ``Link`` header has a ``next``
        (followed as given), else while fewer than ``X-Total-Count`` items were read, else (a
        server with neither header) until an empty page."""
        limit = max(1, min(int(limit), max_limit))
        url = path
        query: dict[str, Any] | None = {**(params or {}), page_param: 1, limit_param: limit}
        seen = 0
        for page in range(1, max_pages + 1):
            response = self.send("GET", url, params=query, not_found=not_found)
            items = self.decode(response) or []
            if not isinstance(items, list):
                raise ApiError("GET", str(response.request.url), response.status_code,
                               f"expected a JSON list, got {type(items).__name__}")
            yield from items
            seen += len(items)
            if not items:
                return
            if "link" in response.headers:
                nxt = (response.links.get("next") or {}).get("url")
                if not nxt:
                    return
                url, query = nxt, None
                continue
            total = response.headers.get("X-Total-Count", "")
            if total.isdigit() and seen >= int(total):
                return
            query = {**(params or {}), page_param: page + 1, limit_param: limit}
        raise ApiError("GET", self.url(path), 200,
                       f"more than {max_pages} pages of {limit}: refusing to read on")

    def paginate(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> list[Any]:
        return list(self.iter_pages(path, params, **kw))
