# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# Versions of the swarm configs: bump one when its file changes so `abra app deploy` rolls it.
export NGINX_CONF_VERSION=v1

reload_nginx() {
  nginx -s reload
}
