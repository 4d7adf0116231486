# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""V9's claims: everything the run (or a killed one) opened is closed, torn down and stopped.

``inputs`` (gathered by roles/v9_cleanup): ``sweep`` (the gitea_sweep that closes), ``after`` (the
second sweep, which must find nothing), ``apps`` (abra_teardown's result per sandbox recipe),
``engine`` (docker's own ``stack``/``volume``/``secret`` listings: read with docker, not abra, so an
abra that hides an app cannot hide it from V9), ``env_files`` (the app env files on disk, found
without abra), ``sandbox_recipes``, ``session`` (upgrader_session stop). A task that never ran gives ``{}``: its claim fails, it never passes.
"""
from __future__ import annotations

import os
import re
from typing import Any

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import Predicate, dig


def _sandbox(names: list[str], recipes: list[str]) -> list[str]:
    if not recipes:
        return []
    pattern = re.compile(rf"^({'|'.join(re.escape(r) for r in recipes)})[-_]")
    return [n for n in names if pattern.match(n)]


def _teardown_lies(apps: list[dict[str, Any]]) -> list[str]:
    """What abra said it did but the engine (read with docker) contradicts, one phrase each."""
    lies = []
    for app in apps:
        domain, left, actions = app.get("domain", "?"), app.get("left") or {}, app.get("actions") or []
        if "undeploy" in actions and left.get("stack"):
            lies.append(f"`abra app undeploy {domain}` answered success but its stack {app.get('stack')} is "
                        "still on the engine")
        if "remove" in actions and not app.get("error"):
            for kind in ("volumes", "secrets"):
                for name in left.get(kind) or []:
                    lies.append(f"`abra app remove {domain}` answered success but left {kind[:-1]} {name} "
                                "on the engine")
            if left.get("env_file"):
                lies.append(f"`abra app remove {domain}` answered success but `abra app ls` still lists it")
        if app.get("error"):
            lies.append(f"tearing down {domain} failed: {app['error']}")
    return lies


def evaluate(inputs: dict[str, Any]) -> list[Predicate]:
    sweep, after = inputs.get("sweep") or {}, inputs.get("after") or {}
    recipes = list(inputs.get("sandbox_recipes") or [])
    results = dig(inputs, "apps", "results", default=[]) or []
    apps = [app for result in results for app in (result.get("apps") or [])]
    listed = {app.get("stack") for app in apps}
    engine = {kind: _sandbox(lines, recipes) for kind, lines in (inputs.get("engine") or {}).items()}
    # Apps abra knows are the env files on disk (read with find, not `abra app ls`).
    env_stacks = {os.path.basename(str(f)).removesuffix(".env").replace(".", "_") for f in inputs.get("env_files") or []}
    stacks_left = engine.get("stacks", [])
    hidden = [s for s in stacks_left if s not in listed]
    engine_left = [f"{kind[:-1]} {name}" for kind, names in engine.items() for name in names]
    lies = _teardown_lies(apps)
    # A volume or secret whose app abra no longer has (no env file, no stack) was left by a remove.
    orphans = [f"{kind[:-1]} {name}" for kind in ("volumes", "secrets") for name in engine.get(kind, [])
               if not any(name.startswith(f"{s}_") for s in env_stacks | set(stacks_left))]
    if orphans:
        lies.append(f"`abra app remove` reported its app removed but left {', '.join(orphans)} on the engine "
                    "(abra no longer knows the app: no env file)")
    unread = [f"{r.get('item', '?')} ({r['msg']})" for r in results if r.get("msg") and not r.get("apps")]

    closed = {(c.get("repo"), c.get("number")) for c in sweep.get("closed") or []}
    remaining = list(sweep.get("remaining") or [])
    still_open = [r for r in remaining if (r.get("repo"), r.get("number")) in closed]
    found_later = list(after.get("closed") or []) + [{"branch": b} for b in after.get("deleted_branches") or []]
    left = remaining + list(after.get("remaining") or []) + found_later
    left_names = [x.get("html_url") or f"{x.get('repo', '')}:{x.get('branch', '')}".lstrip(":") for x in left]
    session = inputs.get("session") or {}
    merged = [m.get("html_url") for m in sweep.get("merged") or []]

    gitea_diag = f"cleanup left {len(left)} PR(s)/branch(es) of the run open: {', '.join(left_names)}"
    if still_open:
        gitea_diag += ("; Gitea answered the close of " + ", ".join(f"{r.get('repo')}#{r.get('number')}" for r in still_open)
                       + " with success but the PR is still open")
    if sweep.get("errors"):
        gitea_diag += f"; refused: {'; '.join(sweep['errors'])}"
    engine_diag = f"teardown left sandbox {', '.join(engine_left)} on the engine"
    if hidden:
        engine_diag += (f"; docker holds stack {', '.join(hidden)} that `abra app ls` does not list "
                        "(abra hides a deployed app, so nothing tore it down)")
    if orphans:
        engine_diag += f"; {lies[-1]}"
    return [
        Predicate("V9.swept", all(r and not r.get("failed") for r in (sweep, after)),
                  f"the sweep did not finish: {sweep.get('msg') or after.get('msg') or 'it never ran'}",
                  {"sweep_ran": bool(sweep), "read_back_ran": bool(after)}),
        Predicate("V9.prs_and_branches_closed", bool(sweep) and not left and not sweep.get("errors"), gitea_diag,
                  {"left": left_names, "errors": sweep.get("errors") or [], "still_open_after_close": still_open}),
        Predicate("V9.abra_did_what_it_said", bool(results) and not lies and not unread,
                  "; ".join(lies) or (f"abra could not be read for {', '.join(unread)}" if unread
                                      else "the sandbox apps were never torn down (no abra_teardown result)"),
                  {"lies": lies, "unread": unread}),
        Predicate("V9.engine_clear", bool(inputs.get("engine")) and not engine_left, engine_diag,
                  {"engine_left": engine_left, "abra_listed": sorted(s for s in listed if s)}),
        Predicate("V9.session_stopped", session.get("status") == "ABSENT",
                  f"the cc-ci-upgrader session is still there ({session.get('status') or '?'}) after stop",
                  {"before": dig(session, "previous", "status"), "after": session.get("status")}),
        Predicate("V9.nothing_merged", bool(sweep) and not merged,
                  f"a PR of the run was merged (guardrail broken): {merged}", {"merged": merged}),
    ]
