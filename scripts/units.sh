#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test units: the unit tests (tests/unit) as ansible-test runs them, each plugin type in a
# pytest session of its own with ansible-test's pytest config. `make unit` runs the same tests with
# plain pytest in ~1 min; this takes ~4 min on 2 cores, so `make test` leaves it out (make units).
# lab/ is copied too: some module tests drive the lab's stand-ins (lab/bin, lab/data).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/${VENV:-.venv}/bin
. scripts/collection-copy.sh
collection_copy
cd "$dest"
"$BIN/ansible-test" units --local --python 3.11 --color no "$@"
