# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""completion_cron against a tabfile: idempotence, byte-identical other lines, anchors, secrets."""
from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry
from ansible_collections.coopcloud.cc_ci.plugins.modules import completion_cron

ME = pwd.getpwuid(os.getuid()).pw_name
OTHER = "# m h dom mon dow command\nMAILTO=ops@example.org\n*/5  *  * * *   /usr/local/bin/poll  # keep my spacing\n\n@reboot echo hi\n"


def run(args: dict, capsys, check: bool = False, diff: bool = False) -> dict:
    if check:
        args = dict(args, _ansible_check_mode=True)
    if diff:
        args = dict(args, _ansible_diff=True)
    with patch_module_args(args), pytest.raises(SystemExit):
        completion_cron.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def box(tmp_path: Path) -> dict:
    envfile = tmp_path / "loops.env"
    envfile.write_text("GITEA_TOKEN=tok-very-secret-123\nMIRROR_ORG=recipe-maintainers\n")
    unit = tmp_path / "cc-ci-loops.service"
    unit.write_text(f"""[Unit]
Description=loops
[Service]
User={ME}
WorkingDirectory={tmp_path}/srv
Environment="PATH=/opt/claude/bin:/usr/bin:/bin" "HOME={tmp_path}/home"
Environment=TMUX_TMPDIR={tmp_path}/tmux 'NOTE=two words'
EnvironmentFile=-{envfile}
ExecStart=/bin/true
""")
    tab = tmp_path / "crontab"
    tab.write_text(OTHER)
    return {"loops_unit": str(unit), "launcher": f"{tmp_path}/srv/cc-ci-plan/launch-upgrader.sh",
            "root": f"{tmp_path}/srv", "tabfile": str(tab), "state_file": str(tmp_path / "state.json"),
            "timezone": "America/New_York", "offset": 3600}


def test_install_then_idempotent(box, capsys):
    tab = Path(box["tabfile"])
    first = run(box, capsys, diff=True)
    assert first["changed"] is True
    text = tab.read_text()
    assert text.startswith(OTHER)  # other lines byte for byte, in place
    block = text[len(OTHER):].splitlines()
    assert block[0].startswith("# BEGIN ccci-upgrade-all") and block[-1] == "# END ccci-upgrade-all"
    # the unit's EnvironmentFile is the job's to read at each fire: its token is not copied into the crontab
    assert block[1:6] == ["SHELL=/bin/sh", "PATH=/opt/claude/bin:/usr/bin:/bin", f"HOME={Path(box['root']).parent}/home",
                          f"TMUX_TMPDIR={Path(box['root']).parent}/tmux", 'NOTE=two words']
    assert "tok-very-secret-123" not in text and "MIRROR_ORG" not in "\n".join(block[1:-2])
    envfile = f"{Path(box['root']).parent}/loops.env"
    assert f"set -a; . {envfile}; set +a; {box['launcher']} start" in block[-2]
    assert first["sourced"] == [{"path": envfile, "names": ["GITEA_TOKEN", "MIRROR_ORG"]}]
    assert first["schedule"] == block[-2].split(" launch")[0][:len(first["schedule"])]
    assert first["anchor"]["t0"].endswith(("-05:00", "-04:00")) and first["anchor"]["source"] == "computed"
    assert f"{box['launcher']} start" in first["line"]
    assert "# ccci-upgrade-all anchor=" + first["anchor"]["t0"] in first["line"]
    assert len(first["next_fires"]) == 3 and first["next_fires"][0] == first["anchor"]["t0"]
    # secrets never leave the module
    out = json.dumps(first)
    assert "tok-very-secret-123" not in out
    assert "GITEA_TOKEN" not in first["env"]
    state = json.loads(Path(box["state_file"]).read_text())
    assert state["anchor"] == first["anchor"]["t0"] and state["schedule"] == first["schedule"]

    before = tab.read_bytes()
    again = run(dict(box, completion="2030-01-01T00:00:00Z"), capsys)
    assert again["changed"] is False
    assert again["anchor"]["t0"] == first["anchor"]["t0"] and again["anchor"]["source"] == "marker"
    assert tab.read_bytes() == before


def test_a_file_the_job_cannot_source_keeps_its_values_in_the_crontab_masked(box, capsys):
    """sh would read a $ or a double quote otherwise than systemd: the values are written (masked in the output)
    and a note says why."""
    envfile = Path(box["root"]).parent / "loops.env"
    envfile.write_text('GITEA_TOKEN=tok-very-secret-123\nGREETING="hello $USER"\n')
    first = run(box, capsys, diff=True)
    assert "GITEA_TOKEN=tok-very-secret-123" in Path(box["tabfile"]).read_text() and "set -a" not in first["line"]
    assert first["env"]["GITEA_TOKEN"] == "********" and "GITEA_TOKEN=********" in first["diff"]["after"]
    assert first["sourced"] == [] and any("sh would read otherwise than systemd" in n for n in first["notes"])
    assert "tok-very-secret-123" not in json.dumps(first)


def test_check_mode_writes_nothing(box, capsys):
    tab = Path(box["tabfile"])
    res = run(box, capsys, check=True, diff=True)
    assert res["changed"] is True
    assert tab.read_text() == OTHER and not Path(box["state_file"]).exists()
    assert "ccci-upgrade-all anchor=" in res["diff"]["after"] and "ccci-upgrade-all" not in res["diff"]["before"]


def test_reanchor_and_state_file_anchor(box, capsys):
    first = run(dict(box, completion="2099-01-05T10:00:00Z"), capsys)
    assert first["anchor"]["t0"] == "2099-01-05T06:00:00-05:00" and first["schedule"] == "0 6 * * 1"
    moved = run(dict(box, completion="2099-01-07T10:00:00Z", reanchor=True), capsys)
    assert moved["changed"] is True and moved["schedule"] == "0 6 * * 3"
    # the marker lost (hand-deleted entry): the state file's anchor is used while it is ahead
    Path(box["tabfile"]).write_text(OTHER)
    back = run(dict(box, completion="2099-02-01T00:00:00Z"), capsys)
    assert back["anchor"]["source"] == "state_file" and back["schedule"] == "0 6 * * 3"


def test_never_duplicates_and_replaces_in_place(box, capsys):
    tab = Path(box["tabfile"])
    run(box, capsys)
    installed = tab.read_text()
    job = [ln for ln in installed.splitlines() if "# ccci-upgrade-all anchor=" in ln][0]
    tab.write_text(installed + "PATH=/x\n" + job + "\n0 1 * * * after\n")  # a stray copy
    res = run(box, capsys)
    text = tab.read_text()
    assert res["changed"] is True
    assert sum("# ccci-upgrade-all anchor=" in ln for ln in text.splitlines()) == 1
    assert text.endswith("# END ccci-upgrade-all\nPATH=/x\n0 1 * * * after\n")  # not ours: left as it was


def test_env_from_unit_changes_entry(box, capsys):
    run(box, capsys)
    unit = Path(box["loops_unit"])
    unit.write_text(unit.read_text().replace("'NOTE=two words'", "'NOTE=three words here'"))
    res = run(box, capsys)
    assert res["changed"] is True and res["anchor"]["source"] == "marker"
    assert 'NOTE=three words here' in Path(box["tabfile"]).read_text()


def test_extra_env_exclude_and_quoting(box, capsys):
    res = run(dict(box, extra_env={"CCCI_LAB_STATE": "/lab", "PAD": " x"}, env_exclude=["NOTE"]), capsys)
    text = Path(box["tabfile"]).read_text()
    assert "CCCI_LAB_STATE=/lab" in text and 'PAD=" x"' in text and "NOTE=" not in text
    env, command = cron_entry.effective_env(text, ME)
    assert env["PAD"] == " x" and env["MAILTO"] == "ops@example.org" and env["SHELL"] == "/bin/sh"
    assert command.endswith(">> " + res["log"] + " 2>&1")


def test_absent_restores_original(box, capsys):
    run(box, capsys)
    res = run(dict(box, state="absent"), capsys)
    assert res["changed"] is True
    assert Path(box["tabfile"]).read_text() == OTHER
    assert not Path(box["state_file"]).exists()
    assert run(dict(box, state="absent"), capsys)["changed"] is False


def test_missing_unit_is_a_clear_error(box, capsys, tmp_path):
    res = run(dict(box, loops_unit=str(tmp_path / "gone.service")), capsys)
    assert res["failed"] is True
    assert "gone.service does not exist" in res["msg"] and "ccci_loops_unit" in res["msg"]
    assert Path(box["tabfile"]).read_text() == OTHER


def test_bad_timezone(box, capsys):
    res = run(dict(box, timezone="Mars/Base"), capsys)
    assert res["failed"] is True and "timezone" in res["msg"]


def test_entry_of_another_cc_ci_root_is_not_ours(box, capsys):
    """Re-provisioning keeps an anchor only from an entry that names this box's cc-ci root; another
    root's entry is not ours: left as it is."""
    foreign = ("# BEGIN ccci-upgrade-all (managed)\n"
               "0 6 * * 1 /old/cc-ci/cc-ci-plan/launch-upgrader.sh start # ccci-upgrade-all anchor=2099-01-05T06:00:00-05:00\n"
               "# END ccci-upgrade-all\n")
    Path(box["tabfile"]).write_text(OTHER + foreign)
    res = run(dict(box, completion="2099-03-01T10:00:00Z"), capsys)
    assert res["anchor"]["source"] == "computed" and res["anchor"]["t0"] == "2099-03-01T06:00:00-05:00"
    assert any("another cc-ci root" in n for n in res["notes"])
    text = Path(box["tabfile"]).read_text()
    assert text.startswith(OTHER + foreign) and text.count("# BEGIN ccci-upgrade-all") == 2
    again = run(box, capsys)
    assert again["changed"] is False and again["anchor"]["t0"] == res["anchor"]["t0"]
    run(dict(box, state="absent"), capsys)
    assert Path(box["tabfile"]).read_text() == OTHER + foreign


@pytest.mark.parametrize("offset", [0, -3600])
def test_non_positive_offset_is_refused(box, capsys, offset):
    res = run(dict(box, offset=offset), capsys)
    assert res["failed"] is True and "offset must be a positive number of seconds" in res["msg"]
    assert "ccci_cron_offset" in res["msg"] and Path(box["tabfile"]).read_text() == OTHER


def test_value_cron_cannot_carry_is_refused_naming_the_variable(box, capsys):
    res = run(dict(box, extra_env={"WEIRD": "'both\" quotes"}), capsys)
    assert res["failed"] is True and "value of WEIRD" in res["msg"] and "both quote characters" in res["msg"]
    assert Path(box["tabfile"]).read_text() == OTHER


def test_quote_leading_value_is_written_so_cron_reads_it_back(box, capsys):
    run(dict(box, extra_env={"Q": '"quoted start', "S": "'single start"}), capsys)
    env, _command = cron_entry.effective_env(Path(box["tabfile"]).read_text(), ME)
    assert env["Q"] == '"quoted start' and env["S"] == "'single start"


def test_damaged_markers_repaired_with_a_note(box, capsys):
    run(box, capsys)
    tab = Path(box["tabfile"])
    damaged = tab.read_text().replace("# END ccci-upgrade-all\n", "") + "USER_AFTER=1\n"
    tab.write_text(damaged)
    res = run(box, capsys)
    assert res["changed"] is True and any("had no END marker" in n for n in res["notes"])
    text = tab.read_text()
    assert text.startswith(OTHER) and text.endswith("# END ccci-upgrade-all\nUSER_AFTER=1\n")


def test_fall_back_anchor_and_its_note_are_kept_for_later_runs(box, capsys):
    """The second 01:10 of 2027-11-07 in New York: T0 moves to 02:00 EST; a later run returns the same
    notes (DECISIONS.md rests on them, so a second run rewrites nothing)."""
    first = run(dict(box, completion="2027-11-07T05:10:00Z"), capsys)
    assert first["anchor"]["t0"] == "2027-11-07T02:00:00-05:00" and first["schedule"] == "0 2 * * 0"
    assert "happens twice" in first["anchor"]["calendar_note"]
    again = run(box, capsys)
    assert again["changed"] is False and again["anchor"]["source"] == "marker"
    assert again["anchor"]["calendar_note"] == first["anchor"]["calendar_note"]
    assert again["anchor"]["notes"] == first["anchor"]["notes"] and again["anchor"]["passed"] is False
