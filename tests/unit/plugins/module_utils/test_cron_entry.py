# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cron_entry: variable lines cron reads back as written, and the block spliced in with damaged markers
repaired and every other line left as it was. (The real `crontab` and daemon read the same values in
tests/integration/test_cron_daemon.py.)"""
from __future__ import annotations

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import cron_entry as ce

NASTY = ["plain", "'quote-leading", '"dq-leading', "both 'single' and more", "with % percent %h",
         "hash # not a comment", "a=b=c", " leading blank", "", "ends with quote'",
         "'", '"', "tab\tinside", "/usr/local/bin:/usr/bin:/bin"]


@pytest.mark.parametrize("value", NASTY)
def test_render_var_reads_back_as_written(value):
    line = ce.render_var("V", value)
    assert ce.parse_var_line(line) == ("V", value), line


def test_render_var_refuses_what_cron_cannot_carry():
    with pytest.raises(ce.CrontabError, match="value of TOKEN_X .*contains both quote characters"):
        ce.render_var("TOKEN_X", "'it\"s")
    with pytest.raises(ce.CrontabError, match="value of PAD ends with a blank, which Debian cron drops"):
        ce.render_var("PAD", "x ")
    for value in ('"fully quoted"', "'single quoted'"):
        with pytest.raises(ce.CrontabError, match="starts and ends with the same quote"):
            ce.render_var("Q", value)
    with pytest.raises(ce.CrontabError, match="value of X contains a newline"):
        ce.render_var("X", "a\nb")
    with pytest.raises(ce.CrontabError, match="variable name 'A-B'"):
        ce.render_var("A-B", "x")


@pytest.mark.parametrize("line,want", [
    ("A=", None), ("A= ", None), ('A=""', ("A", "")), ('A="a"b"', None), ("A='x", None), ('A="x" ', ("A", "x")),
    ("A=a # b", ("A", "a # b")), ('A="x "', ("A", "x")), ('A=" x"', ("A", " x")), (" A = b ", ("A", "b")), ('"A B"=c', ("A B", "c")), ("# A=b", None),
    ("5 4 * * * cmd", None),
    # read back by Debian's cron 3.0pl1-162 (a job printing its environment)
    ('E1="a"', ("E1", "a")), ("E3='\"a\"'", ("E3", "a")), ("E7='\"a\" '", ("E7", "a")), ('E5=a"', ("E5", 'a"')),
    ('E9=x "y"', ("E9", 'x "y"')), ('E11= "q"', ("E11", "q")), ("E13='\"'", ("E13", '"')), ('E10="x" y', None),
    ('E12=""a""', None), ('E15="a ', None),
])
def test_parse_var_line_is_debian_load_env(line, want):
    """The cases checked against Debian's `crontab` (accepted lines read back, rejected ones are None)."""
    assert ce.parse_var_line(line) == want


BLOCK = ["# BEGIN ccci-upgrade-all (managed)", "PATH=/new", "0 4 * * 1 run # ccci-upgrade-all anchor=x",
         "# END ccci-upgrade-all"]
NEW = ["# BEGIN ccci-upgrade-all (managed)", "PATH=/newer", "1 5 * * 2 run # ccci-upgrade-all anchor=y",
       "# END ccci-upgrade-all"]


def splice_lines(lines, block: list[str] | None = None, remove: bool = False):
    return ce.splice("\n".join(lines) + "\n", None if remove else (block or NEW)).splitlines()


def test_clean_block_replaced_in_place():
    before = ["MAILTO=me", "1 1 * * * mine", *BLOCK, "2 2 * * * after"]
    assert splice_lines(before) == ["MAILTO=me", "1 1 * * * mine", *NEW, "2 2 * * * after"]
    assert ce.locate(before).notes == []


def test_begin_without_end_ends_at_its_job_line_and_later_lines_stay():
    before = ["MAILTO=me", *BLOCK[:3], "USERVAR=kept", "2 2 * * * after"]
    loc = ce.locate(before)
    assert any("had no END marker" in n for n in loc.notes)
    assert splice_lines(before) == ["MAILTO=me", *NEW, "USERVAR=kept", "2 2 * * * after"]


def test_begin_alone_is_removed_with_a_note():
    before = ["A=1", BLOCK[0], "B=2", "3 3 * * * theirs"]
    loc = ce.locate(before)
    assert any("BEGIN marker with no END and no job line" in n for n in loc.notes)
    assert splice_lines(before, remove=True) == ["A=1", "B=2", "3 3 * * * theirs"]


def test_two_blocks_become_one():
    before = [*BLOCK, "X=1", "4 4 * * * theirs", *BLOCK]
    assert any("2 ccci-upgrade-all blocks" in n for n in ce.locate(before).notes)
    assert splice_lines(before) == [*NEW, "X=1", "4 4 * * * theirs"]


def test_end_before_begin():
    before = [BLOCK[3], "X=1", *BLOCK[:3], "5 5 * * * theirs"]
    notes = ce.locate(before).notes
    assert any("stray ccci-upgrade-all END" in n for n in notes) and any("had no END" in n for n in notes)
    assert splice_lines(before) == ["X=1", *NEW, "5 5 * * * theirs"]


def test_hand_edited_job_line_keeps_the_users_variables_above_it():
    before = ["MAILTO=me", "MYVAR=users", "PATH=/users/path", "0 4 * * 1 edited # ccci-upgrade-all anchor=x", "6 6 * * * theirs"]
    assert splice_lines(before) == ["MAILTO=me", "MYVAR=users", "PATH=/users/path", *NEW, "6 6 * * * theirs"]
    assert splice_lines(before, remove=True) == ["MAILTO=me", "MYVAR=users", "PATH=/users/path", "6 6 * * * theirs"]


def test_removing_the_only_block_leaves_no_blank_crontab():
    assert ce.splice("\n".join(BLOCK) + "\n", None) == ""
