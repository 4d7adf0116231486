# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab Drone over real loopback HTTP, its harness driving the real abra stand-in.

Gitea and the registry are a small in-test fake (``FakeBox``) speaking the FACTS §2 shapes the
Drone and the bridge use; ``test_bridge.py`` reuses it. The full path against the real lab lives
in ``test_bridge.py``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from lab.config import LabConfig
from lab.drone import DroneService
from lab.engine import Engine

CI = "recipe-maintainers/cc-ci"
REGISTRY = {
    "nginx": {"1.26.2": {"server_header": "nginx/1.26.2", "serves_index": True},
              "1.27.3": {"server_header": "nginx/1.27.3", "serves_index": True}},
}


def compose(tag: str) -> bytes:
    return (f"services:\n  app:\n    image: nginx:{tag}\n    deploy:\n      labels:\n"
            f"        - \"coop-cloud.${{STACK_NAME}}.version=1.1.0+{tag}\"\nvolumes:\n  content:\n").encode()


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class FakeBox:
    """Gitea API v1 (the subset Drone and the bridge call) and the lab registry, in one server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.trees: dict[str, dict[str, dict[str, bytes]]] = {}  # repo -> sha -> path -> bytes
        self.branches: dict[str, dict[str, str]] = {}
        self.members = {"recipe-maintainers": {"cc-ci-bot"}}
        self.tokens = {"bot-token": "cc-ci-bot", "outsider-token": "outsider"}
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.statuses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, auth)
        self.seq = 100
        box = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def handle_one(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"null") if n else None
                url = urlsplit(self.path)
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                with box.lock:
                    box.requests.append((self.command, url.path, self.headers.get("Authorization", "")))
                    code, data = box.route(self.command, unquote(url.path), q, body,
                                           self.headers.get("Authorization", ""))
                raw = b"" if data is None else json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = do_HEAD = handle_one  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- seeding --------------------------------------------------------------------------------
    def commit(self, repo: str, branch: str, files: dict[str, bytes], msg: str = "") -> str:
        head = sha(f"{repo}{branch}{sorted(files.items())}{msg}")
        self.trees.setdefault(repo, {})[head] = dict(files)
        self.branches.setdefault(repo, {})[branch] = head
        return head

    def open_pr(self, repo: str, head_sha: str) -> int:
        prs = self.pulls.setdefault(repo, [])
        n = len(prs) + 1
        prs.append({"number": n, "state": "open", "head": {"sha": head_sha, "ref": f"pr{n}"}, "base": {"ref": "main"},
                    "user": {"login": "cc-ci-bot"}, "title": f"PR {n}"})
        return n

    def comment(self, repo: str, n: int, login: str, body: str) -> dict[str, Any]:
        with self.lock:
            return self._comment(repo, n, login, body)

    def _comment(self, repo: str, n: int, login: str, body: str) -> dict[str, Any]:
        self.seq += 1
        c = {"id": self.seq, "body": body, "user": {"login": login}, "created_at": "", "html_url": ""}
        self.comments.setdefault((repo, n), []).append(c)
        return c

    # -- routing --------------------------------------------------------------------------------
    def route(self, method: str, path: str, q: dict[str, str], body: Any, auth: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        user = self.tokens.get(auth.removeprefix("token "))
        if parts[:2] == ["v2", parts[1] if len(parts) > 1 else ""] and "manifests" in parts:
            i = parts.index("manifests")
            name, tag = "/".join(parts[1:i]), parts[i + 1]
            return (200, {}) if tag in REGISTRY.get(name, {}) else (404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        if parts[:3] == ["lab", "v1", "images"]:
            name, tag = "/".join(parts[3:-1]), parts[-1]
            if tag not in REGISTRY.get(name, {}):
                return 404, {"message": "unknown"}
            return 200, {"behaviour": REGISTRY[name][tag], "changes": {}}
        if parts[:3] == ["api", "v1", "orgs"] and parts[4] == "members":
            return (204, None) if parts[5] in self.members.get(parts[3], set()) else (404, {"message": "not a member"})
        if parts[:3] != ["api", "v1", "repos"]:
            return 404, {"message": "not found"}
        repo, rest = "/".join(parts[3:5]), parts[5:]
        if rest[:1] == ["branches"]:
            head = self.branches.get(repo, {}).get(rest[1])
            return (200, {"name": rest[1], "commit": {"id": head, "message": "seed\n"}}) if head else (404, {"message": "x"})
        if rest[:1] == ["contents"]:
            ref = q.get("ref") or self.branches.get(repo, {}).get("main")
            ref = self.branches.get(repo, {}).get(ref, ref)
            tree = self.trees.get(repo, {}).get(ref)
            if tree is None:
                return 404, {"message": "ref not found"}
            want = "/".join(rest[1:])
            if want in tree:
                return 200, {"type": "file", "name": want.rsplit("/", 1)[-1], "path": want,
                             "content": base64.b64encode(tree[want]).decode(), "encoding": "base64"}
            prefix = want + "/" if want else ""
            kids: dict[str, str] = {}
            for p in tree:
                if p.startswith(prefix):
                    head, _unused, tail = p[len(prefix):].partition("/")
                    kids[head] = "dir" if tail else "file"
            if not kids:
                return 404, {"message": "object does not exist"}
            return 200, [{"name": k, "path": prefix + k, "type": t} for k, t in sorted(kids.items())]
        if rest == ["pulls"]:
            return 200, [p for p in self.pulls.get(repo, []) if p["state"] == q.get("state", "open")]
        if rest[:1] == ["issues"] and rest[-1] == "comments" and method == "GET":
            return 200, self.comments.get((repo, int(rest[1])), [])
        if rest[:1] == ["issues"] and rest[-1] == "comments" and method == "POST":
            if user is None:
                return 401, {"message": "user does not exist"}
            return 201, self._comment(repo, int(rest[1]), user, body["body"])
        if rest[:2] == ["issues", "comments"] and method == "PATCH":
            for cs in self.comments.values():
                for c in cs:
                    if c["id"] == int(rest[2]):
                        c["body"] = body["body"]
                        return 200, c
            return 404, {"message": "no comment"}
        if rest[:1] == ["statuses"] and method == "POST":
            st = {"id": len(self.statuses) + 1, "status": body["state"], "target_url": body.get("target_url"),
                  "context": body.get("context"), "description": body.get("description")}
            self.statuses.setdefault((repo, rest[1]), []).append(st)
            return 201, st
        return 404, {"message": "not found"}


def seed(box: FakeBox) -> dict[str, str]:
    """custom-html at three heads (good, newer nginx, missing tag) and cc-ci with its one test."""
    test = {"name": "version_header", "why": "pins the server header", "expect": {"server_header": "nginx/1.26.2"}}
    box.commit(CI, "main", {"tests/custom-html/test_version_header.json": json.dumps(test).encode(),
                            "tests/custom-html/README.md": b"x"})
    box.commit(CI, "fresh-tests", {"tests/custom-html/test_version_header.json": json.dumps(
        {**test, "expect": {"server_header": "nginx/1.27.3"}}).encode()})
    repo = "recipe-maintainers/custom-html"
    heads = {name: box.commit(repo, name, {"compose.yml": compose(tag), ".env.sample": b"DOMAIN=x\n",
                                           "release/1.1.0": b"notes\n"})
             for name, tag in (("upgrade", "1.27.3"), ("bad", "1.99.0-bad"), ("main", "1.26.2"))}
    heads["orphan"] = box.commit("recipe-maintainers/orphan", "main", {"compose.yml": compose("1.26.2")})
    return heads


@pytest.fixture(scope="module")
def box() -> Iterator[FakeBox]:
    b = FakeBox()
    yield b
    b.close()


def make_cfg(state: Path, box: FakeBox, build_seconds: float = 0.4, faults: list[str] | None = None) -> LabConfig:
    cfg = LabConfig.new(state, faults=faults, build_seconds=build_seconds, poll_interval=0.2)
    cfg.gitea_url = cfg.registry_url = box.url
    cfg.tokens.update(bot="bot-token", outsider="outsider-token")
    return cfg


@pytest.fixture(scope="module")
def heads(box: FakeBox) -> dict[str, str]:
    return seed(box)


@pytest.fixture(scope="module")
def drone(tmp_path_factory: pytest.TempPathFactory, box: FakeBox, heads: dict[str, str]) -> Iterator[DroneService]:
    svc = DroneService(make_cfg(tmp_path_factory.mktemp("drone"), box))
    svc.cfg.drone_url = svc.start() or ""
    yield svc
    svc.stop()


def api(svc: DroneService) -> httpx.Client:
    return httpx.Client(base_url=svc.cfg.drone_url, headers={"Authorization": f"Bearer {svc.cfg.tokens['drone']}"},
                        timeout=10)


def trigger(svc: DroneService, **params: str) -> dict[str, Any]:
    resp = api(svc).post(f"/api/repos/{CI}/builds", params={"branch": "main", **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait(svc: DroneService, number: int, timeout: float = 15) -> dict[str, Any]:
    end = time.time() + timeout
    while time.time() < end:
        build = api(svc).get(f"/api/repos/{CI}/builds/{number}").json()
        if build["status"] in ("success", "failure", "killed", "error"):
            return build
        time.sleep(0.05)
    raise AssertionError(f"build {number} still {build['status']}")


def steps(build: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["status"] for s in build["stages"][0]["steps"]}


def log_of(svc: DroneService, build: dict[str, Any], name: str) -> str:
    step = next(s for s in build["stages"][0]["steps"] if s["name"] == name)
    lines = api(svc).get(f"/api/repos/{CI}/builds/{build['number']}/logs/1/{step['number']}").json()
    assert all(set(line) == {"pos", "out", "time"} for line in lines)
    return "".join(line["out"] for line in lines)


def recipe_params(ref: str, **extra: str) -> dict[str, str]:
    return {"RECIPE": "custom-html", "REPO": "recipe-maintainers/custom-html", "PR": "1", "REF": ref, **extra}


def test_auth_and_errors(drone: DroneService) -> None:
    anon = httpx.get(f"{drone.cfg.drone_url}/api/repos/{CI}/builds")
    assert anon.status_code == 401 and "message" in anon.json()
    bad = httpx.get(f"{drone.cfg.drone_url}/api/user", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert api(drone).get("/api/user").json()["login"] == "cc-ci-bot"
    assert api(drone).get(f"/api/repos/{CI}/builds/9999").status_code == 404
    assert api(drone).get("/api/repos/recipe-maintainers/custom-html/builds").status_code == 404


def test_green_build(drone: DroneService, heads: dict[str, str], box: FakeBox) -> None:
    created = trigger(drone, **recipe_params(heads["main"]))
    assert created["event"] == "custom" and created["status"] in ("pending", "running")
    assert created["params"] == recipe_params(heads["main"])
    assert created["after"] == box.branches[CI]["main"] and created["ref"] == "refs/heads/main"
    build = wait(drone, created["number"])
    assert build["status"] == "success", steps(build)
    assert list(steps(build)) == ["clone", "deploy", "install", "upgrade", "backup-restore", "test:version_header",
                                  "teardown"]
    assert set(steps(build).values()) == {"success"}
    domain = f"custom-html-{build['number']}.lab.local"
    assert f"abra app new custom-html --server lab.local --domain {domain} -n" in log_of(drone, build, "deploy")
    assert "ok server_header=nginx/1.26.2" in log_of(drone, build, "test:version_header")
    assert build["started"] and build["finished"] >= build["started"] and build["link"]
    engine = Engine(Path(drone.cfg.abra_dir))
    assert engine.objects("stacks") == engine.objects("volumes") == [] and engine.apps() == {}


def test_web_app_answers_every_non_api_path(drone: DroneService) -> None:
    """Drone's server answers any non-API path with its web app: a 200 proves no build exists."""
    for path in (f"/{CI}/1", f"/{CI}/99999", "/no/such/page", "/"):
        page = httpx.get(drone.cfg.drone_url + path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"], path
    assert httpx.get(drone.cfg.drone_url + f"/{CI}/99999").text == httpx.get(drone.cfg.drone_url + f"/{CI}/1").text
    assert api(drone).get("/api/no/such/route").status_code == 404


def test_one_runner_queues_builds_with_pending_stages(drone: DroneService, heads: dict[str, str]) -> None:
    """One runner: the second build waits ``pending``, its stage created at trigger, no steps until it runs."""
    first = trigger(drone, **recipe_params(heads["main"]))
    second = trigger(drone, **recipe_params(heads["main"]))
    for created in (first, second):
        assert created["status"] == "pending"
        assert [(st["number"], st["status"]) for st in created["stages"]] == [(1, "pending")]
        assert "steps" not in created["stages"][0] and created["started"] == 0
    end = time.time() + 10
    queued = api(drone).get(f"/api/repos/{CI}/builds/{second['number']}").json()
    while api(drone).get(f"/api/repos/{CI}/builds/{first['number']}").json()["status"] != "running":
        assert time.time() < end
        time.sleep(0.02)
        queued = api(drone).get(f"/api/repos/{CI}/builds/{second['number']}").json()
    queued = api(drone).get(f"/api/repos/{CI}/builds/{second['number']}").json()
    assert queued["status"] == "pending" and queued["stages"][0]["status"] == "pending"
    assert "steps" not in queued["stages"][0]
    first, second = wait(drone, first["number"]), wait(drone, second["number"])
    assert second["started"] >= first["finished"]  # never overlapped
    assert steps(second)["teardown"] == "success" and second["stages"][0]["machine"]


def test_two_runners_overlap(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    cfg = make_cfg(tmp_path, box, build_seconds=1.5)
    cfg.runners = 2
    svc = DroneService(cfg)
    cfg.drone_url = svc.start() or ""
    try:
        a, b = (trigger(svc, **recipe_params(heads["main"])) for _unused in range(2))
        a, b = wait(svc, a["number"]), wait(svc, b["number"])
    finally:
        svc.stop()
    assert b["started"] < a["finished"]


def test_per_page_as_drone_handles_it(drone: DroneService, heads: dict[str, str]) -> None:
    for _unused in range(3):
        trigger(drone, RECIPE="orphan", REPO="recipe-maintainers/orphan")
    c = api(drone)
    everything = [b["number"] for b in c.get(f"/api/repos/{CI}/builds", params={"per_page": 100}).json()]
    assert len(everything) > 3
    for per_page in (0, -1, 101, 1000, "x"):  # outside 1..100: Drone's default of 25
        got = c.get(f"/api/repos/{CI}/builds", params={"per_page": per_page}).json()
        assert [b["number"] for b in got] == everything[:25], per_page
    assert [b["number"] for b in c.get(f"/api/repos/{CI}/builds", params={"page": 0, "per_page": 2}).json()] \
        == everything[:2]
    assert [b["number"] for b in c.get(f"/api/repos/{CI}/builds", params={"page": 2, "per_page": 2}).json()] \
        == everything[2:4]


@pytest.mark.parametrize(("fault", "status", "final"), [
    ("drone-blocks-builds", "blocked", "blocked"),
    ("drone-declines-builds", "blocked", "declined"),
    ("drone-waits-on-dependencies", "waiting_on_dependencies", "waiting_on_dependencies"),
    ("drone-dead-runner", "pending", "pending"),
])
def test_faults_hold_the_stage(tmp_path: Path, box: FakeBox, heads: dict[str, str], fault: str, status: str,
                               final: str) -> None:
    cfg = make_cfg(tmp_path, box, build_seconds=0.3, faults=[fault])
    svc = DroneService(cfg)
    cfg.drone_url = svc.start() or ""
    try:
        created = trigger(svc, **recipe_params(heads["main"]))
        assert created["status"] == created["stages"][0]["status"] == status
        time.sleep(1.5)  # longer than a build and than the lab's decline delay
        build = api(svc).get(f"/api/repos/{CI}/builds/{created['number']}").json()
        assert build["status"] == build["stages"][0]["status"] == final
        assert build["started"] == 0 and "steps" not in build["stages"][0]
        assert Engine(Path(cfg.abra_dir)).apps() == {}
        if final != "declined":  # a queued or held build can be cancelled: Drone skips its stage
            killed = api(svc).delete(f"/api/repos/{CI}/builds/{created['number']}").json()
            assert killed["status"] == "killed" and killed["stages"][0]["status"] == "skipped"
    finally:
        svc.stop()


def test_regression_fails_deploy_and_tears_down(drone: DroneService, heads: dict[str, str]) -> None:
    build = wait(drone, trigger(drone, **recipe_params(heads["bad"]))["number"])
    assert build["status"] == "failure"
    st = steps(build)
    assert st["clone"] == "success" and st["deploy"] == "failure" and st["teardown"] == "success"
    assert st["install"] == st["test:version_header"] == "skipped"
    assert "unable to pull nginx:1.99.0-bad" in log_of(drone, build, "deploy")
    assert Engine(Path(drone.cfg.abra_dir)).apps() == {}


def test_stale_test_and_tests_ref(drone: DroneService, heads: dict[str, str]) -> None:
    stale = trigger(drone, **recipe_params(heads["upgrade"]))
    fresh = trigger(drone, **recipe_params(heads["upgrade"], TESTS_REF="fresh-tests"))
    stale, fresh = wait(drone, stale["number"]), wait(drone, fresh["number"])
    assert stale["status"] == "failure" and steps(stale)["test:version_header"] == "failure"
    assert "expected server_header=nginx/1.26.2 got nginx/1.27.3" in log_of(drone, stale, "test:version_header")
    assert fresh["status"] == "success"


def test_unenrolled_recipe_fails_clearly(drone: DroneService) -> None:
    build = wait(drone, trigger(drone, RECIPE="orphan", REPO="recipe-maintainers/orphan", PR="1")["number"])
    assert build["status"] == "failure" and steps(build)["clone"] == "failure"
    assert "no tests for orphan: tests/orphan/ does not exist" in log_of(drone, build, "clone")


def test_quick_skips_upgrade_and_backup(drone: DroneService, heads: dict[str, str]) -> None:
    build = wait(drone, trigger(drone, **recipe_params(heads["main"], QUICK="1"))["number"])
    assert build["status"] == "success"
    assert steps(build)["upgrade"] == steps(build)["backup-restore"] == "skipped"


def test_list_restart_cancel(drone: DroneService, heads: dict[str, str]) -> None:
    c = api(drone)
    for number in [trigger(drone, RECIPE="orphan", REPO="recipe-maintainers/orphan")["number"] for _unused in range(4)]:
        wait(drone, number)
    builds = c.get(f"/api/repos/{CI}/builds", params={"per_page": 1000}).json()
    numbers = [b["number"] for b in builds]
    assert numbers == sorted(numbers, reverse=True) and "stages" not in builds[0]
    assert [b["number"] for b in c.get(f"/api/repos/{CI}/builds", params={"page": 2, "per_page": 2}).json()] \
        == numbers[2:4]
    old = builds[-1]
    again = c.post(f"/api/repos/{CI}/builds/{old['number']}").json()
    assert again["number"] == numbers[0] + 1 and again["params"] == old["params"] and again["parent"] == old["number"]
    doomed = trigger(drone, **recipe_params(heads["main"]))
    assert c.delete(f"/api/repos/{CI}/builds/{doomed['number']}").status_code == 200
    assert wait(drone, doomed["number"])["status"] == "killed"
    assert c.delete(f"/api/repos/{CI}/builds/{doomed['number']}").status_code == 409
    wait(drone, again["number"])


def test_state_survives_restart(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    cfg = make_cfg(tmp_path, box, build_seconds=0.1)
    first = DroneService(cfg)
    cfg.drone_url = first.start() or ""
    unenrolled = {"RECIPE": "orphan", "REPO": "recipe-maintainers/orphan"}  # no deploy: quick
    number = wait(first, trigger(first, **unenrolled)["number"])["number"]
    first.stop()
    second = DroneService(cfg)
    cfg.drone_url = second.start() or ""
    try:
        again = api(second).get(f"/api/repos/{CI}/builds/{number}").json()
        assert again["status"] == "failure" and steps(again)["clone"] == "failure"
        assert trigger(second, **unenrolled)["number"] == number + 1
    finally:
        second.stop()


def test_fault_teardown_leaves_volume(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    cfg = make_cfg(tmp_path, box, build_seconds=0.1, faults=["teardown-leaves-volume"])
    svc = DroneService(cfg)
    cfg.drone_url = svc.start() or ""
    try:
        build = wait(svc, trigger(svc, **recipe_params(heads["main"]))["number"])
    finally:
        svc.stop()
    assert build["status"] == "success"  # the harness cannot tell: abra remove said it worked
    engine = Engine(Path(cfg.abra_dir))
    assert [v["name"] for v in engine.objects("volumes")] == [f"custom-html-{build['number']}_lab_local_content"]
    assert engine.objects("stacks") == engine.objects("secrets") == [] and engine.apps() == {}


def _one_build(tmp_path: Path, box: FakeBox, fault: str, ref: str, **extra: str) -> tuple[DroneService, dict[str, Any]]:
    cfg = make_cfg(tmp_path, box, build_seconds=0.2, faults=[fault])
    svc = DroneService(cfg)
    cfg.drone_url = svc.start() or ""
    return svc, wait(svc, trigger(svc, **recipe_params(ref, **extra))["number"])


def test_mutant_success_despite_failed_step(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    svc, build = _one_build(tmp_path, box, "drone-success-despite-failed-step", heads["bad"])
    svc.stop()
    assert build["status"] == "success" and steps(build)["deploy"] == "failure"


def test_mutant_finished_before_started(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    svc, build = _one_build(tmp_path, box, "drone-finished-before-started", heads["main"])
    svc.stop()
    assert build["status"] == "success" and 0 < build["finished"] < build["started"]


def test_mutant_harness_ignores_ref(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    svc, build = _one_build(tmp_path, box, "harness-ignores-ref", heads["bad"])
    try:
        assert build["status"] == "success"  # the bad head was never deployed: main was
        assert f"HEAD is now at {box.branches['recipe-maintainers/custom-html']['main']}" in log_of(svc, build, "clone")
    finally:
        svc.stop()


def test_mutant_harness_skips_teardown(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    svc, build = _one_build(tmp_path, box, "harness-skips-teardown", heads["main"])
    svc.stop()
    assert build["status"] == "success" and steps(build)["teardown"] == "success"
    assert Engine(Path(svc.cfg.abra_dir)).objects("stacks") != []


def test_mutant_answers_stale_build(tmp_path: Path, box: FakeBox, heads: dict[str, str]) -> None:
    cfg = make_cfg(tmp_path, box, build_seconds=0.2, faults=["drone-answers-stale-build"])
    svc = DroneService(cfg)
    cfg.drone_url = svc.start() or ""
    try:
        first = trigger(svc, **recipe_params(heads["main"]))
        wait(svc, first["number"])
        second = trigger(svc, **recipe_params(heads["bad"], PR="2"))
        assert second["number"] == first["number"] and second["params"]["REF"] == heads["main"]
        real = wait(svc, first["number"] + 1)  # the new build exists and runs; Drone named the old one
        assert real["params"]["REF"] == heads["bad"]
    finally:
        svc.stop()
