#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test sanity on a copy of the collection placed under ansible_collections/coopcloud/cc_ci.
# This network refuses pip's bootstrap download, so a stand-in bootstrap (ensurepip + pip install
# with the system CA bundle) is put where ansible-test looks for it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/${VENV:-.venv}/bin
. scripts/collection-copy.sh
# lab/ is left out: it is the simulated forge/box the tests run against (plain Python tools, fake
# CLIs with python shebangs, compose templates with @@...@@ placeholders seed.py fills in), not
# Ansible content; pytest (tests/lab) covers it.
collection_copy ':(exclude)lab'

cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
for v in 24_2 25_0 25_1 25_2 25_3; do
  [ -f "$cache/get_pip_$v.py" ] && continue
  cat > "$cache/get_pip_$v.py" <<'PY'
# Stand-in for pip's get-pip.py (this network refuses the download): ensurepip, then pip itself.
import os, subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
ca = "/etc/ssl/certs/ca-certificates.crt"
extra = ["--cert", ca] if os.path.exists(ca) else []
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *extra, *args])
PY
done
cd "$dest"
"$BIN/ansible-test" sanity --local --python 3.11 --color no "$@"
