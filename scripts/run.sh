#!/usr/bin/env bash
# make run: the main job against the lab. LAB_FAULTS=a,b injects lab faults; EXTRA passes more
# ansible-playbook arguments. Exit status is the playbook's: non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
faults=$("$PY" -c 'import json,sys; print(json.dumps([f for f in sys.argv[1].split(",") if f]))' "${LAB_FAULTS:-}")
report_dir=$(realpath -m "${REPORT_DIR:-out}")
started=$(date +%s)
# shellcheck disable=SC2086
"${VENV:-.venv}/bin/ansible-playbook" playbooks/verify-phase5.yml \
  -e "{\"ccci_lab_faults\": $faults, \"ccci_report_dir\": \"$report_dir\"}" ${EXTRA:-}
rc=$?
# The playbook stops the lab itself; this is the safety net for a run that died before its always.
[ "${LAB_KEEP:-0}" = 1 ] || "$PY" -m lab down --state .lab >/dev/null 2>&1 || true
echo "make run: $(( $(date +%s) - started )) s, exit $rc; report: $report_dir/REVIEW-5.md"
exit $rc
