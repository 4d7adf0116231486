# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Sourced by the lab's scripts: `fault NAME` is true when the lab fault (mutant) NAME is active.
# The rule lives once, in lab/faults.py (CCCI_LAB_FAULTS when set, else lab.json's faults); this
# file asks it once per script run. An unknown name, active or asked about, ends the script with
# the list of known ones. On a real box this file is absent and the scripts run fault-free.
_faults_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
_faults_out=$(PYTHONPATH="$_faults_root${PYTHONPATH:+:$PYTHONPATH}" "${PY:-python3}" -m lab.faults --known) || exit 2
LAB_ACTIVE_FAULTS=${_faults_out%%$'\n'*}
LAB_KNOWN_FAULTS=${_faults_out#*$'\n'}
fault() {
  [[ ",$LAB_KNOWN_FAULTS," == *",$1,"* ]] || { echo "unknown lab fault $1; known: $LAB_KNOWN_FAULTS" >&2; exit 2; }
  [[ ",$LAB_ACTIVE_FAULTS," == *",$1,"* ]]
}
