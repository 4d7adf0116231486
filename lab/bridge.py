# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The comment bridge (FACTS §1): polls PR comments, gates on org membership, runs cc-ci in Drone,
reports back with the ``cc-ci/testme`` status and one comment edited into a results card.

Talks HTTP only: Gitea with the bot token, Drone with the drone token. One thread does both the
polling and the following of builds it started, a poll at a time, so a long build never holds up
the next poll. State (seen comment ids, repos already primed, builds being followed) persists to
``DIR/bridge.json`` so a restarted lab neither re-fires old comments nor loses a running build.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from lab.config import LabConfig

log = logging.getLogger("lab.bridge")
CONTEXT = "cc-ci/testme"
COMMANDS = {"!testme": False, "!testme --quick": True}  # body -> quick
TERMINAL = frozenset({"success", "failure", "killed", "error", "skipped", "declined"})
PAGE = 50  # Gitea's cap on list pages


class BridgeError(Exception):
    """A transient failure: the comment stays unseen and is tried again next poll."""


class Bridge:
    def __init__(self, cfg: LabConfig) -> None:
        self.cfg = cfg
        self.path = Path(cfg.state_dir) / "bridge.json"
        self.state: dict[str, Any] = {"seen": [], "primed": [], "jobs": [], "events": []}
        if self.path.exists():
            self.state.update(json.loads(self.path.read_text()))
        self.seen: set[int] = set(self.state["seen"])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> str | None:
        # clients are made here: the daemon sets cfg.drone_url only once Drone is up
        cfg = self.cfg
        self.gitea = httpx.Client(base_url=cfg.gitea_url.rstrip("/") + "/api/v1", timeout=15,
                                  headers={"Authorization": f"token {cfg.tokens['bot']}"})
        self.drone = httpx.Client(base_url=cfg.drone_url.rstrip("/"), timeout=15,
                                  headers={"Authorization": f"Bearer {cfg.tokens['drone']}"})
        self._thread = threading.Thread(target=self._loop, name="bridge", daemon=True)
        self._thread.start()
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
            self.gitea.close()
            self.drone.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.cfg.poll_interval)

    def tick(self) -> None:
        """One poll of every repo, then one look at every build being followed."""
        for repo in self.poll_repos():
            try:
                self._poll_repo(repo)
            except (httpx.HTTPError, BridgeError, ValueError) as exc:
                log.warning("poll %s: %s", repo, exc)
        for job in list(self.state["jobs"]):
            try:
                self._follow(job)
            except (httpx.HTTPError, BridgeError, ValueError) as exc:
                log.warning("follow build %s: %s", job.get("number"), exc)

    def poll_repos(self) -> list[str]:
        repos = list(self.cfg.poll_repos)
        if self.cfg.has("bridge-not-polling-sandbox"):
            repos = [r for r in repos if r != f"{self.cfg.mirror_org}/custom-html-tiny"]
        return repos

    # -- state -----------------------------------------------------------------------------------

    def _save(self) -> None:
        self.state["seen"] = sorted(self.seen)
        self.state["events"] = self.state["events"][-200:]
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.path)

    def _event(self, action: str, **fields: Any) -> None:
        log.info("%s %s", action, json.dumps(fields, sort_keys=True))
        self.state["events"].append({"time": time.time(), "action": action, **fields})

    # -- HTTP ------------------------------------------------------------------------------------

    @staticmethod
    def _ok(resp: httpx.Response, *codes: int) -> httpx.Response:
        if resp.status_code not in codes:
            raise BridgeError(f"{resp.request.method} {resp.request.url}: HTTP {resp.status_code}: {resp.text[:200]}")
        return resp

    def _open_pulls(self, repo: str) -> list[dict[str, Any]]:
        pulls: list[dict[str, Any]] = []
        for page in range(1, 100):
            batch = self._ok(self.gitea.get(f"/repos/{repo}/pulls",
                                            params={"state": "open", "page": page, "limit": PAGE}), 200).json()
            pulls += batch
            if len(batch) < PAGE:
                break
        return pulls

    # -- polling ---------------------------------------------------------------------------------

    def _poll_repo(self, repo: str) -> None:
        primed = repo in self.state["primed"]
        for pr in self._open_pulls(repo):
            comments = self._ok(self.gitea.get(f"/repos/{repo}/issues/{pr['number']}/comments"), 200).json()
            for comment in comments:
                if comment["id"] in self.seen:
                    continue
                if primed:  # the first poll of a repo only marks what is already there
                    self._handle(repo, pr, comment)
                self.seen.add(comment["id"])
                self._save()
        if not primed:
            self.state["primed"].append(repo)
            self._save()

    def _command(self, body: str) -> bool | None:
        """None when the body is no command; else whether it asks for a quick run."""
        text = (body or "").strip()
        if self.cfg.has("bridge-fires-on-prefix"):
            return ("--quick" in text) if text.startswith("!testme") else None
        return COMMANDS.get(text)

    def _handle(self, repo: str, pr: dict[str, Any], comment: dict[str, Any]) -> None:
        quick = self._command(comment.get("body", ""))
        if quick is None:
            return
        login = (comment.get("user") or {}).get("login", "")
        org = repo.split("/", 1)[0]
        where = {"repo": repo, "pr": pr["number"], "comment": comment["id"], "login": login}
        if not self.cfg.has("bridge-accepts-outsiders"):
            resp = self.gitea.get(f"/orgs/{org}/members/{login}")
            if resp.status_code == 404:
                self._event("rejected", reason=f"{login} is not a member of {org}", **where)
                return
            self._ok(resp, 204)
        self._trigger(repo, pr, quick, where)

    def _trigger(self, repo: str, pr: dict[str, Any], quick: bool, where: dict[str, Any]) -> None:
        sha = pr["head"]["sha"]
        params = {"branch": "main", "RECIPE": repo.split("/", 1)[1], "REPO": repo, "PR": str(pr["number"]),
                  "REF": sha, "QUICK": "1" if quick else "0"}
        build = self._ok(self.drone.post(f"/api/repos/{self.cfg.ci_repo}/builds", params=params), 200).json()
        if self.cfg.has("bridge-double-trigger"):  # a retried POST whose first answer was taken as lost
            self.drone.post(f"/api/repos/{self.cfg.ci_repo}/builds", params=params)
        url = f"{self.cfg.drone_url.rstrip('/')}/{self.cfg.ci_repo}/{build['number']}"
        job = {**where, "sha": sha, "number": build["number"], "url": url, "comment_id": None,
               # mutants: the status on the base commit; a status linking the build before this one
               "status_sha": pr["base"]["sha"] if self.cfg.has("bridge-status-on-base") else sha,
               "status_url": (f"{self.cfg.drone_url.rstrip('/')}/{self.cfg.ci_repo}/{build['number'] - 1}"
                              if self.cfg.has("bridge-links-previous-build") else url)}
        # from here on the build exists: never raise, or the next poll would start a second one
        if not self.cfg.has("bridge-no-status"):
            early = self.cfg.has("bridge-result-at-trigger")
            self._status(repo, job["status_sha"], "success" if early else "pending", job["status_url"],
                         f"cc-ci run #{build['number']} {'passed' if early else 'started'}")
        try:
            posted = self._ok(self.gitea.post(f"/repos/{repo}/issues/{pr['number']}/comments",
                                              json={"body": f"cc-ci: run started — {url}"}), 201).json()
            job["comment_id"] = posted["id"]
            self.seen.add(posted["id"])
        except (httpx.HTTPError, BridgeError) as exc:
            log.warning("comment on %s#%s: %s", repo, pr["number"], exc)
        self.state["jobs"].append(job)
        self._event("fired", build=build["number"], url=url, sha=sha, quick=quick, **where)
        self._save()

    def _status(self, repo: str, sha: str, state: str, url: str, description: str) -> None:
        try:
            self._ok(self.gitea.post(f"/repos/{repo}/statuses/{sha}", json={
                "state": state, "target_url": url, "context": CONTEXT, "description": description}), 200, 201)
        except (httpx.HTTPError, BridgeError) as exc:
            log.warning("status %s on %s@%s: %s", state, repo, sha[:10], exc)

    # -- following builds ------------------------------------------------------------------------

    def _follow(self, job: dict[str, Any]) -> None:
        build = self._ok(self.drone.get(f"/api/repos/{self.cfg.ci_repo}/builds/{job['number']}"), 200).json()
        if build["status"] not in TERMINAL:
            return
        passed = build["status"] == "success"
        if not self.cfg.has("bridge-no-status"):
            self._status(job["repo"], job.get("status_sha") or job["sha"], "success" if passed else "failure",
                         job.get("status_url") or job["url"],
                         f"cc-ci run #{job['number']} {'passed' if passed else build['status']}")
        if job.get("comment_id"):
            card_passed = passed or self.cfg.has("bridge-card-always-passes")
            self._ok(self.gitea.patch(f"/repos/{job['repo']}/issues/comments/{job['comment_id']}",
                                      json={"body": self._card(job, build, card_passed)}), 200, 201)
            if self.cfg.has("bridge-posts-result-twice"):  # the lie: a retry after a slow PATCH posts the card anew
                self._ok(self.gitea.post(f"/repos/{job['repo']}/issues/{job['pr']}/comments",
                                         json={"body": self._card(job, build, card_passed)}), 201)
        self.state["jobs"].remove(job)
        self._event("finished", build=job["number"], status=build["status"], repo=job["repo"], pr=job["pr"])
        self._save()

    def _card(self, job: dict[str, Any], build: dict[str, Any], passed: bool) -> str:
        word = "PASS" if passed else "FAIL"
        lines = [f"### cc-ci results: {word}",
                 f"![cc-ci {word}](https://img.shields.io/badge/cc--ci-{word}-{'brightgreen' if passed else 'red'})",
                 f"Build: {job['url']}", f"Head: `{job['sha']}`"]
        if not passed:
            failed = [s for st in build.get("stages") or [] for s in st.get("steps") or []
                      if s.get("status") in ("failure", "error")]
            stage = (build.get("stages") or [{}])[0].get("number", 1)
            lines += [f"- {s['name']}: {self._reason(job['number'], stage, s['number'])}" for s in failed]
            if not failed:
                lines.append(f"- build {build['status']}")
        return "\n".join(lines) + "\n"

    def _reason(self, number: int, stage: int, step: int) -> str:
        """The line that says why a step failed: its ``expected ...`` lines, else its last line."""
        resp = self.drone.get(f"/api/repos/{self.cfg.ci_repo}/builds/{number}/logs/{stage}/{step}")
        outs = [ln["out"].strip() for ln in resp.json()] if resp.status_code == 200 else []
        outs = [o for o in outs if o]
        expected = [o for o in outs if o.startswith("expected ")]
        if expected:
            return "; ".join(expected)
        return outs[-1].removeprefix("FATA ") if outs else "failed"
