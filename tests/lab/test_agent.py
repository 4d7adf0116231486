# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stand-in agent (lab/bin/claude) against the real lab: /recipe-upgrade and /upgrade-all."""
from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_helpers import BIN, HTML, TINY, Gitea, box_env, gitea, lab  # pytest fixtures  # noqa: F401  # pylint: disable=unused-import

from lab.config import LabConfig

pytestmark = pytest.mark.slow


def claude(env: dict[str, str], *args: str, **more: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "claude"), *args], check=False, env={**env, **more}, capture_output=True, text=True,
                          timeout=300)


def result(out: subprocess.CompletedProcess) -> str:
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT: ")]
    assert lines, out.stdout + out.stderr
    assert out.stdout.rstrip().splitlines()[-1] == lines[-1]  # the RESULT line is the last line
    return lines[-1][len("RESULT: "):]


@pytest.fixture
def clean(lab: LabConfig, gitea: Gitea) -> Iterator[Gitea]:
    """Every test starts with no open PR and the upstreams/mirrors/cc-ci main as they were."""
    repos = [f"{org}/{r}" for org in (lab.upstream_org, lab.mirror_org) for r in lab.sandbox_recipes] + [lab.ci_repo]
    before = {repo: gitea.branch(repo, "main") for repo in repos}
    gitea.close_all(*repos)
    yield gitea
    gitea.close_all(*repos)
    for repo, sha in before.items():
        if gitea.branch(repo, "main") != sha:
            gitea.force_branch(repo, "main", sha)


def builds(lab: LabConfig) -> list[dict]:
    return httpx.get(f"{lab.drone_url}/api/repos/{lab.ci_repo}/builds", params={"per_page": 100},
                     headers={"Authorization": f"Bearer {lab.tokens['drone']}"}).json()


def pr_from(out: str) -> int:
    m = re.search(r"^PR: \S+/pulls/(\d+)$", out, re.M)
    assert m, out
    return int(m.group(1))


# ---------------------------------------------------------------------------------------------
def test_cli_login_version_and_flags(box_env: dict[str, str], tmp_path: Path) -> None:
    assert claude(box_env, "--version").returncode == 0
    out = claude(box_env, "--dangerously-skip-permissions", "-p", "/upgrade-all")
    assert out.returncode == 2 and "unknown option" in out.stderr
    env = {k: v for k, v in box_env.items() if k != "CLAUDE_CONFIG_DIR"}
    out = claude(env, "-p", "/upgrade-all --dry-run", HOME=str(tmp_path))
    assert out.returncode == 1 and "not logged in: run claude login" in out.stderr
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text("{}")
    assert claude(env, "--print", "/upgrade-all --dry-run", HOME=str(tmp_path)).returncode == 0


def test_upgrade_all_dry_run_opens_nothing(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    out = claude(box_env, "-p", "/upgrade-all --dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"CANDIDATES: {TINY}, {HTML}" in out.stdout
    assert "2.38.0 -> 2.39.0" in out.stdout and "1.26.2 -> 1.27.3" in out.stdout
    assert result(out).startswith("DRY-RUN")
    assert all(not clean.pulls(f"{lab.mirror_org}/{r}") for r in lab.sandbox_recipes)
    out = claude(box_env, "-p", "/upgrade-all --dry-run", UPGRADE_RECIPES=TINY)
    assert f"CANDIDATES: {TINY}\n" in out.stdout


def test_recipe_upgrade_green(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{TINY}"
    out = claude(box_env, "-p", f"/recipe-upgrade {TINY}")
    assert result(out) == "SUCCESS", out.stdout
    n = pr_from(out.stdout)
    pr = clean.pr(mirror, n)
    assert pr["state"] == "open" and not pr["merged"] and pr["head"]["ref"] == "upgrade/2.39.0"
    assert pr["title"] == f"Upgrade {TINY} to 1.0.3+2.39.0"
    compose = clean.raw(mirror, "compose.yml", pr["head"]["sha"])
    assert "static-web-server:2.39.0" in compose and "version=1.0.3+2.39.0" in compose
    assert clean.raw(mirror, "release/1.0.3+2.39.0", pr["head"]["sha"])
    assert clean.testme_count(mirror, n) == 1
    assert clean.branch(mirror, "main") == clean.branch(f"{lab.upstream_org}/{TINY}", "main")
    # a second run continues on the same PR
    again = claude(box_env, "-p", f"/recipe-upgrade {TINY}")
    assert result(again) == "SUCCESS" and pr_from(again.stdout) == n


def test_fixable_and_persistent_regressions(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{TINY}"

    def seed(compose_edit):  # noqa: ANN001
        return clean.open_pr(mirror, "upgrade/2.39.0", {"compose.yml": lambda t: compose_edit(
            t.replace("static-web-server:2.38.0", "static-web-server:2.39.0").replace(
                "version=1.0.2+2.38.0", "version=1.0.3+2.39.0"))}, title=f"Upgrade {TINY} to 1.0.3+2.39.0")

    pr = seed(lambda t: t.replace("static-web-server:2.39.0", "static-web-server:2.39.0-bad"))
    out = claude(box_env, "-p", f"/recipe-upgrade {TINY}")
    assert result(out) == "SUCCESS", out.stdout
    after = clean.pr(mirror, pr["number"])
    assert after["head"]["sha"] != pr["head"]["sha"] and clean.testme_count(mirror, pr["number"]) == 2
    assert "2.39.0-bad" not in clean.raw(mirror, "compose.yml", after["head"]["sha"])
    assert len(clean.pulls(mirror)) == 1
    clean.close_all(mirror)

    pr = seed(lambda t: t.replace("services:\n", "services:\n  ccci-regression:\n    image: lab/missing:1.0\n", 1))
    out = claude(box_env, "-p", f"/recipe-upgrade {TINY}")
    assert out.returncode == 1
    assert result(out) == "FAILED — upgrade not green after 3 !testme runs", out.stdout
    assert clean.testme_count(mirror, pr["number"]) == 3
    assert clean.pr(mirror, pr["number"])["state"] == "open"
    # (agent-exceeds-3-runs / agent-claims-success-on-red are exercised by the V4 integration tests)


def test_stale_test_default_then_with_tests(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{HTML}"
    ci_main = clean.branch(lab.ci_repo, "main")
    ci_branches = {b["name"] for b in clean.get(f"/repos/{lab.ci_repo}/branches")}
    out = claude(box_env, "-p", f"/recipe-upgrade {HTML}")
    assert result(out) == "SUCCESS-PENDING-TESTS", out.stdout
    n = pr_from(out.stdout)
    notes = [c["body"] for c in clean.comments(mirror, n) if c["body"].startswith("/recipe-upgrade")]
    assert len(notes) == 1 and "--with-tests" in notes[0] and "stale" in notes[0] and "server_header" in notes[0]
    assert clean.branch(lab.ci_repo, "main") == ci_main
    assert {b["name"] for b in clean.get(f"/repos/{lab.ci_repo}/branches")} == ci_branches
    assert not clean.pulls(lab.ci_repo)

    out = claude(box_env, "-p", f"/recipe-upgrade {HTML} --with-tests")
    assert result(out) == "SUCCESS+TESTPR", out.stdout
    assert pr_from(out.stdout) == n
    ci_prs = clean.pulls(lab.ci_repo)
    assert len(ci_prs) == 1 and ci_prs[0]["head"]["ref"] == f"test-update/{HTML}-1.27.3"
    assert clean.branch(lab.ci_repo, "main") == ci_main
    recipe_pr = clean.pr(mirror, n)
    assert any(ci_prs[0]["html_url"] in c["body"] for c in clean.comments(mirror, n))
    assert any(recipe_pr["html_url"] in c["body"] for c in clean.comments(lab.ci_repo, ci_prs[0]["number"]))
    assert not recipe_pr["merged"] and not clean.pr(lab.ci_repo, ci_prs[0]["number"])["merged"]
    for protected in lab.protected_clones:
        assert "ccci-testpr" not in protected
    clean.http.delete(f"/repos/{lab.ci_repo}/branches/test-update/{HTML}-1.27.3")


def test_reconcile_closes_merged_upstream_and_superseded(lab: LabConfig, box_env: dict[str, str],
                                                         clean: Gitea) -> None:
    mirror, upstream = f"{lab.mirror_org}/{TINY}", f"{lab.upstream_org}/{TINY}"
    note = {"README.md": lambda t: t + "\nA line that upstream merged.\n"}
    merged = clean.open_pr(mirror, "docs/merged-upstream", note)
    old = clean.open_pr(mirror, "upgrade/2.37.0", {
        "compose.yml": lambda t: t.replace("static-web-server:2.38.0", "static-web-server:2.37.0")})
    clean.push_files(upstream, "main", "main", note, "upstream merges the docs change")
    assert clean.branch(mirror, "main") != clean.branch(upstream, "main")

    out = claude(box_env, "-p", f"/recipe-upgrade {TINY}")
    assert result(out) == "SUCCESS", out.stdout
    new = pr_from(out.stdout)
    assert clean.branch(mirror, "main") == clean.branch(upstream, "main")
    m = clean.pr(mirror, merged["number"])
    assert m["state"] == "closed" and not m["merged"]
    assert any("already in upstream main" in c["body"] for c in clean.comments(mirror, merged["number"]))
    o = clean.pr(mirror, old["number"])
    assert o["state"] == "closed"
    assert any(f"Superseded by #{new}" in c["body"] for c in clean.comments(mirror, old["number"]))
    assert [p["number"] for p in clean.pulls(mirror)] == [new]


def test_upgrade_all_sequential_with_teardown_and_summary(lab: LabConfig, box_env: dict[str, str],
                                                          clean: Gitea) -> None:
    first = max((b["number"] for b in builds(lab)), default=0)
    out = claude(box_env, "-p", "/upgrade-all")
    assert result(out).startswith("DONE"), out.stdout
    assert out.stdout.count("teardown: abra app ls -m") == 2
    summary = Path(re.search(r"^summary: (\S+)$", out.stdout, re.M).group(1))
    assert summary.parent == Path(lab.root) / ".cc-ci-logs" / "upgrades"
    assert re.fullmatch(r"upgrade-all-\d{8}T\d{6}Z\.md", summary.name)
    text = summary.read_text()
    assert text.startswith("## PRs to review\n")
    head, stale = text.split("## Tests look stale", 1)
    assert f"{TINY}: " in head and "RESULT: SUCCESS\n" in head and "RESULT: SUCCESS-PENDING-TESTS" in head
    assert f"- {HTML}: " in stale.split("## Details")[0] and "--with-tests" in stale.split("## Details")[0]
    assert "--with-tests" not in " ".join(line for line in out.stdout.splitlines() if line.startswith("## "))
    # strictly one recipe at a time: the builds of the run do not overlap
    runs = sorted((b for b in builds(lab) if b["number"] > first), key=lambda b: b["number"])
    assert len(runs) == 2 and runs[0]["params"]["RECIPE"] == TINY and runs[1]["params"]["RECIPE"] == HTML
    assert runs[0]["finished"] <= runs[1]["created"]
    assert not clean.pulls(lab.ci_repo)
    abra = subprocess.run([str(BIN / "abra"), "app", "ls", "-m"], check=False, env=box_env, capture_output=True, text=True)
    apps = [a for s in json.loads(abra.stdout or "{}").values() for a in s.get("apps") or []]
    assert not [a for a in apps if a.get("recipe") in lab.sandbox_recipes]


def test_upgrade_all_faults(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    out = claude(box_env, "-p", "/upgrade-all", UPGRADE_RECIPES=HTML,
                 CCCI_LAB_FAULTS="upgradeall-no-pr-list,upgradeall-with-tests")
    summary = Path(re.search(r"^summary: (\S+)$", out.stdout, re.M).group(1)).read_text()
    assert not summary.startswith("## PRs to review") and "## PRs to review" not in summary
    assert "SUCCESS+TESTPR" in summary and clean.pulls(lab.ci_repo)
    clean.http.delete(f"/repos/{lab.ci_repo}/branches/test-update/{HTML}-1.27.3")


def test_agent_merges_fault_is_visible(lab: LabConfig, box_env: dict[str, str], clean: Gitea) -> None:
    mirror = f"{lab.mirror_org}/{TINY}"
    out = claude(box_env, "-p", f"/recipe-upgrade {TINY}", CCCI_LAB_FAULTS="agent-merges")
    n = pr_from(out.stdout)
    pr = clean.pr(mirror, n)
    assert pr["merged"] or clean.branch(mirror, "main") == pr["head"]["sha"]
