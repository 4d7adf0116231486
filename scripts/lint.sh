#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-lint, production profile, offline (the collection is linked in place by bootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
export ANSIBLE_COLLECTIONS_PATH=$PWD/.collections
"$BIN/ansible-lint" --offline --profile production --nocolor "$@"
