#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# make run: the main job against the lab. LAB_FAULTS=a,b injects lab faults (mutants, docs/MUTANTS.md);
# LAB_PROFILE=box-like runs the lab at a box's settings (lab/profiles.py); LAB_KEEP=1 keeps the lab
# up afterwards; LAB_STATE (default .lab) is the lab's state dir; EXTRA passes more ansible-playbook
# arguments. Exit status is the playbook's: non-zero when a check failed.
#
# Runs never harm each other: one `make run` per lab at a time (a flock on <lab state>/.make-run.lock;
# a second one is refused before it touches anything), and the safety net below stops only a lab
# that this run started.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
state=$(realpath -m "${LAB_STATE:-.lab}")
profile=$("$PY" -m lab.profiles "${LAB_PROFILE:-default}") || exit 2
report_dir=$(realpath -m "${REPORT_DIR:-out}")

# An unknown fault name stops here, before the lab or the report dir is touched: whatever report
# is in the report dir is an earlier run's, and this script does not point at it.
if ! CCCI_LAB_FAULTS=${LAB_FAULTS:-} "$PY" -m lab.faults >/dev/null; then
  echo "make run: refused before the playbook ran (LAB_FAULTS=${LAB_FAULTS:-}): nothing was run, and $report_dir holds no report of this run" >&2
  exit 2
fi
faults=$("$PY" -c 'import json,sys; from lab.faults import parse; print(json.dumps(parse(sys.argv[1])))' "${LAB_FAULTS:-}")

mkdir -p "$state"
exec 9>>"$state/.make-run.lock"
if ! flock -n 9; then
  echo "make run: refused: another make run (pid $(cat "$state/.make-run.lock" 2>/dev/null || echo '?')) is using the lab $state; its lab is left alone" >&2
  exit 3
fi
echo $$ >"$state/.make-run.lock"

# A lab that is up before this run is someone else's (a kept lab, make lab-up): never stopped here.
lab_was_up=0
"$PY" -m lab status --state "$state" >/dev/null 2>&1 9>&- && lab_was_up=1
keep=false; [ "${LAB_KEEP:-0}" = 1 ] && keep=true
started=$(date +%s)
# shellcheck disable=SC2086
"${VENV:-.venv}/bin/ansible-playbook" playbooks/verify-phase5.yml \
  -e "$profile" -e "{\"ccci_lab_faults\": $faults, \"ccci_report_dir\": \"$report_dir\", \"ccci_lab_state\": \"$state\", \"ccci_lab_keep\": $keep}" ${EXTRA:-} 9>&-  # the lock is this script's, not the lab's: a kept lab must not hold it
rc=$?
# The playbook stops the lab itself (unless kept); this is the safety net for a run that died
# before its `always`, and it only ever stops the lab this run started.
if [ "$keep" = false ] && [ $lab_was_up = 0 ]; then
  "$PY" -m lab down --state "$state" >/dev/null 2>&1 9>&- || true
fi
echo "make run${LAB_PROFILE:+ (LAB_PROFILE=$LAB_PROFILE)}: $(( $(date +%s) - started )) s, exit $rc; report: $report_dir/REVIEW-5.md"
exit $rc
