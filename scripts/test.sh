#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# make test: every part in turn, each timed; the summary lists what passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
export PATH="$PWD/$BIN:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg"
declare -a names=() results=() times=()
fail=0

part() {
  local name=$1; shift
  echo "=== $name: $*"
  local t0=$SECONDS
  "$@"
  local rc=$?
  names+=("$name"); times+=($((SECONDS - t0)))
  if [ $rc -eq 0 ]; then results+=(ok); else results+=("FAILED (exit $rc)"); fail=1; fi
  echo "=== $name: exit $rc in $((SECONDS - t0)) s"
}

part unit "$BIN/python" -m pytest -q -p no:cacheprovider tests/unit
part lab "$BIN/python" -m pytest -q -rf -p no:cacheprovider -n 2 tests/lab
# Two workers, each with a lab of its own: most of a check's time is waiting on the lab.
# The real-cron tests share the machine's crontab and daemon, so they run alone (the faked daemon of
# test_cron_faketime.py has a namespace of its own and runs with the others). --durations: where the time went.
part integration "$BIN/python" -m pytest -q -rf -p no:cacheprovider -n 2 --dist loadfile --durations=12 tests/integration -m "not cron" --ignore=tests/integration/test_mutants.py
part cron "$BIN/python" -m pytest -q -rf -p no:cacheprovider --durations=12 tests/integration -m cron
part mutants "$BIN/python" -m pytest -q -rf -p no:cacheprovider -n 3 --durations=12 tests/integration/test_mutants.py
part docs scripts/docs.sh
part lint scripts/lint.sh
part sanity scripts/sanity.sh
part molecule scripts/molecule.sh

echo
echo "make test summary:"
for i in "${!names[@]}"; do printf '  %-12s %-20s %5s s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"; done
ok=0; for r in "${results[@]}"; do [ "$r" = ok ] && ok=$((ok + 1)); done
echo "parts: $ok passed, $(( ${#results[@]} - ok )) failed"
exit $fail
