# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V9's claims name the component and the lie: abra said it acted but the engine (read with docker)
says otherwise; Gitea answered a close but the PR stayed open."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.claims import v9

STACK = "custom-html-tiny_1_lab_local"


def healthy(**over):
    inputs = {
        "sweep": {"closed": [{"repo": "o/r", "number": 3, "html_url": "http://g/o/r/pulls/3"}], "remaining": [],
                  "errors": [], "merged": [], "deleted_branches": ["o/r:ccci/x"]},
        "after": {"closed": [], "remaining": [], "deleted_branches": [], "errors": []},
        "apps": {"results": [{"item": "custom-html-tiny", "apps": [
            {"domain": "custom-html-tiny-1.lab.local", "stack": STACK, "actions": ["undeploy", "remove"],
             "left": {"stack": False, "volumes": [], "secrets": [], "env_file": False}, "error": None}]}]},
        "engine": {"stacks": ["other_stack"], "volumes": [], "secrets": []},
        "sandbox_recipes": ["custom-html-tiny"],
        "session": {"status": "ABSENT", "previous": {"status": "IDLE"}},
    }
    inputs.update(over)
    return inputs


def test_healthy_cleanup_passes_and_nothing_read_fails_every_claim(failed_claims):
    assert failed_claims(v9, healthy()) == {}
    assert len(failed_claims(v9, {})) == len(v9.evaluate({}))


def _app(**left):
    app = healthy()["apps"]["results"][0]["apps"][0]
    return {"results": [{"item": "custom-html-tiny", "apps": [dict(app, left=dict(app["left"], **left))]}]}


def test_abra_remove_that_leaves_a_secret_is_named(failed_claims):
    bad = failed_claims(v9, healthy(apps=_app(secrets=[f"{STACK}_key_v1"]), engine={"secrets": [f"{STACK}_key_v1"]}))
    assert "`abra app remove custom-html-tiny-1.lab.local` answered success but left secret" in bad["V9.abra_did_what_it_said"]
    assert f"teardown left sandbox secret {STACK}_key_v1 on the engine" in bad["V9.engine_clear"]


def test_abra_undeploy_that_leaves_the_stack_is_named(failed_claims):
    bad = failed_claims(v9, healthy(apps=_app(stack=True), engine={"stacks": [STACK]}))
    assert f"`abra app undeploy custom-html-tiny-1.lab.local` answered success but its stack {STACK} is still" \
        in bad["V9.abra_did_what_it_said"]


def test_an_app_abra_ls_hides_is_found_on_the_engine(failed_claims):
    bad = failed_claims(v9, healthy(apps={"results": [{"item": "custom-html-tiny", "apps": []}]},
                                    engine={"stacks": [STACK], "volumes": [], "secrets": []}))
    assert f"docker holds stack {STACK} that `abra app ls` does not list" in bad["V9.engine_clear"]


def test_abra_remove_that_keeps_the_app_listed_is_named(failed_claims):
    bad = failed_claims(v9, healthy(apps=_app(env_file=True)))
    assert "answered success but `abra app ls` still lists it" in bad["V9.abra_did_what_it_said"]


def test_a_close_answered_but_not_done_names_gitea(failed_claims):
    sweep = dict(healthy()["sweep"], remaining=[{"repo": "o/r", "number": 3, "html_url": "http://g/o/r/pulls/3"}])
    bad = failed_claims(v9, healthy(sweep=sweep))
    assert "Gitea answered the close of o/r#3 with success but the PR is still open" in bad["V9.prs_and_branches_closed"]
    later = failed_claims(v9, healthy(after={"closed": [], "remaining": [], "deleted_branches": ["o/r:ccci/y"]}))
    assert "cleanup left 1 PR(s)/branch(es) of the run open: o/r:ccci/y" in later["V9.prs_and_branches_closed"]


def test_a_secret_left_by_a_remove_whose_app_is_gone_names_abra_remove(failed_claims):
    secret = f"{STACK}_key_v1"
    bad = failed_claims(v9, healthy(apps={"results": [{"item": "custom-html-tiny", "apps": []}]},
                                    engine={"stacks": [], "volumes": [], "secrets": [secret]}, env_files=[]))
    assert f"`abra app remove` reported its app removed but left secret {secret} on the engine" \
        in bad["V9.abra_did_what_it_said"]
    # the same secret while abra still has the app's env file is not blamed on a remove
    kept = failed_claims(v9, healthy(apps={"results": [{"item": "custom-html-tiny", "apps": []}]},
                                     engine={"stacks": [], "volumes": [], "secrets": [secret]},
                                     env_files=["/x/servers/lab.local/custom-html-tiny.1.lab.local.env"]))
    assert "abra app remove" not in kept.get("V9.abra_did_what_it_said", "")
