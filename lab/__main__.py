# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m lab up|down|status|serve --state DIR`` (see docs/ARCHITECTURE.md, "The lab")."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from lab import box, daemon


def _faults(text: str) -> list[str]:
    return sorted({f.strip() for f in (text or "").split(",") if f.strip()})


def main(argv: list[str] | None = None) -> int:
    prog = "python -m lab" if sys.argv[0].endswith("__main__.py") else Path(sys.argv[0]).name  # or ccci-lab
    parser = argparse.ArgumentParser(prog=prog, description="The cc-ci lab: a stand-in box on 127.0.0.1.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("up", "start the lab (no-op when it is up with the same settings)"),
                       ("serve", "run the lab daemon in the foreground (what `up` starts)"),
                       ("down", "stop the lab (idempotent)"),
                       ("status", "print lab.json; exit 1 when the lab is down"),
                       ("inventory", "print one inventory of the boxes of these labs (--state once a lab)")):
        p = sub.add_parser(name, help=text)
        if name == "inventory":
            p.add_argument("--state", action="append", required=True, help="a lab laid out as a box (repeat)")
            continue
        p.add_argument("--state", default=".lab", help="the lab's state dir (default .lab)")
        if name in ("up", "serve"):
            p.add_argument("--faults", default="", help="comma-separated lab faults")
            p.add_argument("--build-seconds", type=float, default=3.0)
            p.add_argument("--poll-interval", type=float, default=1.0)
            p.add_argument("--runners", type=int, default=1, help="Drone runners (builds beyond wait queued)")
            p.add_argument("--max-response-items", type=int, default=50,
                           help="Gitea's MAX_RESPONSE_ITEMS: the page cap of every list (default 50)")
        if name == "up":
            p.add_argument("--fresh", action="store_true", help="wipe the state dir first")
            p.add_argument("--box", action="store_true",
                           help="also lay the box side out for an unprivileged user, served over SSH (root; lab/box.py)")
            p.add_argument("--box-user", default=box.BOX_USER, help=f"the box's user (default {box.BOX_USER})")
            p.add_argument("--box-port", type=int, help="the box's SSH port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if args.command == "inventory":
        try:
            print(box.boxes_inventory([Path(s) for s in args.state]), end="")
        except box.BoxError as exc:
            print(f"lab inventory: {exc}", file=sys.stderr)
            return 1
        return 0
    state = Path(args.state).resolve()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.command == "serve":
        return daemon.serve(str(state), _faults(args.faults), args.build_seconds, args.poll_interval,
                            runners=args.runners, max_response_items=args.max_response_items)
    if args.command == "up":
        try:
            path, started = daemon.up(state, _faults(args.faults), args.build_seconds, args.poll_interval,
                                      args.fresh, runners=args.runners,
                                      max_response_items=args.max_response_items)
        except (RuntimeError, ValueError) as exc:
            print(f"lab up: {exc}", file=sys.stderr)
            return 1
        print("lab started" if started else "lab already up", file=sys.stderr)
        if args.box:
            try:
                box_path = box.up(state, args.box_user, args.box_port)
            except (box.BoxError, OSError) as exc:
                print(f"lab up --box: {exc}", file=sys.stderr)
                return 1
            print(f"box served over SSH: {box_path}", file=sys.stderr)
        print(path)
        return 0
    if args.command == "down":
        box.down(state)
        was_up = daemon.down(state)
        print("lab stopped" if was_up else "lab already down", file=sys.stderr)
        return 0
    data = daemon.status(state)
    if data is None:
        print(f"lab is down ({state})", file=sys.stderr)
        return 1
    print(json.dumps(data, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python -m lab status | head`
        sys.exit(0)
