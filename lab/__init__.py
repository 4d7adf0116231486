# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab: a faithful stand-in of a cc-ci box on 127.0.0.1 (see docs/ARCHITECTURE.md).

Nothing under plugins/ imports this package: the collection only ever sees URLs, tokens and paths.
"""
