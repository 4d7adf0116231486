# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m lab.gitea merge-upstream ...`` (see lab/gitea/maintainer.py)."""
import sys

from lab.gitea.maintainer import main

sys.exit(main())
