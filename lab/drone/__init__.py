# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's Drone: REST API (FACTS §3), build page and the cc-ci harness run as builds."""
from lab.drone.server import DroneService

__all__ = ["DroneService"]
