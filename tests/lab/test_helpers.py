# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""lab/bin/testme-on-pr.sh and verify-pr.sh against the real lab (Gitea over real git, bridge, Drone).

Also holds the lab fixture and the small Gitea/git helpers test_agent.py imports.
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lab.config import LabConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = REPO_ROOT / "lab" / "bin"
TINY, HTML = "custom-html-tiny", "custom-html"

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------------------------
# the lab
def _start_lab(tmp: Path) -> tuple[LabConfig, bool]:
    reuse = os.environ.get("CCCI_TEST_LAB_STATE")  # a lab already up (faster local iterations)
    if reuse:
        return LabConfig.load(reuse), False
    if not (REPO_ROOT / "lab" / "__main__.py").exists():
        pytest.skip("`python -m lab up` is not there yet")
    state = tmp / "lab"
    proc = subprocess.run([sys.executable, "-m", "lab", "up", "--state", str(state), "--fresh",
                           "--build-seconds", "1", "--poll-interval", "0.3"],
                          check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return LabConfig.load(state), True


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabConfig]:
    if os.environ.get("CCCI_TEST_LAB_STATE"):
        yield LabConfig.load(os.environ["CCCI_TEST_LAB_STATE"])
        return
    try:
        shared = request.getfixturevalue("lab_state")
    except Exception:  # noqa: BLE001 - no shared fixture (or another scope): start our own lab
        shared = None
    if shared is not None:
        yield shared if isinstance(shared, LabConfig) else LabConfig.load(shared)
        return
    cfg, mine = _start_lab(tmp_path_factory.mktemp("helpers"))
    yield cfg
    if mine:
        subprocess.run([sys.executable, "-m", "lab", "down", "--state", cfg.state_dir], check=False, cwd=REPO_ROOT,
                       capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def box_env(lab: LabConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the box's scripts and agent see (PATH with the lab's bin, a claude login)."""
    home = tmp_path_factory.mktemp("claude-home")
    (home / ".credentials.json").write_text('{"lab": true}')
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CCCI_", "GITEA_", "DRONE_", "TMUX", "MIRROR_", "UPSTREAM_", "POST", "MAX_WAIT",
                                "INTERVAL", "UPGRADE_RECIPES"))}
    env.update(CCCI_LAB_STATE=lab.state_dir, CCCI_LAB_FAULTS="", CLAUDE_CONFIG_DIR=str(home),
               ABRA_DIR=lab.abra_dir, PATH=f"{BIN}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               INTERVAL="0.3", MAX_WAIT="60")
    return env


class Gitea:
    def __init__(self, cfg: LabConfig) -> None:
        self.cfg = cfg
        self.http = httpx.Client(base_url=cfg.gitea_url + "/api/v1", timeout=30,
                                 headers={"Authorization": f"token {cfg.tokens['bot']}"})

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params or None)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict) -> Any:
        r = self.http.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def pulls(self, repo: str, state: str = "open") -> list[dict]:
        return self.get(f"/repos/{repo}/pulls", state=state, limit=50)

    def pr(self, repo: str, n: int) -> dict:
        return self.get(f"/repos/{repo}/pulls/{n}")

    def comments(self, repo: str, n: int) -> list[dict]:
        return self.get(f"/repos/{repo}/issues/{n}/comments")

    def testme_count(self, repo: str, n: int) -> int:
        return sum(1 for c in self.comments(repo, n) if c["body"].strip() == "!testme")

    def branch(self, repo: str, name: str) -> str | None:
        r = self.http.get(f"/repos/{repo}/branches/{name}")
        return r.json()["commit"]["id"] if r.status_code == 200 else None

    def raw(self, repo: str, path: str, ref: str) -> str:
        sha = self.branch(repo, ref) or ref
        r = self.http.get(f"/repos/{repo}/raw/{path}", params={"ref": sha})
        r.raise_for_status()
        return r.text

    def close_all(self, *repos: str) -> None:
        for repo in repos:
            for p in self.pulls(repo):
                self.http.patch(f"/repos/{repo}/pulls/{p['number']}", json={"state": "closed"})

    # -- git ------------------------------------------------------------------------------------
    def git_env(self) -> dict[str, str]:
        cred = base64.b64encode(f"{self.cfg.users['bot']}:{self.cfg.tokens['bot']}".encode()).decode()
        return {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {cred}", "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@lab", "GIT_COMMITTER_NAME": "test",
                "GIT_COMMITTER_EMAIL": "test@lab"}

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env=self.git_env(), check=True, capture_output=True,
                              text=True).stdout.strip()

    def push_files(self, repo: str, base: str, branch: str, edits: dict[str, Any], msg: str = "seed") -> str:
        """Commit ``edits`` (path -> text, or callable(old text) -> text, or None to delete) on ``base``
        and force-push the result to ``branch``; returns the new head SHA."""
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "w"
            self.git("clone", "-q", "-b", base, f"{self.cfg.gitea_url}/{repo}.git", str(work))
            for path, edit in edits.items():
                f = work / path
                if edit is None:
                    f.unlink()
                    continue
                text = edit(f.read_text()) if callable(edit) else edit
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(text)
            self.git("add", "-A", cwd=work)
            self.git("commit", "-q", "-m", msg, cwd=work)
            self.git("push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
            return self.git("rev-parse", "HEAD", cwd=work)

    def force_branch(self, repo: str, branch: str, sha: str, source: str | None = None) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "w"
            self.git("clone", "-q", "--bare", f"{self.cfg.gitea_url}/{source or repo}.git", str(work))
            self.git("push", "-q", "--force", f"{self.cfg.gitea_url}/{repo}.git", f"{sha}:refs/heads/{branch}",
                     cwd=work)

    def open_pr(self, repo: str, branch: str, edits: dict[str, Any], title: str = "seeded") -> dict:
        self.push_files(repo, "main", branch, edits, title)
        return self.post(f"/repos/{repo}/pulls", {"head": branch, "base": "main", "title": title, "body": "test"})


@pytest.fixture(scope="module")
def gitea(lab: LabConfig) -> Iterator[Gitea]:
    g = Gitea(lab)
    yield g
    g.close_all(*(f"{lab.mirror_org}/{r}" for r in lab.sandbox_recipes), lab.ci_repo)


def run(script: str, *args: str, env: dict[str, str], **more: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / script), *args], check=False, env={**env, **more}, capture_output=True, text=True,
                          timeout=120)


def parse(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def bump(tag: str) -> Any:
    return lambda text: text.replace("static-web-server:2.38.0", f"static-web-server:{tag}")


# ---------------------------------------------------------------------------------------------
def test_usage_and_api_errors(lab: LabConfig, box_env: dict[str, str]) -> None:
    for args in ((), (TINY,), (TINY, "x")):
        out = run("testme-on-pr.sh", *args, env=box_env)
        assert out.returncode == 3 and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) == 1
    out = run("testme-on-pr.sh", TINY, "9999", env=box_env)
    assert out.returncode == 3 and "HTTP 404" in out.stderr
    out = run("testme-on-pr.sh", TINY, "1", env=box_env, GITEA_TOKEN="nope")
    assert out.returncode == 3 and "HTTP 401" in out.stderr


def test_green_red_pending_and_poll_only(lab: LabConfig, box_env: dict[str, str], gitea: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{TINY}"
    green = gitea.open_pr(mirror, "test/helper-green", {"compose.yml": bump("2.39.0")})
    red = gitea.open_pr(mirror, "test/helper-red", {"compose.yml": bump("2.39.0-bad")})

    out = run("testme-on-pr.sh", TINY, str(green["number"]), env=box_env)
    got = parse(out.stdout)
    assert out.returncode == 0 and got["VERDICT"] == "GREEN", out.stdout + out.stderr
    assert got["BUILD"].startswith(f"{lab.drone_url}/{lab.ci_repo}/")
    assert gitea.testme_count(mirror, green["number"]) == 1

    # POST=0 reads the same verdict without a new !testme
    out = run("testme-on-pr.sh", TINY, str(green["number"]), env=box_env, POST="0")
    assert out.returncode == 0 and parse(out.stdout) == got
    assert gitea.testme_count(mirror, green["number"]) == 1

    # POST=1 ignores the previous run's verdict: with no time to wait it is PENDING, not GREEN
    out = run("testme-on-pr.sh", TINY, str(green["number"]), env=box_env, MAX_WAIT="0")
    assert out.returncode == 2 and parse(out.stdout)["VERDICT"] == "PENDING"
    assert gitea.testme_count(mirror, green["number"]) == 2
    # ... and its own run ends GREEN on a later poll-only call, with a new build
    time.sleep(0.5)
    out = run("testme-on-pr.sh", TINY, str(green["number"]), env=box_env, POST="0")
    deadline = time.time() + 30
    while parse(out.stdout).get("BUILD") == got["BUILD"] and time.time() < deadline:
        time.sleep(0.3)
        out = run("testme-on-pr.sh", TINY, str(green["number"]), env=box_env, POST="0")
    assert parse(out.stdout)["BUILD"] != got["BUILD"]

    out = run("testme-on-pr.sh", TINY, str(red["number"]), env=box_env)
    assert out.returncode == 1 and parse(out.stdout)["VERDICT"] == "RED", out.stdout + out.stderr
    assert parse(out.stdout)["BUILD"].startswith(f"{lab.drone_url}/")
    assert gitea.testme_count(mirror, red["number"]) == 1

    # a PR nobody tested: poll-only finds nothing and says PENDING with BUILD=?
    fresh = gitea.open_pr(mirror, "test/helper-untested", {"README.md": "untested\n"})
    out = run("testme-on-pr.sh", TINY, str(fresh["number"]), env=box_env, POST="0", MAX_WAIT="1")
    assert out.returncode == 2 and out.stdout.splitlines() == ["VERDICT=PENDING", "BUILD=?"]
    assert gitea.testme_count(mirror, fresh["number"]) == 0
    gitea.close_all(mirror)


def test_faults(lab: LabConfig, box_env: dict[str, str], gitea: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{TINY}"
    pr = gitea.open_pr(mirror, "test/helper-faults", {"README.md": "faults\n"})
    run("testme-on-pr.sh", TINY, str(pr["number"]), env=box_env, MAX_WAIT="0",
        CCCI_LAB_FAULTS="helper-posts-twice")
    assert gitea.testme_count(mirror, pr["number"]) == 2
    run("testme-on-pr.sh", TINY, str(pr["number"]), env=box_env, MAX_WAIT="0", POST="0",
        CCCI_LAB_FAULTS="helper-posts-when-polling")
    assert gitea.testme_count(mirror, pr["number"]) == 3
    run("testme-on-pr.sh", TINY, str(pr["number"]), env=box_env, MAX_WAIT="0", POST="0")
    assert gitea.testme_count(mirror, pr["number"]) == 3
    gitea.close_all(mirror)


def test_verify_pr_uses_the_branch_tests(lab: LabConfig, box_env: dict[str, str], gitea: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{HTML}"
    pr = gitea.open_pr(mirror, "test/verify-1.27.3", {
        "compose.yml": lambda t: t.replace("nginx:1.26.2", "nginx:1.27.3")})
    # with cc-ci main's (stale) test: RED
    out = run("verify-pr.sh", HTML, str(pr["number"]), "main", env=box_env)
    assert out.returncode == 1 and parse(out.stdout)["VERDICT"] == "RED", out.stdout + out.stderr
    # with a branch whose test expects the new behaviour: GREEN, and the build says which tests it used
    tests = gitea.get(f"/repos/{lab.ci_repo}/contents/tests/{HTML}", ref="main")
    stale = [t["path"] for t in tests if t["name"].startswith("test_") and "1.26.2" in gitea.raw(lab.ci_repo, t["path"], "main")]
    assert stale
    branch = "test-update/verify-pr-test"
    gitea.push_files(lab.ci_repo, "main", branch, {p: (lambda t: t.replace("nginx/1.26.2", "nginx/1.27.3")) for p in stale})
    out = run("verify-pr.sh", HTML, str(pr["number"]), branch, env=box_env)
    got = parse(out.stdout)
    assert out.returncode == 0 and got["VERDICT"] == "GREEN", out.stdout + out.stderr
    number = got["BUILD"].rsplit("/", 1)[1]
    build = httpx.get(f"{lab.drone_url}/api/repos/{lab.ci_repo}/builds/{number}",
                      headers={"Authorization": f"Bearer {lab.tokens['drone']}"}).json()
    assert build["params"]["TESTS_REF"] == branch and build["params"]["REF"] == gitea.pr(mirror, pr["number"])["head"]["sha"]
    assert build["params"]["RECIPE"] == HTML and build["params"]["PR"] == str(pr["number"])
    assert gitea.testme_count(mirror, pr["number"]) == 0  # not a !testme run
    out = run("verify-pr.sh", HTML, str(pr["number"]), "no-such-branch", env=box_env)
    assert out.returncode == 3 and "HTTP 404" in out.stderr
    gitea.http.delete(f"/repos/{lab.ci_repo}/branches/{branch}")
    gitea.close_all(mirror)
