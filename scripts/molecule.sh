#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# molecule test for every scenario (delegated driver on this machine: no Docker engine needed): box (the
# whole run over SSH on two lab boxes at once, root only) and cron.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/${VENV:-.venv}/bin
export PATH="$BIN:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"
fail=0
for scenario in molecule/*/; do
  name=$(basename "$scenario")
  # The box scenario creates a user per box and runs their sshd: only root can. As root it runs, and a
  # box that cannot be set up fails it.
  if [ "$name" = box ] && [ "$(id -u)" -ne 0 ]; then
    echo "--- molecule box: SKIPPED: the lab as a box creates its users and runs sshd, which needs root (run make test as root)"
    continue
  fi
  echo "--- molecule test -s $name"
  t0=$SECONDS
  # The delegated driver never destroys, so molecule would remember "prepared" from an earlier run.
  "$BIN/molecule" reset -s "$name" >/dev/null 2>&1 || true
  "$BIN/molecule" test -s "$name" || fail=1
  echo "--- molecule $name: $((SECONDS - t0)) s"
done
exit $fail
