#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# verify-pr.sh <recipe> <recipe-pr#> <cc-ci-branch> — the branch-checkout harness run: a custom Drone
# build on the cc-ci repo that tests the recipe PR's head with the tests of <cc-ci-branch>
# (`!testme` always uses cc-ci main's tests; this is how a test update is verified before review).
#
# Env: DRONE_URL, DRONE_TOKEN, CI_REPO (default recipe-maintainers/cc-ci), GITEA_URL, GITEA_TOKEN,
#      MIRROR_ORG (default recipe-maintainers), MAX_WAIT (default 1800), INTERVAL (default 5);
#      unset ones are read from $CCCI_LAB_STATE/lab.json (the lab).
# Output: `VERDICT=GREEN|RED|PENDING` and `BUILD=<build page url>`.
# Exit: 0 GREEN, 1 RED, 2 PENDING (MAX_WAIT passed), 3 usage or API error (one line on stderr).
set -uo pipefail

die() { echo "verify-pr.sh: $*" >&2; exit 3; }
[ $# -eq 3 ] || die "usage: verify-pr.sh <recipe> <recipe-pr#> <cc-ci-branch>"
RECIPE=$1 PR=$2 BRANCH=$3
[[ "$PR" =~ ^[0-9]+$ ]] || die "usage: verify-pr.sh <recipe> <recipe-pr#> <cc-ci-branch> (pr# must be a number)"
[[ "$RECIPE" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad recipe name '$RECIPE'"
[ -n "$BRANCH" ] || die "empty cc-ci branch"
MAX_WAIT=${MAX_WAIT:-1800}
INTERVAL=${INTERVAL:-5}
[[ "$MAX_WAIT" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MAX_WAIT must be a number of seconds"
[[ "$INTERVAL" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "INTERVAL must be a number of seconds"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"
# resolve the interpreter once (a version-manager shim can cost a third of a second a call)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null); [ -x "$PY" ] || PY=python3

# the lab's lab.json reader, HTTP call and JSON getter (lab/bin/_http.sh, beside this script)
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/_http.sh" || die "lab/bin/_http.sh is missing beside $0"
GITEA_URL=${GITEA_URL:-$(lab_json 'd.get("gitea_url")')}
GITEA_TOKEN=${GITEA_TOKEN:-$(lab_json 'd.get("tokens", {}).get("bot")')}
DRONE_URL=${DRONE_URL:-$(lab_json 'd.get("drone_url")')}
DRONE_TOKEN=${DRONE_TOKEN:-$(lab_json 'd.get("tokens", {}).get("drone")')}
MIRROR_ORG=${MIRROR_ORG:-$(lab_json 'd.get("mirror_org")')}
MIRROR_ORG=${MIRROR_ORG:-recipe-maintainers}
CI_REPO=${CI_REPO:-$(lab_json 'd.get("ci_repo")')}
CI_REPO=${CI_REPO:-recipe-maintainers/cc-ci}
for v in GITEA_URL GITEA_TOKEN DRONE_URL DRONE_TOKEN; do
  [ -n "${!v}" ] || die "$v is not set (and no \$CCCI_LAB_STATE/lab.json)"
done
GITEA_URL=${GITEA_URL%/}
DRONE_URL=${DRONE_URL%/}

TMP=$(mktemp -d) || die "mktemp failed"
# As testme-on-pr.sh: a signal ends the script through its EXIT trap, whose clean-up ignores further stops.
trap 'trap "" HUP INT TERM; rm -rf "$TMP"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
umask 077
printf 'Authorization: token %s\n' "$GITEA_TOKEN" >"$TMP/gitea"
printf 'Authorization: Bearer %s\n' "$DRONE_TOKEN" >"$TMP/drone"

# call gitea|drone METHOD URL -> body; dies on a transport error or HTTP >= 400
call() { http "$TMP/$1" "$2" "$3"; }
q() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

PR_JSON=$(call gitea GET "$GITEA_URL/api/v1/repos/$MIRROR_ORG/$RECIPE/pulls/$PR") || exit 3
SHA=$(jget 'd["head"]["sha"]' <<<"$PR_JSON" 2>/dev/null) || die "PR $MIRROR_ORG/$RECIPE#$PR: no head sha"
BRANCH_SHA=$(call gitea GET "$GITEA_URL/api/v1/repos/$CI_REPO/branches/$(q "$BRANCH")" | jget 'd["commit"]["id"]') || exit 3

QS="branch=$(q "$BRANCH")&commit=$BRANCH_SHA&RECIPE=$(q "$RECIPE")&REPO=$(q "$MIRROR_ORG/$RECIPE")&PR=$PR&REF=$SHA&TESTS_REF=$(q "$BRANCH")"
BUILD_JSON=$(call drone POST "$DRONE_URL/api/repos/$CI_REPO/builds?$QS") || exit 3
NUMBER=$(jget 'd["number"]' <<<"$BUILD_JSON" 2>/dev/null) || die "the Drone build answer has no number"
BUILD="$DRONE_URL/$CI_REPO/$NUMBER"

START=$(date +%s.%N)
VERDICT=PENDING
while :; do
  STATUS=$(call drone GET "$DRONE_URL/api/repos/$CI_REPO/builds/$NUMBER" | jget 'd.get("status")') || exit 3
  case "$STATUS" in
    success) VERDICT=GREEN; break ;;
    failure|error|killed|declined) VERDICT=RED; break ;;
  esac
  NAP=$("$PY" -c 'import sys, time
left = float(sys.argv[3]) - (time.time() - float(sys.argv[1]))
print("" if left <= 0 else round(min(float(sys.argv[2]), left), 3))' "$START" "$INTERVAL" "$MAX_WAIT")
  [ -n "$NAP" ] || break
  sleep "$NAP"
done

echo "VERDICT=$VERDICT"
echo "BUILD=$BUILD"
case "$VERDICT" in GREEN) exit 0 ;; RED) exit 1 ;; *) exit 2 ;; esac
