#!/usr/bin/env bash
# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what `make run` / `make test` need on a fresh machine: system tools (git, tmux, cron, chromium,
# openssh-server) with apt-get when root, then .venv from requirements.txt. Says what to install when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

need=()
for tool in git tmux; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
command -v cron >/dev/null 2>&1 || need+=(cron)
# libfaketime: the real-daemon DST tests run Debian's cron on a sped-up clock (tests/integration/test_cron_daemon.py)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
# headless Chromium renders report.html in the render test (tests/integration/test_progress_and_render.py)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Debian's sshd: `python -m lab up --box` serves the lab-as-box over SSH on 127.0.0.1 (tests/integration/test_box_ssh.py)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${need[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    for tool in "${need[@]}"; do
      case $tool in
        cron) echo "bootstrap: note: no cron daemon; the CRON check will report SKIP (install Debian's 'cron' as root to run it)";;
        faketime) echo "bootstrap: note: no faketime; the real-daemon DST tests will skip (install Debian's 'faketime')";;
        openssh-server) echo "bootstrap: note: no sshd; the box-over-SSH test will skip (install Debian's 'openssh-server' as root)";;
        chromium) echo "bootstrap: note: no chromium; the report render test will skip (install Debian's 'chromium' as root)";;
        *) echo "bootstrap: '$tool' is missing: install it (e.g. 'sudo apt-get install $tool') and re-run make" >&2; exit 1;;
      esac
    done
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || { echo "bootstrap: python3 -m venv failed: install python3-venv" >&2; exit 1; }
fi
stamp="$VENV/.requirements.sha"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

# The repo is the collection: link it where ansible.cfg's collections_path looks.
mkdir -p .collections/ansible_collections/coopcloud
ln -sfn ../../.. .collections/ansible_collections/coopcloud/cc_ci
