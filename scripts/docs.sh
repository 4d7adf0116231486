#!/usr/bin/env bash
# Every module's documentation renders with ansible-doc (DOCUMENTATION, EXAMPLES and RETURN parse).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
fail=0
for file in plugins/modules/*.py; do
  name=$(basename "$file" .py)
  if out=$("$BIN/ansible-doc" "coopcloud.cc_ci.$name" 2>&1 >/dev/null) && [ -z "$out" ]; then
    echo "ok   coopcloud.cc_ci.$name"
  else
    echo "FAIL coopcloud.cc_ci.$name: $out"; fail=1
  fi
done
"$BIN/ansible-doc" -l coopcloud.cc_ci >/dev/null || fail=1
exit $fail
