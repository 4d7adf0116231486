# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one home of the secret rule and of run state: every caller masks and stores the same way."""
from __future__ import annotations

import json
import os

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import redaction, state
from ansible_collections.coopcloud.cc_ci.plugins.modules import completion_cron


def test_secret_names_are_one_rule_for_env_cron_and_urls():
    env = {"GITEA_TOKEN": "tok-1234", "DB_PASSWORD": "pw-1234", "API_KEY": "k-1234", "BASIC_AUTH": "a-1234",
           "AWS_CREDENTIALS": "c-1234", "MIRROR_ORG": "recipe-mirrors", "EMPTY_TOKEN": ""}
    assert redaction.redact_env(env) == {**env, "GITEA_TOKEN": "********", "DB_PASSWORD": "********",
                                         "API_KEY": "********", "BASIC_AUTH": "********",
                                         "AWS_CREDENTIALS": "********", "EMPTY_TOKEN": "********"}
    # no_log gets the non-empty secret values only; a listed extra name counts too
    assert redaction.secret_values(env, extra=["MIRROR_ORG"]) == {"tok-1234", "pw-1234", "k-1234", "a-1234",
                                                                  "c-1234", "recipe-mirrors"}
    # the crontab's masking follows the same names (it used to miss none of these but PASSWD/KEY differed)
    assert completion_cron.secret_names(env, []) == redaction.secret_names(env)
    assert redaction.redact_url("http://u:p@h:3000/a?access_token=abc&page=2&sig=x") == \
        "http://h:3000/a?access_token=***&page=2&sig=***"


def test_redact_text_masks_longest_first_and_leaves_short_values():
    text = "token tok-1234-long, prefix tok-1234, flag on"
    assert redaction.redact_text(text, ["tok-1234", "tok-1234-long", "on", None, ""]) == \
        "token ********, prefix ********, flag on"


def test_state_reads_never_raise_and_writes_are_atomic(tmp_path):
    path = tmp_path / "sub" / "state.json"
    assert state.read_state(str(path)) == {} and state.read_state(None) == {}
    state.write_state(str(path), {"b": 1, "a": [1]})
    assert json.loads(path.read_text()) == {"a": [1], "b": 1} and state.read_state(str(path)) == {"a": [1], "b": 1}
    assert not [f for f in os.listdir(path.parent) if f.endswith(".tmp")]
    for bad in ("[1, 2, 3]", "{cut", b"\xff\xfe"):
        (path.write_bytes if isinstance(bad, bytes) else path.write_text)(bad)
        assert state.read_state(str(path)) == {}


def test_utc_clock():
    assert state.utc_now().utcoffset().total_seconds() == 0
    assert state.utc_iso().endswith("Z") and len(state.utc_iso()) == 20
