# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base HTTP client: retries with backoff, one-line errors, pagination."""
from __future__ import annotations

import socket

import httpx
import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.api import ApiClient, ApiError, redact_url
from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import silent_server

BASE = "http://api.test"


def client(handler, **kw):
    sleeps: list[float] = []
    kw.setdefault("jitter", lambda: 0.5)
    c = ApiClient(BASE, "s3cret-token", transport=httpx.MockTransport(handler), sleep=sleeps.append,
                  token_name="ccci_gitea_token", **kw)
    return c, sleeps


def counting(responses):
    calls = []

    def handler(request):
        calls.append(request)
        item = responses[min(len(calls) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


def test_get_retries_5xx_with_growing_backoff_then_succeeds():
    handler, calls = counting([httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": 1})])
    c, sleeps = client(handler)
    assert c.get("/x") == ({"ok": 1}, 200)
    assert len(calls) == 3
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]


def test_retries_are_bounded_and_backoff_total_is_capped():
    handler, calls = counting([httpx.ConnectError("[Errno 111] Connection refused")])
    c, sleeps = client(handler, jitter=lambda: 1.0)
    with pytest.raises(ApiError) as err:
        c.get("/x")
    assert len(calls) == 4
    assert len(sleeps) == 3 and sum(sleeps) <= 8.0
    assert str(err.value) == f"GET {BASE}/x: cannot connect (connection refused): check the URL"
    assert err.value.status is None


def test_backoff_cap_bounds_the_total_sleep():
    handler, calls = counting([httpx.Response(500)])
    c, sleeps = client(handler, tries=10, backoff=2.0, max_backoff=8.0, jitter=lambda: 1.0)
    with pytest.raises(ApiError):
        c.get("/x")
    assert sum(sleeps) <= 8.0 + 1e-9
    assert len(calls) < 10


def test_post_is_not_retried_when_the_server_may_have_acted():
    handler, calls = counting([httpx.Response(503, json={"message": "busy"})])
    c, sleeps = client(handler)
    with pytest.raises(ApiError) as err:
        c.post("/comments", {"body": "!testme"}, accept=(201,))
    assert len(calls) == 1 and sleeps == []
    assert str(err.value) == f"POST {BASE}/comments: HTTP 503: busy"


def test_post_is_retried_when_it_never_reached_the_server():
    handler, calls = counting([httpx.ConnectError("refused"), httpx.Response(201, json={"id": 1})])
    c, _unused = client(handler)
    assert c.post("/comments", {"body": "x"}, accept=(201,)) == ({"id": 1}, 201)
    assert len(calls) == 2


def test_read_timeout_retried_for_get_only():
    handler, calls = counting([httpx.ReadTimeout("slow"), httpx.Response(200, json=[])])
    c, _unused = client(handler)
    assert c.get("/x") == ([], 200)
    handler, calls = counting([httpx.ReadTimeout("slow")])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.patch("/x", {"a": 1})
    assert len(calls) == 1
    # a server that accepted and did not answer is not one that cannot be reached (issue 12.5)
    assert "PATCH http://api.test/x: no answer within 60 s (ReadTimeout after 1 tries)" in str(err.value)
    assert "cannot connect" not in str(err.value)


def test_a_server_that_never_answers_ends_within_the_deadline():
    import time

    with silent_server() as url:
        c = ApiClient(url, "s3cret-token", timeout=2)
        started = time.monotonic()
        with pytest.raises(ApiError) as err:
            c.get("/api/v1/user")
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed
    assert str(err.value).startswith(f"GET {url}/api/v1/user: no answer within 2 s (ReadTimeout after 2 tries)")
    assert "s3cret" not in str(err.value)


def test_a_port_nobody_listens_on_cannot_connect():
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    c = ApiClient(f"http://127.0.0.1:{port}", None, timeout=3, sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.get("/api/v1/version")
    assert str(err.value) == f"GET http://127.0.0.1:{port}/api/v1/version: cannot connect (connection refused): check the URL"


@pytest.mark.parametrize("body, said", [
    ("<!DOCTYPE html><html><body>Drone</body></html>", "the answer is an HTML page (is this the API base URL?)"),
    ("ok", "the answer is not JSON: 'ok'"),
])
def test_a_non_json_200_is_one_line_naming_the_url(body, said):
    handler, _unused = counting([httpx.Response(200, text=body)])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.get("/api/repos/o/r/builds")
    assert str(err.value) == f"GET {BASE}/api/repos/o/r/builds: HTTP 200: {said}"


def test_401_is_one_line_with_a_hint_and_no_token():
    handler, _unused = counting([httpx.Response(401, json={"message": "user does not exist", "url": "x"})])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.get("/user")
    text = str(err.value)
    assert text == f"GET {BASE}/user: HTTP 401: user does not exist (token rejected: check ccci_gitea_token)"
    assert "\n" not in text and "s3cret" not in text


def test_404_uses_the_callers_hint():
    handler, _unused = counting([httpx.Response(404, json={"message": "pull request does not exist"})])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.get("/repos/o/r/pulls/99", not_found="no PR #99 in o/r")
    assert str(err.value) == f"GET {BASE}/repos/o/r/pulls/99: HTTP 404: pull request does not exist (no PR #99 in o/r)"


def test_non_json_error_body_becomes_a_short_excerpt():
    handler, _unused = counting([httpx.Response(404, text="<html><body>Not Found</body></html>")])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.get("/nope")
    assert "unexpected HTML page (is this the API base URL?)" in str(err.value)
    long_body = "x" * 5000
    handler, _unused = counting([httpx.Response(400, text=long_body)])
    c, _unused = client(handler)
    with pytest.raises(ApiError) as err:
        c.get("/bad")
    assert len(str(err.value)) < 200


def test_accepted_codes_return_data_and_status():
    handler, _unused = counting([httpx.Response(404, json={"message": "nope"})])
    c, _unused = client(handler)
    assert c.get("/orgs/o/members/u", accept=(204, 404)) == ({"message": "nope"}, 404)
    handler, _unused = counting([httpx.Response(204)])
    c, _unused = client(handler)
    assert c.get("/orgs/o/members/u", accept=(204, 404)) == (None, 204)


def test_auth_header_and_redaction():
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    c, _unused = client(handler)
    c.get("/x")
    assert seen == ["token s3cret-token"]
    assert redact_url("http://u:p@h:3000/a?access_token=abc&page=2") == "http://h:3000/a?access_token=***&page=2"


def test_a_short_page_is_not_the_end_without_headers():
    """A server that caps pages below ``limit`` and sends no paging headers: read to an empty page."""
    items = list(range(45))
    asked = []

    def handler(request):
        page, limit = int(request.url.params["page"]), min(int(request.url.params["limit"]), 20)
        asked.append((page, int(request.url.params["limit"])))
        return httpx.Response(200, json=items[(page - 1) * limit: page * limit])

    c, _unused = client(handler)
    assert c.paginate("/list", limit=500) == items
    assert asked == [(1, 50), (2, 50), (3, 50), (4, 50)]


def test_pagination_follows_link_next_under_a_page_cap_of_20():
    """Gitea with MAX_RESPONSE_ITEMS=20: every page is "short" for limit=50; Link says what follows."""
    items = list(range(47))
    asked = []

    def handler(request):
        page, limit = int(request.url.params["page"]), min(int(request.url.params["limit"]), 20)
        asked.append(str(request.url))
        headers = {"X-Total-Count": str(len(items))}
        if page * limit < len(items):
            nxt = request.url.copy_set_param("page", page + 1)
            headers["Link"] = f'<{nxt}>; rel="next",<{request.url.copy_set_param("page", 3)}>; rel="last"'
        return httpx.Response(200, json=items[(page - 1) * limit: page * limit], headers=headers)

    c, _unused = client(handler)
    assert c.paginate("/list", {"state": "all"}) == items
    assert [httpx.URL(u).params["page"] for u in asked] == ["1", "2", "3"]
    assert all(httpx.URL(u).params["state"] == "all" for u in asked)


def test_pagination_stops_at_total_count():
    items = list(range(100))
    asked = []

    def handler(request):
        page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
        asked.append(page)
        return httpx.Response(200, json=items[(page - 1) * limit: page * limit], headers={"X-Total-Count": "100"})

    c, _unused = client(handler)
    assert len(c.paginate("/list")) == 100
    assert asked == [1, 2]


def test_pagination_total_count_under_a_cap_reads_every_page():
    items = list(range(41))

    def handler(request):
        page = int(request.url.params["page"])
        return httpx.Response(200, json=items[(page - 1) * 20: page * 20], headers={"X-Total-Count": "41"})

    c, _unused = client(handler)
    assert c.paginate("/list") == items


def test_pagination_without_an_end_is_bounded():
    def handler(request):
        return httpx.Response(200, json=[1], headers={"Link": f'<{request.url.copy_set_param("page", 9)}>; rel="next"'})

    c, _unused = client(handler)
    with pytest.raises(ApiError, match="more than 3 pages"):
        c.paginate("/list", max_pages=3)


def test_wrong_url_against_a_closed_local_port_is_one_line():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    c = ApiClient(f"http://127.0.0.1:{port}", "tok", sleep=lambda s: None, timeout=2)
    with pytest.raises(ApiError) as err:
        c.get("/api/v1/user")
    assert str(err.value) == f"GET http://127.0.0.1:{port}/api/v1/user: cannot connect (connection refused): check the URL"


def test_base_url_must_be_http():
    with pytest.raises(ValueError):
        ApiClient("gitea.example.org", "t")
