#!/usr/bin/env python3
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: the collection's benchmark against the lab (issue 6, item 4).

Writes out/bench.json and prints a table of each figure against its goal. A measurement, not a test:
the exit status is 0 when every figure could be measured (goals missed or not), 1 when a measurement
itself failed (the JSON then says which, under ``errors``), 2 on bad arguments.

1. Overhead: one full ``verify-phase5.yml`` on a fresh lab (its own state dir under /tmp); its wall
   time against the time the lab made it wait, read cold from the lab afterwards: Drone build
   durations (``finished - started`` of the builds created during the run; overlapping builds count
   once), one bridge poll interval per ``!testme`` the bridge fired (its ``bridge.json`` events), and
   the cron offset (T0 - the moment the entry was installed) when CRON ran.
   Own work: the same run's spans (report.json ``timeline``: the waits the waiting modules
   recorded — Drone builds, bridge pickups and quiet windows, the helper, the agent, the launcher,
   cron — and one record per Ansible task from the ``coopcloud.cc_ci.progress`` callback):
   own work = wall - the union of the waits on components; its top 5 items are the tasks (by name,
   their time outside waits), the gaps between tasks and ansible-playbook's start-up. The real-box
   projection replaces each counted wait by its real duration (:func:`project`, formula in
   ``real_box_projection_formula``). ``--from-report DIR`` computes these from an existing run.
2. Re-runs, on the same lab kept up: ``install-cron.yml`` once, then timed again (idempotent);
   ``verify-phase5.yml`` with ``ccci_only: [V1]``. Then that lab is stopped.
4. Box-like: one full ``verify-phase5.yml`` on a fresh lab at a box's settings (LAB_PROFILE=box-like,
   lab/profiles.py: one Drone runner, Gitea page cap 20, builds of 10 s, a 5 s bridge poll), its wall
   time and verdicts next to the default run's.
3. Verdict detection latency, on a second lab with longer builds (one Drone runner per lane, so
   builds do not queue behind each other: the figure is detection, not queueing): scratch PRs on
   recipe-maintainers/custom-html-tiny (closed at the end, never merged), a fresh commit and a
   ``!testme`` per wait, and for each build, concurrently: the collection's waiter
   (``module_utils.drone.wait_for_build``), a plain 5 s poller of the Gitea combined status (the real
   helper's setting) and the lab's ``testme-on-pr.sh`` (POST=0 INTERVAL=5). Latency = the moment a
   waiter returned - the Drone build's ``finished``. Drone and Gitea stamp whole seconds (``finished``
   is truncated), so every latency is overstated by up to 1 s, the same way for every waiter.

Only 127.0.0.1: both labs listen there; nothing else is contacted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = Path(sys.executable)
BIN = PY.parent
sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT))  # the lab's profiles (lab/profiles.py)

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import DroneClient, wait_for_build  # noqa: E402
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient, parse_time  # noqa: E402
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import merged_seconds  # noqa: E402
from lab.profiles import extra_vars  # noqa: E402

RECIPE = "custom-html-tiny"
CONTEXT = "cc-ci/testme"
FINAL = ("success", "failure", "error")
GOAL_OVERHEAD_S = 60.0
GOAL_RERUN_S = 10.0
BASELINE_INTERVAL = 5.0
# Real durations (../shared/FACTS.md section 1): a harness run per recipe, the bridge's poll, the cron offset.
REAL_BUILD_S = {"custom-html-tiny": 45.0, "custom-html": 61.0}
REAL_BUILD_DEFAULT_S = 45.0
REAL_POLL_S = 30.0
REAL_CRON_OFFSET_S = 3600.0
REAL_WEDGE_S = 900.0  # the box's WEDGE_SECONDS (docs/ARCHITECTURE.md, the launcher)
REAL_SAMPLE_S = 2.0  # the session probe's window on a box (roles/v8a_upgrader_agent, sample_seconds)
PROJECTION_FORMULA = (
    "own work (as measured) + sum over the counted waits of their real durations: each Drone build "
    "waited on -> its recipe's real run (custom-html-tiny 45 s, custom-html 61 s, else 45 s); each bridge "
    "pickup the run waited for -> one poll P = 30 s (the worst case); each quiet window -> its window x P "
    "/ lab poll; each wait for the bridge's result -> its lab time x P / lab poll; each helper run that "
    "waited for a build -> P + the recipe's build (else its lab time); each agent or launcher run -> A "
    "(the agent's run time, a parameter), but a launcher call (start/fresh/stop/status) or an agent's "
    "exit after it -> its lab time, and the wedge rule's quiet window -> W = 900 s (the box's "
    "WEDGE_SECONDS), and each probe's window on the agent's pane -> S = 2 s (the box's sample_seconds); "
    "cron -> its lab wait - the lab offset + 3600 s. An upper bound: "
    "the cron pre-check's agent run falls inside the hour on a box.")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def env() -> dict[str, str]:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in 0..100)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def rnd(x: float | None, n: int = 2) -> float | None:
    return None if x is None else round(float(x), n)


# -- the lab and playbooks ------------------------------------------------------------------------

def lab_up(state: Path, build_seconds: float, poll_interval: float, runners: int = 1) -> dict[str, Any]:
    proc = subprocess.run([str(PY), "-m", "lab", "up", "--state", str(state), "--fresh", "--build-seconds",
                           str(build_seconds), "--poll-interval", str(poll_interval), "--runners", str(runners)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        raise RuntimeError(f"lab up --state {state}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return json.loads((state / "lab.json").read_text())


def lab_down(state: Path) -> None:
    subprocess.run([str(PY), "-m", "lab", "down", "--state", str(state)], cwd=ROOT, capture_output=True,
                   text=True, timeout=120, check=False)


def playbook(name: str, evars: dict[str, Any], timeout: float, log_path: Path) -> tuple[int, float, str]:
    """``(rc, wall seconds, output)``; the output is also kept in ``log_path``."""
    cmd = [str(BIN / "ansible-playbook"), f"playbooks/{name}", "-e", json.dumps(evars)]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = -1
        out = f"{(exc.stdout or b'').decode(errors='replace') if isinstance(exc.stdout, bytes) else exc.stdout or ''}" \
              f"\nTIMEOUT after {timeout} s"
    wall = time.monotonic() - started
    log_path.write_text(out)
    return rc, wall, out


def recap_changed(output: str) -> int | None:
    m = re.findall(r"changed=(\d+)", output.split("PLAY RECAP", 1)[-1]) if "PLAY RECAP" in output else []
    return sum(int(x) for x in m) if m else None


def iso_epoch(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


# -- 1. overhead ------------------------------------------------------------------------------------

def measure_overhead(args: argparse.Namespace, work: Path, state: Path) -> dict[str, Any]:
    report = work / "report-run"
    evars = {"ccci_lab_state": str(state), "ccci_lab_keep": True, "ccci_report_dir": str(report),
             "ccci_lab_build_seconds": args.build_seconds, "ccci_lab_poll_interval": args.poll_interval,
             "ccci_cron_lab_offset": args.cron_offset}
    log(f"overhead: verify-phase5.yml on a fresh lab ({state}), build {args.build_seconds} s, "
        f"poll {args.poll_interval} s, cron offset {args.cron_offset} s")
    t_start = time.time()
    rc, wall, out = playbook("verify-phase5.yml", evars, args.run_timeout, work / "run.log")
    t_end = time.time()
    log(f"overhead: run exit {rc} in {wall:.1f} s (log {work / 'run.log'})")
    if not (report / "report.json").exists():
        raise RuntimeError(f"verify-phase5.yml wrote no report.json (exit {rc}); see {work / 'run.log'}")
    rep = json.loads((report / "report.json").read_text())
    checks = {c["id"]: c for c in rep.get("checks", [])}
    lab = json.loads((state / "lab.json").read_text())

    # Drone builds created during the run, from the lab's Drone
    drone = DroneClient(lab["drone_url"], lab["tokens"]["drone"], timeout=15)
    builds: list[dict[str, Any]] = []
    for page in range(1, 51):
        batch = drone.list_builds(lab["ci_repo"], page, 100)
        builds += batch
        if len(batch) < 100:
            break
    drone.close()
    ours = [b for b in builds if t_start - 1 <= (b.get("created") or 0) <= t_end + 1]
    spans = [(float(b["started"]), float(b["finished"])) for b in ours
             if b.get("started") and b.get("finished") and b["finished"] >= b["started"]]
    build_sum = sum(b - a for a, b in spans)
    build_union = merged_seconds(spans)

    # !testme comments the bridge fired on during the run (its own event log)
    bridge = json.loads((state / "bridge.json").read_text()) if (state / "bridge.json").exists() else {}
    fired = [e for e in bridge.get("events", []) if e.get("action") == "fired"
             and t_start - 1 <= float(e.get("time") or 0) <= t_end + 1]
    pickup = len(fired) * args.poll_interval

    # the cron offset: T0 - the moment the entry was installed
    cron = checks.get("CRON") or {}
    ev = cron.get("evidence") or {}
    cron_wait, cron_note = 0.0, f"CRON {cron.get('verdict', 'not run')}"
    t0 = iso_epoch(ev.get("t0"))
    state_file = Path(lab["root"]) / ".cc-ci-logs" / "upgrades" / "ccci-cron.json"
    installed = None
    if state_file.exists():
        try:
            installed = iso_epoch(json.loads(state_file.read_text()).get("installed_at"))
        except ValueError:
            installed = None
    if t0 and installed is None:
        started = cron.get("started")
        installed = float(started) if isinstance(started, (int, float)) else None
    if t0 and installed and cron.get("verdict") in ("PASS", "FAIL"):
        cron_wait = max(0.0, t0 - installed)
        cron_note += f": T0 {ev.get('t0')} - installed {datetime.fromtimestamp(installed, timezone.utc).isoformat()}"
        if ev.get("gap_seconds") is not None:
            cron_note += f"; fired T0 + {ev.get('gap_seconds')} s (not counted)"
    elif cron:
        cron_note += ": no T0 / install time, no cron wait counted"

    waited = build_union + pickup + cron_wait

    # where the time went, check by check (a check's window: recorded - seconds .. recorded)
    per_check: dict[str, Any] = {}
    for cid in checks:
        try:
            rec = json.loads((report / "checks" / f"{cid}.json").read_text())
            end = float(rec["recorded"]) if isinstance(rec.get("recorded"), (int, float)) else iso_epoch(rec.get("recorded"))
            secs = float(rec.get("seconds") or 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not end:
            continue
        beg = end - secs
        clip = [(max(a, beg), min(b, end)) for a, b in spans if b > beg and a < end]
        n_fired = sum(1 for e in fired if beg <= float(e["time"]) <= end)
        lab_wait = merged_seconds(clip) + n_fired * args.poll_interval + (cron_wait if cid == "CRON" else 0.0)
        per_check[cid] = {"seconds": rnd(secs), "lab_wait": rnd(lab_wait), "rest": rnd(secs - lab_wait)}
    outside = wall - sum(v["seconds"] for v in per_check.values())
    return {
        "wall_seconds": rnd(wall), "waited_seconds": rnd(waited),
        "overhead_seconds": rnd(wall - waited), "overhead_ratio": rnd(wall / waited, 3) if waited else None,
        "run_exit": rc,
        "verdicts": {k: v.get("verdict") for k, v in checks.items()},
        "per_check": per_check,
        "outside_checks_seconds": rnd(outside),
        "waited_parts": {
            "builds": len(ours), "build_seconds_sum": rnd(build_sum), "build_seconds_union": rnd(build_union),
            "bridge_fired": len(fired), "bridge_pickup_seconds": rnd(pickup),
            "cron_offset_seconds": rnd(cron_wait), "cron": cron_note,
        },
        "report_dir": str(report),
        **from_report(report, args, wall=wall, t_start=t_start),
    }


# -- own work and the real-box projection -----------------------------------------------------------

def _overlap(a: float, b: float, merged: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, y) - max(a, x)) for x, y in merged)


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def own_work(timeline: dict[str, Any], t_start: float, t_end: float) -> dict[str, Any]:
    """Wall - the union of the waits on components, and where the rest went (top 5)."""
    waits = [w for w in timeline.get("waits", []) if not w.get("observed") and w.get("end")]
    merged = _merge([(float(w["start"]), float(w["end"])) for w in waits])
    waited = sum(b - a for a, b in merged)
    by_kind = {kind: rnd(merged_seconds([(w["start"], w["end"]) for w in waits if w["kind"] == kind]))
               for kind in sorted({w["kind"] for w in waits})}
    tasks = sorted((t for t in timeline.get("tasks", []) if t.get("start") and t.get("end")),
                   key=lambda t: t["start"])
    items: dict[str, list[float]] = {}
    for t in tasks:
        name = str(t["name"]).split(" : ", 1)[-1]
        own = max(0.0, t["end"] - t["start"] - _overlap(t["start"], t["end"], merged))
        items.setdefault(name, [0.0, 0])
        items[name][0] += own
        items[name][1] += 1
    gaps = [max(0.0, b["start"] - a["end"]) for a, b in zip(tasks, tasks[1:])]
    if tasks:
        items[f"between tasks ({len(gaps)} gaps: includes, templating, the strategy)"] = [sum(gaps), len(gaps)]
        items["ansible-playbook start-up, parsing and exit"] = [
            max(0.0, tasks[0]["start"] - t_start) + max(0.0, t_end - tasks[-1]["end"]), 1]
    top = sorted(items.items(), key=lambda kv: -kv[1][0])[:5]
    api = timeline.get("api") or {}
    wall = t_end - t_start
    return {
        "own_work_seconds": rnd(wall - waited),
        "own_work_top": [{"item": k, "seconds": rnd(v[0]), "count": v[1]} for k, v in top],
        "own_work_parts": {
            "waited_on_components_seconds": rnd(waited), "waits_by_kind": by_kind, "tasks": len(tasks),
            "tasks_outside_waits_seconds": rnd(sum(v[0] for k, v in items.items() if not k.startswith(("between", "ansible-playbook")))),
            "between_tasks_seconds": rnd(sum(gaps)), "api_calls": api.get("calls"),
            "api_outside_waits_seconds": rnd((api.get("seconds") or 0) - (api.get("in_wait") or 0)),
        },
    }


def project(timeline: dict[str, Any], own: float, lab_poll: float, lab_cron_offset: float, agent_s: float,
            poll_s: float = REAL_POLL_S, cron_offset_s: float = REAL_CRON_OFFSET_S,
            wedge_s: float = REAL_WEDGE_S, sample_s: float = REAL_SAMPLE_S) -> dict[str, Any]:
    """The run on a real box: own work + each counted wait at its real duration (PROJECTION_FORMULA)."""
    recipes = {b.get("number"): b.get("recipe") for b in timeline.get("builds", [])}

    def build_s(recipe: Any) -> float:
        return REAL_BUILD_S.get(str(recipe), REAL_BUILD_DEFAULT_S)

    parts: dict[str, float] = {}
    counts: dict[str, int] = {}

    def add(part: str, seconds: float) -> None:
        parts[part] = parts.get(part, 0.0) + seconds
        counts[part] = counts.get(part, 0) + 1

    cron: list[tuple[float, float]] = []
    for w in timeline.get("waits", []):
        if w.get("observed") or not w.get("end"):
            continue
        lab_s = float(w["end"]) - float(w["start"])
        kind = w["kind"]
        if kind == "build":
            add("builds", build_s(recipes.get(w.get("build"))))
        elif kind == "bridge" and w.get("result"):
            add("bridge results", lab_s * poll_s / lab_poll)
        elif kind == "bridge" and w.get("fired") is False:
            add("bridge quiet windows", float(w.get("window") or lab_s) * poll_s / float(w.get("poll") or lab_poll))
        elif kind == "bridge" and lab_s >= 0.1:  # a pickup the run waited for (not a build already there)
            add("bridge pickups", poll_s)
        elif kind == "bridge":
            add("bridge pickups (none waited)", lab_s)
        elif kind == "helper":
            add("helper runs", poll_s + build_s(w.get("recipe")) if lab_s > lab_poll + 0.5 else lab_s)
        elif kind == "launcher" and w.get("window") is not None:
            add("wedge windows", wedge_s)
        elif kind == "launcher" and (w.get("verb") or w.get("exits")):
            add("launcher calls and agent exits", lab_s)
        elif kind == "agent" and w.get("sample") is not None:
            add("probe windows", sample_s)
        elif kind in ("agent", "launcher"):
            add(f"{kind} runs", agent_s)
        elif kind == "cron":
            cron.append((float(w["start"]), float(w["end"])))
    if cron:
        parts["cron"] = max(0.0, merged_seconds(cron) - lab_cron_offset) + cron_offset_s
        counts["cron"] = 1
    total = own + sum(parts.values())
    return {"real_box_projection_seconds": rnd(total),
            "real_box_projection": {"parts_seconds": {k: rnd(v) for k, v in parts.items()}, "counts": counts,
                                    "agent_run_seconds": agent_s, "poll_seconds": poll_s,
                                    "cron_offset_seconds": cron_offset_s, "wedge_window_seconds": wedge_s,
                                    "probe_window_seconds": sample_s,
                                    "build_seconds": REAL_BUILD_S},
            "real_box_projection_formula": PROJECTION_FORMULA}


def from_report(report_dir: Path, args: argparse.Namespace, wall: float | None = None,
                t_start: float | None = None) -> dict[str, Any]:
    """Own work and projection from a run's report.json (its timeline)."""
    rep = json.loads((report_dir / "report.json").read_text())
    tl = rep.get("timeline")
    if not tl or not tl.get("tasks"):
        raise RuntimeError(f"{report_dir}/report.json has no timeline with task spans: was the "
                           "coopcloud.cc_ci.progress callback enabled (ansible.cfg callbacks_enabled)?")
    start = t_start if t_start is not None else float(rep.get("started_epoch") or tl["start"])
    end = start + wall if wall is not None else float(rep.get("finished_epoch") or tl["end"])
    own = own_work(tl, start, end)
    own.update(project(tl, own["own_work_seconds"], args.poll_interval, args.cron_offset, args.agent_seconds))
    return own


# -- 4. box-like ------------------------------------------------------------------------------------

def measure_box_like(args: argparse.Namespace, work: Path, state: Path) -> dict[str, Any]:
    """One full run at a box's settings (LAB_PROFILE=box-like) on a fresh lab of its own."""
    report = work / "report-box-like"
    evars = {"ccci_lab_state": str(state), "ccci_lab_keep": False, "ccci_lab_fresh": True,
             "ccci_report_dir": str(report), "ccci_cron_lab_offset": args.cron_offset, **extra_vars("box-like")}
    log(f"box-like: verify-phase5.yml on a fresh lab ({state}) with {extra_vars('box-like')}")
    rc, wall, dummy = playbook("verify-phase5.yml", evars, args.run_timeout * 2, work / "run-box-like.log")
    log(f"box-like: run exit {rc} in {wall:.1f} s (log {work / 'run-box-like.log'})")
    checks = {}
    if (report / "report.json").exists():
        checks = {c["id"]: c.get("verdict") for c in json.loads((report / "report.json").read_text()).get("checks", [])}
    return {"box_like_wall_seconds": rnd(wall), "box_like_run_exit": rc, "box_like_verdicts": checks,
            "box_like_settings": extra_vars("box-like")}


# -- 2. re-runs -------------------------------------------------------------------------------------

def measure_reruns(args: argparse.Namespace, work: Path, state: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = {"ccci_lab_state": str(state), "ccci_lab_keep": True, "ccci_lab_build_seconds": args.build_seconds,
            "ccci_lab_poll_interval": args.poll_interval, "ccci_cron_lab_offset": args.cron_offset}

    reason = None
    if os.geteuid() != 0:
        reason = "not root: the cron role cannot start a daemon or write root's crontab here"
    elif not (shutil.which("cron") or shutil.which("crond")) or not shutil.which("crontab"):
        reason = "no cron daemon binary (apt-get install cron)"
    if reason:
        out.update(rerun_cron_s=None, rerun_cron_note=reason)
        log(f"re-run: install-cron.yml skipped: {reason}")
    else:
        evars = dict(base, ccci_report_dir=str(work / "report-cron"))
        log("re-run: install-cron.yml, first run")
        rc1, wall1, out1 = playbook("install-cron.yml", evars, args.run_timeout, work / "cron-1.log")
        log(f"re-run: install-cron.yml first run exit {rc1} in {wall1:.1f} s")
        rc2, wall2, out2 = playbook("install-cron.yml", evars, args.run_timeout, work / "cron-2.log")
        changed = recap_changed(out2)
        log(f"re-run: install-cron.yml second run exit {rc2} in {wall2:.1f} s, changed={changed}")
        out.update(rerun_cron_s=rnd(wall2), rerun_cron_first_s=rnd(wall1), rerun_cron_exit=[rc1, rc2],
                   rerun_cron_changed=changed)
        if rc2 != 0:
            out["rerun_cron_note"] = f"the re-run exited {rc2} (see {work / 'cron-2.log'})"

    evars = dict(base, ccci_report_dir=str(work / "report-v1"), ccci_only=["V1"])
    log("re-run: verify-phase5.yml with ccci_only [V1]")
    rc, wall, _unused = playbook("verify-phase5.yml", evars, args.run_timeout, work / "v1.log")
    verdict = None
    try:
        verdict = next(c["verdict"] for c in json.loads((work / "report-v1" / "report.json").read_text())["checks"]
                       if c["id"] == "V1")
    except (OSError, ValueError, StopIteration, KeyError):
        pass
    log(f"re-run: V1 exit {rc} in {wall:.1f} s, verdict {verdict}")
    out.update(rerun_check_s=rnd(wall), rerun_check_exit=rc, rerun_check_verdict=verdict)
    return out


# -- 3. verdict detection latency -------------------------------------------------------------------

class Lane:
    """One scratch PR on the recipe mirror; a new commit per wait so every build has a fresh head."""

    def __init__(self, gitea: GiteaClient, repo: str, base: str, tag: str, index: int) -> None:
        self.gitea, self.repo, self.index = gitea, repo, index
        self.branch = f"bench/latency-{tag}-{index}"
        self.commits = 0
        self.pr: dict[str, Any] | None = None
        self.base = base

    def open(self) -> None:
        self.gitea.put_file(self.repo, f"bench-{self.index}-0.txt", "latency benchmark\n", "bench: scratch",
                            branch=self.base, new_branch=self.branch)
        self.pr, _unused = self.gitea.create_pr(self.repo, self.branch, self.base, f"bench: latency lane {self.index}",
                                                "cc-ci benchmark scratch PR; closed by the benchmark, never merged")

    def new_head(self) -> str:
        self.commits += 1
        data = self.gitea.put_file(self.repo, f"bench-{self.index}-{self.commits}.txt", f"{time.time()}\n",
                                   f"bench: wait {self.commits}", branch=self.branch)
        sha = ((data or {}).get("commit") or {}).get("sha")
        for _unused in range(100):
            head = self.gitea.get_pr(self.repo, self.pr["number"])["head"]["sha"]
            if head == sha or (sha is None and head):
                return head
            time.sleep(0.1)
        raise RuntimeError(f"PR #{self.pr['number']} head did not move to {sha}")

    def close(self) -> None:
        if self.pr:
            self.gitea.close_pr(self.repo, self.pr["number"])
        self.gitea.delete_branch(self.repo, self.branch)


def trigger(lane: Lane, drone: DroneClient, ci_repo: str, timeout: float, settle: float) -> tuple[str, int]:
    """A new head, ``!testme`` as the bot, the Drone build the bridge started for it.

    ``settle`` (> one bridge poll) passes between the push and the comment: the bridge reads the PR
    list (with its head) before the comments, so a comment posted right after a push can be fired at
    the previous head (seen in a first run: the build came for the old SHA)."""
    sha = lane.new_head()
    time.sleep(settle)
    lane.gitea.post_comment(lane.repo, lane.pr["number"], "!testme")
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = drone.find_builds(ci_repo, {"PR": lane.pr["number"], "REF": sha}, per_page=50)
        if found:
            return sha, int(found[0]["number"])
        time.sleep(0.2)
    other = [(b.get("number"), str((b.get("params") or {}).get("REF", ""))[:10])
             for b in drone.find_builds(ci_repo, {"PR": lane.pr["number"]}, per_page=50)[:3]]
    raise RuntimeError(f"no Drone build for PR #{lane.pr['number']} @ {sha[:10]} within {timeout} s "
                       f"(latest builds of the PR, number/REF: {other})")


def baseline_poll(lab: dict[str, Any], repo: str, sha: str, timeout: float) -> dict[str, Any]:
    """A plain poller: the combined status every 5 s until cc-ci/testme is final."""
    client = GiteaClient(lab["gitea_url"], lab["tokens"]["bot"], timeout=15)
    start = time.time()
    state = ""
    try:
        while True:
            data = client.combined_status(repo, sha)
            states = [s.get("status") or s.get("state") for s in data.get("statuses") or []
                      if s.get("context") == CONTEXT]
            state = next((s for s in states if s in FINAL), "")
            if state or time.time() - start > timeout:
                break
            time.sleep(BASELINE_INTERVAL)
    finally:
        client.close()
    end = time.time()
    return {"start": start, "end": end, "calls": client.calls, "state": state}


def ours_wait(lab: dict[str, Any], number: int, timeout: float) -> dict[str, Any]:
    client = DroneClient(lab["drone_url"], lab["tokens"]["drone"], timeout=15)
    start = time.time()
    try:
        build, finished, polls = wait_for_build(client, lab["ci_repo"], number, timeout)
    finally:
        client.close()
    end = time.time()
    return {"start": start, "end": end, "calls": client.calls, "polls": polls, "finished": finished,
            "state": build.get("status")}


def helper_wait(lab: dict[str, Any], pr: int, timeout: float) -> dict[str, Any]:
    script = Path(lab["root"]) / ".claude" / "skills" / "recipe-upgrade" / "testme-on-pr.sh"
    e = dict(os.environ, POST="0", INTERVAL=str(int(BASELINE_INTERVAL)), MAX_WAIT=str(int(timeout)),
             GITEA_URL=lab["gitea_url"], GITEA_TOKEN=lab["tokens"]["bot"], MIRROR_ORG=lab["mirror_org"],
             CCCI_LAB_FAULTS="")
    start = time.time()
    proc = subprocess.run(["bash", str(script), RECIPE, str(pr)], check=False, env=e, capture_output=True, text=True,
                          timeout=timeout + 60)
    end = time.time()
    verdict = next((ln.split("=", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("VERDICT=")), None)
    return {"start": start, "end": end, "rc": proc.returncode, "verdict": verdict}


def one_wait(lab: dict[str, Any], lane: Lane, drone_ro: DroneClient, args: argparse.Namespace) -> dict[str, Any]:
    sha, number = trigger(lane, drone_ro, lab["ci_repo"], timeout=30 + 5 * args.latency_poll_interval,
                          settle=2 * args.latency_poll_interval + 0.5)
    timeout = args.latency_build_seconds * 3 + 120
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def run(name: str, fn, *a) -> None:
        try:
            results[name] = fn(*a)
        except Exception as exc:  # noqa: BLE001 - recorded, the wait counts as failed
            errors[name] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=("ours", ours_wait, lab, number, timeout)),
               threading.Thread(target=run, args=("baseline", baseline_poll, lab, lane.repo, sha, timeout))]
    if args.helper:
        threads.append(threading.Thread(target=run, args=("helper", helper_wait, lab, lane.pr["number"], timeout)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 90)
    build = drone_ro.get_build(lab["ci_repo"], number)
    statuses = lane.gitea.list_statuses(lane.repo, sha)
    final = next((s for s in statuses if s.get("context") == CONTEXT and s.get("state") in FINAL), None)
    rec: dict[str, Any] = {"lane": lane.index, "pr": lane.pr["number"], "sha": sha, "build": number,
                           "build_status": build.get("status"), "started": build.get("started"),
                           "finished": build.get("finished"),
                           "status_at": parse_time((final or {}).get("created_at")) if final else None,
                           "errors": errors}
    fin = float(build.get("finished") or 0) or None
    for name, r in results.items():
        r = dict(r)
        r["latency"] = rnd(r["end"] - fin, 3) if fin else None
        r["waited"] = rnd(r["end"] - r["start"], 3)
        rec[name] = r
    return rec


def measure_latency(args: argparse.Namespace, work: Path, state: Path) -> dict[str, Any]:
    log(f"latency: lab ({state}), build {args.latency_build_seconds} s, poll {args.latency_poll_interval} s, "
        f"{args.waits} waits over {args.lanes} concurrent PRs")
    lab = lab_up(state, args.latency_build_seconds, args.latency_poll_interval, runners=args.lanes)
    for key in ("gitea_url", "drone_url"):
        if not re.match(r"^http://127\.0\.0\.1:\d+", lab[key]):
            raise RuntimeError(f"lab {key} {lab[key]} is not on 127.0.0.1")
    repo = f"{lab['mirror_org']}/{RECIPE}"
    gitea = GiteaClient(lab["gitea_url"], lab["tokens"]["bot"], timeout=15)
    drone_ro = DroneClient(lab["drone_url"], lab["tokens"]["drone"], timeout=15)
    base = gitea.repo(repo).get("default_branch") or "main"
    tag = time.strftime("%Y%m%d%H%M%S")
    lanes = [Lane(gitea, repo, base, tag, i) for i in range(args.lanes)]
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        for lane in lanes:
            lane.open()
        # warm-up (not counted): one build, so the waiter has a duration history as it would on a box
        sha, number = trigger(lanes[0], drone_ro, lab["ci_repo"], timeout=30 + 5 * args.latency_poll_interval,
                              settle=2 * args.latency_poll_interval + 0.5)
        log(f"latency: warm-up build #{number}")
        wait_for_build(drone_ro, lab["ci_repo"], number, args.latency_build_seconds * 3 + 120)
        rounds = math.ceil(args.waits / args.lanes)
        for rnd_no in range(rounds):
            batch: list[dict[str, Any]] = []
            lock = threading.Lock()

            def go(lane: Lane) -> None:
                try:
                    rec = one_wait(lab, lane, DroneClient(lab["drone_url"], lab["tokens"]["drone"], timeout=15),
                                   args)
                except Exception as exc:  # noqa: BLE001
                    with lock:
                        errors.append(f"lane {lane.index}: {type(exc).__name__}: {exc}")
                    return
                with lock:
                    batch.append(rec)

            todo = lanes[: min(args.lanes, args.waits - rnd_no * args.lanes)]
            ts = [threading.Thread(target=go, args=(lane,)) for lane in todo]
            for t in ts:
                t.start()
            for t in ts:
                t.join(args.latency_build_seconds * 3 + 400)
            records += batch
            lat = [r["ours"]["latency"] for r in batch if "ours" in r]
            base_lat = [r["baseline"]["latency"] for r in batch if "baseline" in r]
            log(f"latency: round {rnd_no + 1}/{rounds}: ours {lat}, 5 s poller {base_lat}")
    finally:
        for lane in lanes:
            try:
                lane.close()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"closing lane {lane.index}: {exc}")
        open_left = [p["number"] for p in gitea.list_prs(repo, "open") if p["head"]["ref"].startswith("bench/")]
        if open_left:
            errors.append(f"scratch PRs still open: {open_left}")
        gitea.close()
        drone_ro.close()
        lab_down(state)

    def agg(name: str) -> dict[str, Any]:
        rs = [r[name] for r in records if name in r and r[name].get("latency") is not None]
        lats = [r["latency"] for r in rs]
        calls = sum(r.get("calls", 0) for r in rs)
        mins = sum(r["waited"] for r in rs) / 60.0
        return {"n": len(rs), "p50": rnd(percentile(lats, 50)), "p95": rnd(percentile(lats, 95)),
                "max": rnd(max(lats) if lats else None), "min": rnd(min(lats) if lats else None),
                "requests": calls if name != "helper" else None,
                "requests_per_min": rnd(calls / mins) if mins and name != "helper" else None,
                "mean_wait_s": rnd(sum(r["waited"] for r in rs) / len(rs)) if rs else None}

    ours, baseline = agg("ours"), agg("baseline")
    helper = agg("helper") if args.helper else None
    wrong = [r["build"] for r in records
             if "ours" in r and "baseline" in r
             and (r["ours"]["state"] != r["build_status"]
                  or (r["baseline"]["state"] == "success") != (r["build_status"] == "success"))]
    if wrong:
        errors.append(f"a waiter returned a state other than the build's for builds {wrong}")
    lag = [r["status_at"] - r["finished"] for r in records if r.get("status_at") and r.get("finished")]
    if ours["n"] < args.waits:
        errors.append(f"only {ours['n']} of {args.waits} waits measured")
    return {
        "latency_p50_s": ours["p50"], "latency_p95_s": ours["p95"], "latency_max_s": ours["max"],
        "requests_per_min": ours["requests_per_min"],
        "baseline_latency_p50_s": baseline["p50"], "baseline_requests_per_min": baseline["requests_per_min"],
        "latency_detail": {
            "ours": ours, "baseline_5s_poller": baseline, "helper_testme_on_pr_POST0_INTERVAL5": helper,
            "bridge_status_lag_s": {"p50": rnd(percentile(lag, 50)), "max": rnd(max(lag) if lag else None)},
            "build_seconds": args.latency_build_seconds, "poll_interval": args.latency_poll_interval,
            "lanes": args.lanes, "waits": records,
            "note": ("latency = waiter return - Drone build 'finished' (whole seconds, truncated: each figure "
                     "is overstated by up to 1 s, alike for every waiter); the 5 s poller and the helper read "
                     "Gitea, so their figures include the bridge's lag in posting the final status "
                     "(bridge_status_lag_s); requests/min = all requests of that waiter / all its waiting time, "
                     "ours including its one builds-list request for the duration history"),
        },
        "latency_errors": errors,
    }


# -- the table --------------------------------------------------------------------------------------

def table(res: dict[str, Any]) -> str:
    def f(x: Any, unit: str = " s") -> str:
        return "n/a" if x is None else f"{x:.2f}{unit}" if isinstance(x, float) else f"{x}{unit}"

    def met(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    rows = []
    ov = res.get("overhead_seconds")
    rows.append(("overhead (wall - lab wait)", f"{f(ov)} (wall {f(res.get('wall_seconds'))}, waited "
                 f"{f(res.get('waited_seconds'))}, ratio {f(res.get('overhead_ratio'), '')})",
                 f"< {GOAL_OVERHEAD_S:.0f} s", met(None if ov is None else ov < GOAL_OVERHEAD_S)))
    own = res.get("own_work_seconds")
    rows.append(("own work (wall - waits on components)", f"{f(own)}", f"< {GOAL_OVERHEAD_S:.0f} s",
                 met(None if own is None else own < GOAL_OVERHEAD_S)))
    proj = res.get("real_box_projection_seconds")
    agent = (res.get("real_box_projection") or {}).get("agent_run_seconds")
    rows.append(("real-box projection", f"{f(proj)} ({proj / 60:.0f} min, agent runs {agent:.0f} s each)"
                 if proj is not None else "n/a", "(estimate)", ""))
    p50, b50 = res.get("latency_p50_s"), res.get("baseline_latency_p50_s")
    rpm, brpm = res.get("requests_per_min"), res.get("baseline_requests_per_min")
    rows.append(("latency p50 / p95 / max", f"{f(p50)} / {f(res.get('latency_p95_s'))} / {f(res.get('latency_max_s'))}",
                 f"p50 < 5 s poller's {f(b50)}", met(None if p50 is None or b50 is None else p50 < b50)))
    rows.append(("requests per minute", f"{f(rpm, '')} (5 s poller {f(brpm, '')})", "<= 5 s poller's",
                 met(None if rpm is None or brpm is None else rpm <= brpm)))
    helper = ((res.get("latency_detail") or {}).get("helper_testme_on_pr_POST0_INTERVAL5") or {})
    if helper.get("p50") is not None:
        rows.append(("  helper testme-on-pr.sh p50 / max", f"{f(helper['p50'])} / {f(helper['max'])}", "(reference)", ""))
    for key, label in (("rerun_cron_s", "re-run install-cron.yml"), ("rerun_check_s", "re-run V1")):
        v = res.get(key)
        note = f" ({res['rerun_cron_note']})" if key == "rerun_cron_s" and res.get("rerun_cron_note") else ""
        rows.append((label, f"{f(v)}{note}", f"< {GOAL_RERUN_S:.0f} s", met(None if v is None else v < GOAL_RERUN_S)))
    box, wall = res.get("box_like_wall_seconds"), res.get("wall_seconds")
    if box is not None:
        bad = sorted(k for k, v in (res.get("box_like_verdicts") or {}).items() if v not in ("PASS", "SKIP"))
        rows.append(("box-like run (LAB_PROFILE=box-like)", f"{f(box)} (default run {f(wall)}, exit "
                     f"{res.get('box_like_run_exit')}{', not passing: ' + ', '.join(bad) if bad else ''})",
                     "every check passes", met(not bad and res.get("box_like_run_exit") == 0)))
    w = [max(len(r[i]) for r in rows + [("figure", "measured", "goal", "")]) for i in range(3)]
    lines = [f"{'figure':<{w[0]}}  {'measured':<{w[1]}}  {'goal':<{w[2]}}  result",
             f"{'-' * w[0]}  {'-' * w[1]}  {'-' * w[2]}  ------"]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}" for a, b, c, d in rows]
    if res.get("own_work_top"):
        lines += ["", "own work, top 5:"]
        lines += [f"  {t['seconds']:7.2f} s  {t['item']}" + (f" (x{t['count']})" if t["count"] > 1 else "")
                  for t in res["own_work_top"]]
    if res.get("real_box_projection"):
        parts = res["real_box_projection"]["parts_seconds"]
        lines += ["", "real-box projection: own work " + f(res.get("own_work_seconds")) + " + "
                  + " + ".join(f"{k} {v:.0f} s" for k, v in parts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "bench.json"))
    ap.add_argument("--build-seconds", type=float, default=3.0, help="lab build time for the full run (make run's)")
    ap.add_argument("--poll-interval", type=float, default=1.0, help="lab bridge poll for the full run")
    ap.add_argument("--cron-offset", type=int, default=90, help="ccci_cron_lab_offset for the full run")
    ap.add_argument("--run-timeout", type=float, default=1800.0, help="timeout of each ansible-playbook run")
    ap.add_argument("--waits", type=int, default=20, help="latency waits (at least 20 for the figure)")
    ap.add_argument("--lanes", type=int, default=5, help="scratch PRs waited on concurrently")
    ap.add_argument("--latency-build-seconds", type=float, default=45.0)
    ap.add_argument("--latency-poll-interval", type=float, default=1.0)
    ap.add_argument("--no-helper", dest="helper", action="store_false", help="leave out testme-on-pr.sh")
    ap.add_argument("--only", default="overhead,reruns,latency,box-like", help="comma list of parts to measure")
    ap.add_argument("--keep-work", action="store_true", help="keep the /tmp work dir (logs, reports)")
    ap.add_argument("--agent-seconds", type=float, default=600.0,
                    help="the real agent's run time per skill run, for the real-box projection")
    ap.add_argument("--from-report", metavar="DIR", help="only own work and the projection, from DIR/report.json "
                    "of a run made with --poll-interval and --cron-offset as given here")
    args = ap.parse_args(argv)
    if args.from_report:
        res = from_report(Path(args.from_report), args)
        print(json.dumps(res, indent=2))
        print(table(res))
        return 0
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if not parts <= {"overhead", "reruns", "latency", "box-like"} or args.waits < 1 or args.lanes < 1:
        ap.error("--only takes overhead,reruns,latency,box-like; --waits and --lanes must be >= 1")
    if "reruns" in parts and "overhead" not in parts:
        ap.error("reruns need the overhead run's lab (add overhead to --only)")

    work = Path(tempfile.mkdtemp(prefix="ccci-bench-", dir="/tmp"))
    run_lab, lat_lab, box_lab = work / "lab-run", work / "lab-latency", work / "lab-box-like"
    res: dict[str, Any] = {k: None for k in ("own_work_seconds", "own_work_top", "real_box_projection_seconds",
                                             "overhead_seconds", "overhead_ratio", "wall_seconds", "waited_seconds",
                                             "latency_p50_s", "latency_p95_s", "latency_max_s", "requests_per_min",
                                             "baseline_latency_p50_s", "baseline_requests_per_min",
                                             "rerun_cron_s", "rerun_check_s", "box_like_wall_seconds")}
    res.update(measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), work_dir=str(work),
               settings={k: v for k, v in vars(args).items() if k != "out"})
    errors: list[str] = []
    log(f"work dir {work}")

    def attempt(name: str, measure, *a) -> dict[str, Any] | None:
        """One part's figures; a part that fails is an error under its name, the others still run."""
        try:
            return measure(*a)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            return None

    try:
        if "overhead" in parts:
            res.update(attempt("overhead", measure_overhead, args, work, run_lab) or {})
            if "reruns" in parts and not errors:
                res.update(attempt("reruns", measure_reruns, args, work, run_lab) or {})
            lab_down(run_lab)
        if "latency" in parts:
            lat = attempt("latency", measure_latency, args, work, lat_lab) or {"latency_errors": []}
            errors += [f"latency: {e}" for e in lat.pop("latency_errors")]
            res.update(lat)
        if "box-like" in parts:
            res.update(attempt("box-like", measure_box_like, args, work, box_lab) or {})
    finally:
        lab_down(run_lab)
        lab_down(lat_lab)
        lab_down(box_lab)
    if res.get("rerun_check_exit") not in (None, 0):
        errors.append(f"reruns: the V1 re-run exited {res['rerun_check_exit']}")
    res["goals"] = {
        "overhead_under_60s": None if res["overhead_seconds"] is None else res["overhead_seconds"] < GOAL_OVERHEAD_S,
        "own_work_under_60s": None if res.get("own_work_seconds") is None else res["own_work_seconds"] < GOAL_OVERHEAD_S,
        "latency_below_5s_poller": None if None in (res["latency_p50_s"], res["baseline_latency_p50_s"])
        else res["latency_p50_s"] < res["baseline_latency_p50_s"],
        "requests_not_above_5s_poller": None if None in (res["requests_per_min"], res["baseline_requests_per_min"])
        else res["requests_per_min"] <= res["baseline_requests_per_min"],
        "rerun_cron_under_10s": None if res["rerun_cron_s"] is None else res["rerun_cron_s"] < GOAL_RERUN_S,
        "rerun_check_under_10s": None if res["rerun_check_s"] is None else res["rerun_check_s"] < GOAL_RERUN_S,
    }
    res["errors"] = errors
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    print(f"\n{out}" + (f"; logs and reports in {work}" if args.keep_work or errors else ""))
    for e in errors:
        print(f"measurement error: {e}", file=sys.stderr)
    if not args.keep_work and not errors:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
