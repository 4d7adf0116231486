# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""testinfra: the crontab entry, its variable lines, the state file, the docs blocks."""
import json
import re

DIR = "/tmp/ccci-molecule-cron"
ROOT = f"{DIR}/srv/cc-ci"


def test_one_entry_with_schedule_and_marker(host):
    tab = host.check_output("crontab -u root -l")
    jobs = [ln for ln in tab.splitlines() if "# ccci-upgrade-all anchor=" in ln and f"{ROOT}/" in ln]
    assert len(jobs) == 1  # ours; another cc-ci root's entry (a lab run beside this one) is not
    m = re.match(r"^(\d+) (\d+) \* \* ([0-6]) .*launch-upgrader\.sh start; .*>> (\S+) 2>&1 # ccci-upgrade-all anchor=(\S+)$",
                 jobs[0])
    assert m, jobs[0]
    assert m.group(4) == f"{ROOT}/.cc-ci-logs/upgrades/cron.log"
    assert m.group(5).endswith(("-05:00", "-04:00"))  # New York, as the daemon's zone was given


def test_variable_lines_mirror_the_unit(host):
    tab = host.check_output("crontab -u root -l").splitlines()
    job = next(i for i, ln in enumerate(tab) if "# ccci-upgrade-all anchor=" in ln and f"{ROOT}/" in ln)
    begin = max(i for i, ln in enumerate(tab[:job]) if ln.startswith("# BEGIN ccci-upgrade-all"))
    block = tab[begin + 1:job]
    assert block == ["SHELL=/bin/sh", "PATH=/opt/claude/bin:/usr/local/bin:/usr/bin:/bin", f"HOME={DIR}/home",
                     f"TMUX_TMPDIR={DIR}/tmux", "NOTE=two words"]
    # the unit's EnvironmentFile is sourced by the job at each fire: its token never enters the crontab
    assert f"set -a; . {DIR}/loops.env; set +a; " in tab[job]
    assert "molecule-secret-token" not in "\n".join(tab) and "GITEA_TOKEN" not in "\n".join(tab)


def test_state_file_keeps_the_anchor(host):
    state = json.loads(host.file(f"{ROOT}/.cc-ci-logs/upgrades/ccci-cron.json").content_string)
    tab = host.check_output("crontab -u root -l")
    assert f"# ccci-upgrade-all anchor={state['anchor']}" in tab
    assert state["tz"] == "America/New_York" and state["user"] == "root"
    assert tab.count(state["schedule"] + " ") >= 1


def test_docs_updated_in_place_and_no_secret(host):
    skill = host.file(f"{ROOT}/.claude/skills/upgrade-all/SKILL.md").content_string
    state = json.loads(host.file(f"{ROOT}/.cc-ci-logs/upgrades/ccci-cron.json").content_string)
    assert skill.startswith("---\nname: upgrade-all\n")  # the rest of the skill as it was
    assert skill.count("## Cron") == 1 and "Sat 03:00 UTC" not in skill and "<!-- BEGIN" not in skill
    assert f"`{state['schedule']}`" in skill and state["anchor"] in skill
    decisions = host.file(f"{DIR}/out/DECISIONS.md").content_string
    assert f"{DIR}/loops.env" in decisions and "molecule-secret-token" not in decisions
    note = host.file(f"{DIR}/memory/cc-ci-upgrade-all-cron.md").content_string
    assert note.startswith("---\nname: cc-ci-upgrade-all-cron\n") and note.count("## Schedule") == 1
    assert "Sat 03:00 UTC" not in note and f"`{state['schedule']}`" in note
