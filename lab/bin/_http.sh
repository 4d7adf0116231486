# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Sourced by the lab's helper scripts (testme-on-pr.sh, verify-pr.sh): their one reader of the lab's
# lab.json, HTTP call and JSON getter. The caller sets $PY (a python3), die() and, before http, $TMP
# (a private directory).

# lab_json <python expr over d>: empty when there is no lab ($CCCI_LAB_STATE/lab.json)
lab_json() {
  local f="${CCCI_LAB_STATE:-}/lab.json"
  [ -n "${CCCI_LAB_STATE:-}" ] && [ -r "$f" ] || return 0
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(",".join(v) if isinstance(v, list) else (v or ""))' "$f" "$1" 2>/dev/null
}

# http AUTHFILE METHOD URL [JSON] -> body on stdout; dies on a transport error or HTTP >= 400.
http() {
  local auth=$1 method=$2 url=$3 data=${4:-} code msg
  local args=(-sS -X "$method" -H @"$auth" -H 'Accept: application/json' -o "$TMP/body" -w '%{http_code}' --max-time 30)
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  code=$(curl "${args[@]}" "$url" 2>"$TMP/err") || die "$method $url: $(head -c 300 "$TMP/err" | tr '\n' ' ')"
  if [ "$code" -ge 400 ]; then
    msg=$("$PY" -c 'import json,sys
try: print(json.load(open(sys.argv[1])).get("message", ""))
except Exception: print(open(sys.argv[1], errors="replace").read()[:200])' "$TMP/body" 2>/dev/null | tr '\n' ' ')
    die "$method $url: HTTP $code: ${msg:-no message}"
  fi
  cat "$TMP/body"
}

# jq-like: jget '<python expr over d>' < json
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print("" if v is None else v)' "$1"; }
