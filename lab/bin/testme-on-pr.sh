#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# testme-on-pr.sh <recipe> <pr#> — post `!testme` on a recipe mirror PR and read the verdict back
# from the PR (the `cc-ci/testme` commit status the comment bridge sets on the PR head).
#
# Env:
#   POST      1 (default): post exactly one `!testme`, then poll; only a status newer than that
#             comment counts (a previous run's verdict is never returned). 0: poll only.
#   MAX_WAIT  seconds to wait for a final state (default 1800); INTERVAL poll period (default 5).
#   GITEA_URL, GITEA_TOKEN (an org member: the bot), MIRROR_ORG (default recipe-maintainers).
#   When GITEA_URL/GITEA_TOKEN are unset they are read from $CCCI_LAB_STATE/lab.json (the lab).
#   Lab mutants (lab/mutants/helper.py) are read through lab/bin/_faults.sh; a box has none.
# Output: `VERDICT=GREEN|RED|PENDING` and `BUILD=<target_url>` (`BUILD=?` when unknown).
# Exit: 0 GREEN, 1 RED, 2 PENDING, 3 usage or API error (one line on stderr).
set -uo pipefail

die() { echo "testme-on-pr.sh: $*" >&2; exit 3; }

[ $# -eq 2 ] || die "usage: testme-on-pr.sh <recipe> <pr#>"
RECIPE=$1
PR=$2
[[ "$PR" =~ ^[0-9]+$ ]] || die "usage: testme-on-pr.sh <recipe> <pr#> (pr# must be a number, got '$PR')"
[[ "$RECIPE" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad recipe name '$RECIPE'"
POST=${POST:-1}
MAX_WAIT=${MAX_WAIT:-1800}
INTERVAL=${INTERVAL:-5}
[[ "$MAX_WAIT" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MAX_WAIT must be a number of seconds"
[[ "$INTERVAL" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "INTERVAL must be a number of seconds"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"
# resolve the interpreter once (a version-manager shim can cost a third of a second a call)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null); [ -x "$PY" ] || PY=python3

# --- configuration: env first, then the lab's lab.json -------------------------------------------
# the lab's lab.json reader, HTTP call and JSON getter (lab/bin/_http.sh, beside this script)
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/_http.sh" || die "lab/bin/_http.sh is missing beside $0"
GITEA_URL=${GITEA_URL:-$(lab_json 'd.get("gitea_url")')}
GITEA_TOKEN=${GITEA_TOKEN:-$(lab_json 'd.get("tokens", {}).get("bot")')}
MIRROR_ORG=${MIRROR_ORG:-$(lab_json 'd.get("mirror_org")')}
MIRROR_ORG=${MIRROR_ORG:-recipe-maintainers}
# Lab faults (mutants): the lab's _faults.sh defines `fault NAME`; a box has no such file.
_faults_sh="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/_faults.sh"
if [ -r "$_faults_sh" ]; then . "$_faults_sh"; else fault() { false; }; fi
[ -n "$GITEA_URL" ] || die "GITEA_URL is not set (and no \$CCCI_LAB_STATE/lab.json)"
[ -n "$GITEA_TOKEN" ] || die "GITEA_TOKEN is not set (and no \$CCCI_LAB_STATE/lab.json)"
GITEA_URL=${GITEA_URL%/}
API="$GITEA_URL/api/v1"
REPO="$MIRROR_ORG/$RECIPE"

# The token goes to curl through a private header file, never on the command line.
TMP=$(mktemp -d) || die "mktemp failed"
# The clean-up ignores further stops: the group's signal can still reach a child the trap forks (rm).
trap 'trap "" HUP INT TERM; rm -rf "$TMP"' EXIT
# A signal ends the script through its EXIT trap too (bash skips EXIT traps on a fatal signal).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
umask 077
printf 'Authorization: token %s\n' "$GITEA_TOKEN" >"$TMP/auth"

# api METHOD PATH [JSON] -> body on stdout; dies on a transport error or HTTP >= 400.
api() { http "$TMP/auth" "$1" "$API$2" "${3:-}"; }

# --- the PR head ----------------------------------------------------------------------------------
PR_JSON=$(api GET "/repos/$REPO/pulls/$PR") || exit 3
SHA=$(jget 'd["head"]["sha"]' <<<"$PR_JSON" 2>/dev/null) || die "GET $API/repos/$REPO/pulls/$PR: no head.sha in the answer"
[ -n "$SHA" ] || die "PR $REPO#$PR has no head sha"

# latest cc-ci/testme status on the head -> "id<TAB>state<TAB>time<TAB>target_url" (empty when none)
latest_status() {
  local body
  body=$(api GET "/repos/$REPO/commits/$SHA/status") || exit 3
  "$PY" -c '
import json, sys
d = json.load(sys.stdin)
best = None
for s in d.get("statuses") or []:
    if s.get("context") != "cc-ci/testme":
        continue
    key = (s.get("updated_at") or s.get("created_at") or "", s.get("id") or 0)
    if best is None or key >= best[0]:
        best = (key, s)
if best:
    s = best[1]
    state = s.get("status") or s.get("state") or ""
    print("\t".join([str(s.get("id") or ""), state, best[0][0], s.get("target_url") or ""]))
' <<<"$body"
}

# seconds since the epoch of an RFC 3339 timestamp (0 when unparsable)
epoch() {
  "$PY" -c '
import sys
from datetime import datetime
try: print(datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp())
except Exception: print(0)' "$1"
}

# Lab mutants only: the link in the PR's first bridge comment; a per-PR verdict cache (not per head).
first_run_link() {
  api GET "/repos/$REPO/issues/$PR/comments" | "$PY" -c '
import json, re, sys
for c in json.load(sys.stdin):
    m = re.search(r"(https?://\S+/\d+)", c.get("body") or "")
    if m and "cc-ci" in (c.get("body") or ""):
        print(m.group(1)); break
else:
    print("?")'
}
CACHE="${CCCI_LAB_STATE:-${TMPDIR:-/tmp}}/helper-verdicts-${REPO//\//_}-$PR"

# --- post -----------------------------------------------------------------------------------------
PRE_ID=""
POSTED_AT=""
do_post=0
[ "$POST" = "1" ] && do_post=1
[ "$POST" != "1" ] && fault helper-posts-when-polling && do_post=1
if [ "$do_post" = 1 ]; then
  PRE=$(latest_status) || exit 3
  PRE_ID=$(cut -f1 <<<"$PRE")
  C=$(api POST "/repos/$REPO/issues/$PR/comments" '{"body": "!testme"}') || exit 3
  POSTED_AT=$(jget 'd.get("created_at")' <<<"$C")
  if fault helper-posts-twice; then
    api POST "/repos/$REPO/issues/$PR/comments" '{"body": "!testme"}' >/dev/null || exit 3
  fi
fi
[ "$POST" = "1" ] || POSTED_AT=""   # POST=0: any status on the head counts
POSTED_EPOCH=0
[ -n "$POSTED_AT" ] && POSTED_EPOCH=$(epoch "$POSTED_AT")

# mutant: a final status already on the head before the comment is taken as this run's result
if [ "$POST" = "1" ] && fault helper-returns-earlier-result; then
  IFS=$'\t' read -r _ PSTATE _ PURL <<<"${PRE:-}"
  case "${PSTATE:-}" in
    success) printf 'VERDICT=GREEN\nBUILD=%s\n' "${PURL:-?}"; exit 0 ;;
    failure|error) printf 'VERDICT=RED\nBUILD=%s\n' "${PURL:-?}"; exit 1 ;;
  esac
fi

# --- poll -----------------------------------------------------------------------------------------
START=$(date +%s.%N)  # epoch seconds
VERDICT=PENDING
BUILD="?"
while :; do
  CUR=$(latest_status) || exit 3
  if [ -n "$CUR" ]; then
    IFS=$'\t' read -r SID SSTATE STIME SURL <<<"$CUR"
    counts=1
    if [ "$POST" = "1" ]; then
      # a status counts only when it is not the one seen before the comment and not older than it
      if [ -n "$SID" ] && [ "$SID" = "$PRE_ID" ]; then counts=0; fi
      if "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) + 0.999 < float(sys.argv[2]) else 1)' "$(epoch "$STIME")" "$POSTED_EPOCH"; then counts=0; fi
    fi
    if [ "$counts" = 1 ]; then
      [ -n "$SURL" ] && BUILD=$SURL
      fault helper-build-from-first-comment && BUILD=$(first_run_link)
      case "$SSTATE" in
        success) VERDICT=GREEN; break ;;
        failure|error) VERDICT=RED; break ;;
        pending) if fault helper-green-on-pending; then VERDICT=GREEN; break; fi ;;
      esac
    fi
  elif [ "$POST" != "1" ] && fault helper-carries-verdict-across-heads && [ -r "$CACHE" ]; then
    IFS=$'\t' read -r VERDICT BUILD <"$CACHE"; break
  fi
  # sleep min(INTERVAL, time left); stop once MAX_WAIT has passed
  NAP=$("$PY" -c 'import sys, time
left = float(sys.argv[3]) - (time.time() - float(sys.argv[1]))
print("" if left <= 0 else round(min(float(sys.argv[2]), left), 3))' "$START" "$INTERVAL" "$MAX_WAIT")
  [ -n "$NAP" ] || break
  sleep "$NAP"
done

fault helper-carries-verdict-across-heads && [ "$VERDICT" != PENDING ] && printf '%s\t%s\n' "$VERDICT" "$BUILD" >"$CACHE"
echo "VERDICT=$VERDICT"
echo "BUILD=$BUILD"
fault helper-exits-zero && exit 0
case "$VERDICT" in
  GREEN) exit 0 ;;
  RED) exit 1 ;;
  *) exit 2 ;;
esac
