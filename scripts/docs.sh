#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# Every module's, lookup's and callback's documentation renders with ansible-doc (DOCUMENTATION, EXAMPLES and RETURN parse).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
fail=0
render() {  # render <plugin type> <file>
  local name out
  name=coopcloud.cc_ci.$(basename "$2" .py)
  if out=$("$BIN/ansible-doc" -t "$1" "$name" 2>&1 >/dev/null) && [ -z "$out" ]; then
    echo "ok   $1 $name"
  else
    echo "FAIL $1 $name: $out"; fail=1
  fi
}
for file in plugins/modules/*.py; do render module "$file"; done
for file in plugins/lookup/*.py; do render lookup "$file"; done
for file in plugins/callback/*.py; do render callback "$file"; done
"$BIN/ansible-doc" -l coopcloud.cc_ci >/dev/null || fail=1
exit $fail
