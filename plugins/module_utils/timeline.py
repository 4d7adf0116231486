# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's timeline: its data (for report.json and ``make bench``) and a Gantt chart of it as
SVG without script (checks, each Drone build queued → running → result, the waits on the agent,
helper, launcher, bridge, sandbox deploys and cron, the cron T0 and the observed first fire).

Sources, all optional: the stored check results (a check's window is ``recorded - seconds`` ..
``recorded``), the Drone builds created during the run (``created``/``started``/``finished``), the
spans of the run's progress file (:mod:`spans`) and the CRON evidence (``t0``, ``fired_at``).
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CheckResult
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.spans import WAIT_KINDS, closed_spans

WAIT_ORDER = ("agent", "helper", "launcher", "bridge", "build", "deploy", "cron")
COLOURS = {"PASS": "#2da44e", "FAIL": "#cf222e", "SKIP": "#bf8700", "success": "#2da44e", "failure": "#cf222e",
           "error": "#cf222e", "killed": "#8c959f", "running": "#0969da", "pending": "#8c959f",
           "queued": "#d0d7de", "agent": "#8250df", "helper": "#1f6feb", "launcher": "#bc4c00",
           "bridge": "#57606a", "build": "#0969da", "deploy": "#1b7c83", "cron": "#9a6700"}


def epoch(value: Any) -> float | None:
    """Unix seconds from a number or an ISO 8601 string; None when neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def collect(started: float, finished: float, checks: list[CheckResult], builds: list[dict[str, Any]],
            records: list[dict[str, Any]]) -> dict[str, Any]:
    """The timeline's data: plain lists of spans in unix seconds."""
    rows_checks = [{"id": c.id, "start": round(c.recorded - c.seconds, 3), "end": round(c.recorded, 3),
                    "verdict": c.verdict} for c in checks if c.recorded]
    rows_builds = []
    for b in sorted(builds, key=lambda b: b.get("number") or 0):
        params = b.get("params") or {}
        rows_builds.append({"number": b.get("number"), "status": b.get("status"), "created": epoch(b.get("created")),
                            "started": epoch(b.get("started")), "finished": epoch(b.get("finished")),
                            "recipe": params.get("RECIPE") or (params.get("REPO") or "").split("/")[-1] or None,
                            "pr": params.get("PR")})
    # every attribute a span carries (build, recipe, fired, window, poll…) is kept for make bench
    waits = [dict({k: v for k, v in s.items() if k not in ("ev", "span")}, observed=bool(s.get("observed")))
             for s in sorted(closed_spans(records), key=lambda s: s.get("start") or 0)
             if s.get("kind") in WAIT_KINDS and epoch(s.get("start"))]
    tasks = [{"name": r.get("name"), "check": r.get("check"), "action": r.get("action"), "start": r.get("start"),
              "end": r.get("end"), "status": r.get("status")} for r in records if r.get("ev") == "task"]
    api = {"calls": 0, "seconds": 0.0, "in_wait": 0.0}
    for r in records:
        if r.get("ev") == "api":
            api["calls"] += int(r.get("calls") or 0)
            api["seconds"] = round(api["seconds"] + float(r.get("seconds") or 0), 3)
            api["in_wait"] = round(api["in_wait"] + float(r.get("in_wait") or 0), 3)
    marks = []
    cron = next((c for c in checks if c.id == "CRON"), None)
    if cron is not None and isinstance(cron.evidence, dict):
        for key, label in (("t0", "cron T0"), ("fired_at", "first fire seen")):
            t = epoch(cron.evidence.get(key))
            if t:
                marks.append({"label": label, "t": t})
    return {"start": started, "end": finished, "checks": rows_checks, "builds": rows_builds, "waits": waits,
            "tasks": tasks, "api": api, "marks": marks}


# -- drawing -------------------------------------------------------------------------------------

LABEL_W, PLOT_W, ROW_H, BAR_H, TOP = 170, 900, 16, 11, 40


def _nice_step(seconds: float) -> int:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if seconds / step <= 12:
            return step
    return 7200


def svg(data: dict[str, Any]) -> str:
    """The Gantt chart: one row per check and per build, one row per kind of wait; marks as lines."""
    times = [data["start"], data["end"]]
    times += [x for c in data["checks"] for x in (c["start"], c["end"])]
    times += [x for b in data["builds"] for x in (b["created"], b["finished"]) if x]
    times += [x for w in data["waits"] for x in (w["start"], w["end"]) if x]
    times += [m["t"] for m in data["marks"]]
    t_min, t_max = min(times), max(times)
    span = max(1.0, t_max - t_min)

    def x(t: float) -> float:
        return round(LABEL_W + (t - t_min) / span * PLOT_W, 1)

    def draw_bar(kind: str, ident: Any, label: str, pieces: list[tuple[float, float, str]], row: int, tip: str) -> str:
        y = TOP + row * ROW_H
        rects = "".join(
            f'<rect x="{x(a)}" y="{y + (ROW_H - BAR_H) / 2}" width="{max(1.5, x(b) - x(a)):.1f}" height="{BAR_H}" '
            f'fill="{fill}" rx="2"/>' for a, b, fill in pieces if a is not None and b is not None)
        return (f'<g class="bar" data-kind="{kind}" data-id="{html.escape(str(ident))}"><title>{html.escape(tip)}</title>'
                f'<text x="{LABEL_W - 6}" y="{y + ROW_H - 4}" text-anchor="end">{html.escape(label)}</text>{rects}</g>')

    out: list[str] = []
    row = 0

    def section(title: str) -> None:
        nonlocal row
        out.append(f'<text class="section" x="4" y="{TOP + row * ROW_H + ROW_H - 3}">{html.escape(title)}</text>')
        row += 1

    if data["checks"]:
        section("Checks")
        for c in data["checks"]:
            tip = f"{c['id']} {c['verdict']} {c['end'] - c['start']:.1f} s"
            out.append(draw_bar("check", c["id"], c["id"], [(c["start"], c["end"], COLOURS.get(c["verdict"], "#888"))],
                                row, tip))
            row += 1
    if data["builds"]:
        section("Drone builds (queued · running · result)")
        for b in data["builds"]:
            end = b["finished"] or data["end"]
            status = b["status"] or "?"
            pieces = [(b["created"], b["started"] or end, COLOURS["queued"])]
            if b["started"]:
                pieces.append((b["started"], end, COLOURS.get(status, "#888")))
            what = " ".join(str(p) for p in (b["recipe"], f"PR {b['pr']}" if b["pr"] else None) if p)
            queued = (b["started"] or end) - b["created"] if b["created"] else 0
            ran = end - b["started"] if b["started"] else 0
            tip = f"build #{b['number']} {what}: {status}, queued {queued:.0f} s, ran {ran:.0f} s"
            out.append(draw_bar("build", b["number"], f"#{b['number']} {what}", pieces, row, tip))
            row += 1
    kinds = [k for k in WAIT_ORDER if any(w["kind"] == k for w in data["waits"])]
    if kinds:
        section("Waits on components")
        for kind in kinds:
            y = TOP + row * ROW_H
            spans = [w for w in data["waits"] if w["kind"] == kind]
            label = {"deploy": "sandbox deploys", "cron": "cron", "bridge": "bridge"}.get(kind, kind)
            out.append(f'<text x="{LABEL_W - 6}" y="{y + ROW_H - 4}" text-anchor="end">{label}</text>')
            for i, w in enumerate(spans):
                tip = f"{kind}: {w.get('what')} ({w['end'] - w['start']:.1f} s, {w.get('outcome') or 'observed'})"
                out.append(draw_bar("wait", f"{kind}-{i}", "", [(w["start"], w["end"], COLOURS.get(kind, "#888"))],
                                    row, tip))
            row += 1
    height = TOP + row * ROW_H + 24
    step = _nice_step(span)
    grid = []
    t = 0
    while t <= span:
        gx = x(t_min + t)
        grid.append(f'<line x1="{gx}" y1="{TOP - 6}" x2="{gx}" y2="{height - 20}" class="grid"/>'
                    f'<text x="{gx}" y="{TOP - 10}" text-anchor="middle">+{t // 60}:{t % 60:02d}</text>')
        t += step
    marks = []
    height += 12 * max(0, len(data["marks"]) - 1)
    for i, m in enumerate(data["marks"]):
        mx = x(m["t"])
        marks.append(f'<g class="mark" data-kind="mark"><line x1="{mx}" y1="{TOP - 6}" x2="{mx}" y2="{height - 20}" '
                     f'stroke="#cf222e" stroke-dasharray="4 3"/><text x="{mx + 3}" y="{height - 8 - 12 * i}" fill="#cf222e">'
                     f'{html.escape(m["label"])}</text><title>{html.escape(m["label"])} '
                     f'{datetime.fromtimestamp(m["t"], timezone.utc).strftime("%H:%M:%S")}Z</title></g>')
    start_clock = datetime.fromtimestamp(t_min, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    width = LABEL_W + PLOT_W + 30
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
            '<style>.grid{stroke:#eaeef2}.section{font-weight:bold}text{fill:#24292f}</style>'
            f'<text x="4" y="14" font-weight="bold">Run timeline from {start_clock} (m:ss since start)</text>'
            + "".join(grid) + "".join(out) + "".join(marks) + "</svg>\n")
