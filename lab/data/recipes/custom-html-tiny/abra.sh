# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# Commands for `abra app cmd <domain> app <command>`; static-web-server has no shell, so these run
# against the volume from a throwaway helper container.

index_present() {
  test -f /public/index.html && echo "index.html present" || echo "index.html missing"
}
