# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""CRON's claims over what roles/completion_cron gathered: a healthy install holds every claim, and each
lie (a crontab rewritten after the install, a pre-check or a fire that failed, a stale doc) fails its own
predicate with words naming it."""
from __future__ import annotations

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import cron

ROOT = "/srv/cc-ci"
T0 = "2026-11-30T14:05:00+00:00"
ENV = {"SHELL": "/bin/sh", "PATH": "/srv/cc-ci/bin:/usr/bin:/bin", "HOME": "/home/cc-ci", "GITEA_TOKEN": "********"}
COMMAND = cron_entry.job_command(f"{ROOT}/cc-ci-plan/launch-upgrader.sh", "start", f"{ROOT}/.cc-ci-logs/upgrades/cron.log")
MARKER = f"ccci-upgrade-all anchor={T0}"


def crontab(schedule: str = "5 14 * * 1", env: dict | None = None, extra: tuple[str, ...] = ()) -> str:
    block = cron_entry.block_lines(ENV if env is None else env, schedule, COMMAND, MARKER)
    return "\n".join(["MAILTO=ops@example.org", "0 1 * * * /usr/bin/backup", *block, *extra]) + "\n"


def healthy(**over):
    inputs = {
        "entry": {"schedule": "5 14 * * 1", "crontab": "crontab of cc-ci", "env": dict(ENV), "user": "cc-ci",
                  "anchor": {"t0": T0, "tz": "UTC", "source": "computed", "moved": False}},
        "completion": "2026-11-30T13:04:20+00:00",
        "offset": 3600,
        "root": ROOT,
        "again": {"changed": False, "crontab": crontab()},
        "precheck": {"enabled": True, "result": {"passed": True, "diagnosis": ""}},
        "fire": {"enabled": True, "result": {"passed": True, "diagnosis": "", "fired_at": T0, "gap_seconds": 0.4}},
        "docs": {"remaining": [], "paths": [f"{ROOT}/.claude/skills/upgrade-all/SKILL.md"]},
    }
    inputs.update(over)
    return inputs


def failing(inputs) -> dict[str, str]:
    return {p.name: p.diagnosis for p in cron.evaluate(inputs) if not p.ok}


def test_healthy_install_holds_and_nothing_read_fails_every_claim():
    assert failing(healthy()) == {}
    assert len(failing({})) == len(cron.evaluate({}))


def test_an_entry_rewritten_an_hour_later_fires_an_hour_late():
    bad = failing(healthy(again={"changed": True, "crontab": crontab("5 15 * * 1")}))
    assert "holds the job at '5 15 * * 1' but T0 2026-11-30T14:05:00+00:00 is '5 14 * * 1'" \
        in bad["CRON.fires_at_completion_plus_offset"]
    assert "fires 60 min late" in bad["CRON.fires_at_completion_plus_offset"]
    assert "installing again would change the crontab" in bad["CRON.idempotent"]
    assert set(bad) == {"CRON.fires_at_completion_plus_offset", "CRON.idempotent"}


def test_a_t0_not_an_offset_after_completion_is_named():
    bad = failing(healthy(completion="2026-11-30T10:00:00+00:00"))
    assert "is 14700 s after completion" in bad["CRON.fires_at_completion_plus_offset"]
    # an anchor kept from an earlier install answers to that install's completion, not this run's
    kept = healthy(completion="2026-11-30T10:00:00+00:00")
    kept["entry"]["anchor"]["source"] = "marker"
    assert failing(kept) == {}


def test_variable_lines_dropped_from_the_crontab_are_named():
    bad = failing(healthy(again={"changed": True, "crontab": crontab(env={"SHELL": "/bin/sh"})}))
    assert "no longer gives the job GITEA_TOKEN, HOME, PATH as cc-ci-loops.service does" \
        in bad["CRON.environment_from_unit"]
    assert "CRON.fires_at_completion_plus_offset" not in bad


def test_a_second_job_line_is_more_than_one_entry():
    stale = COMMAND + " # ccci-upgrade-all anchor=2026-11-23T09:00:00+00:00"
    bad = failing(healthy(again={"changed": True, "crontab": crontab(extra=(f"0 9 * * 1 {stale}",))}))
    assert "holds 2 ccci-upgrade-all job lines for this root, not one" in bad["CRON.one_entry"]
    assert "fires more than once a week" in bad["CRON.one_entry"]


def test_another_roots_entry_is_not_ours():
    other = COMMAND.replace(ROOT, "/srv/other") + " # ccci-upgrade-all anchor=2026-11-23T09:00:00+00:00"
    assert failing(healthy(again={"changed": False, "crontab": crontab(extra=(f"0 9 * * 1 {other}",))})) == {}


def test_an_entry_gone_from_the_crontab_is_named():
    bad = failing(healthy(again={"changed": True, "crontab": "MAILTO=ops@example.org\n"}))
    assert "holds 0 ccci-upgrade-all job lines" in bad["CRON.one_entry"]
    assert "something removed it, so it never fires" in bad["CRON.one_entry"]


@pytest.mark.parametrize(("step", "result", "claims"), [
    ("precheck", {"passed": False, "diagnosis": "cron environment lacks the agent command claude (PATH=/usr/bin:/bin)"},
     {"CRON.precheck_as_cron"}),
    ("fire", {"passed": False, "diagnosis": "no cron daemon is running", "fired_at": None, "gap_seconds": None},
     {"CRON.first_fire_in_t0_minute", "CRON.first_fire_ran_upgrade_all"}),
    ("fire", {"passed": False, "diagnosis": "it started no run of /upgrade-all", "fired_at": T0, "gap_seconds": 0.2},
     {"CRON.first_fire_ran_upgrade_all"}),
    ("fire", {"skipped": True}, {"CRON.first_fire_in_t0_minute", "CRON.first_fire_ran_upgrade_all"}),
])
def test_a_failed_step_fails_its_own_claims_with_its_diagnosis(step, result, claims):
    bad = failing(healthy(**{step: {"enabled": True, "result": result}}))
    assert set(bad) == claims
    for claim in claims:
        assert (result.get("diagnosis") or "not watched (the pre-check failed)") in bad[claim]


def test_a_step_switched_off_holds():
    off = healthy(precheck={"enabled": False, "result": {"skipped": True}}, fire={"enabled": False, "result": {}})
    assert failing(off) == {}


def test_the_placeholder_left_in_a_doc_is_quoted():
    bad = failing(healthy(docs={"remaining": [{"line": 3, "text": "runs every Sat 03:00 UTC"}], "paths": ["SKILL.md"]}))
    assert bad == {"CRON.docs_state_the_schedule":
                   "the superseded placeholder schedule is still stated in runs every Sat 03:00 UTC (SKILL.md)"}
