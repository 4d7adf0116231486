# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by sanity.sh and units.sh: ansible-test runs only inside ansible_collections/<ns>/<name>,
# so they work on a copy of the clone's files (tracked and new, not ignored) placed there.
# collection_copy [git pathspec...]: sets $dest to the copy, removed when the script exits.
collection_copy() {
  local tree
  tree=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $tree now: it is local
  trap "rm -rf '$tree'" EXIT
  dest=$tree/ansible_collections/coopcloud/cc_ci
  mkdir -p "$dest"
  git ls-files -co --exclude-standard -z -- . "$@" | xargs -0 cp --parents -t "$dest" 2>/dev/null || true
  # ansible-test judges tracked files only when it sees git; the copy is a plain tree.
  rm -rf "$dest/tests/output"
}
