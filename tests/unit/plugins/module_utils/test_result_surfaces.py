# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading and comparing the two result surfaces."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import result_surfaces as rs
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.gitea import GiteaClient

from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import BOT, DRONE, GITEA, FakeBridge, FakeForge

SHA = "0123456789abcdef0123456789abcdef01234567"
URL = f"{DRONE}/recipe-maintainers/cc-ci/12"
REPO = "recipe-maintainers/custom-html"


def status(state, url=URL, sid=1, when="2024-01-01T00:00:00Z"):
    return {"id": sid, "context": "cc-ci/testme", "status": state, "target_url": url, "created_at": when}


def comment(body, cid=10):
    return {"id": cid, "body": body, "user": {"login": "cc-ci-bot"}, "html_url": f"{GITEA}/c/{cid}"}


CARD_PASS = f"### cc-ci results: PASS\n![badge]({DRONE}/badge.svg)\n[build #12]({URL})\nhead `{SHA[:10]}`"
CARD_FAIL = f"### cc-ci results: FAIL\n[build #12]({URL})\nhead `{SHA}`\n- deploy failed"
STARTED = f"cc-ci: run started \u2014 {URL}"


def test_verdict_mappings():
    assert rs.status_verdict("pending") == "PENDING"
    assert rs.status_verdict("success") == "GREEN"
    assert rs.status_verdict("failure") == rs.status_verdict("error") == "RED"
    assert rs.status_verdict("") == "NONE"
    assert rs.comment_verdict(CARD_PASS) == "GREEN"
    assert rs.comment_verdict(CARD_FAIL) == "RED"
    assert rs.comment_verdict(STARTED) == "PENDING"
    assert rs.comment_verdict("!testme") == "NONE"


def test_both_surfaces_agree():
    out = rs.evaluate(status("success"), comment(CARD_PASS), sha=SHA, build_url=URL)
    assert out["verdict"] == "GREEN" and out["agree"] is True
    assert out["present"] == ["status", "comment"] and out["findings"] == []
    assert out["comment"]["build_url"] == URL


def test_comment_without_status_is_a_finding():
    out = rs.evaluate(None, comment(CARD_FAIL), sha=SHA)
    assert out["verdict"] == "RED" and out["agree"] is False
    assert out["findings"] == [f"status surface missing: the bridge posted a comment but no cc-ci/testme status on {SHA[:10]}"]


def test_status_without_comment_is_a_finding():
    out = rs.evaluate(status("failure"), None, sha=SHA)
    assert out["verdict"] == "RED" and not out["agree"]
    assert out["findings"][0].startswith("comment surface missing: a cc-ci/testme status is on")


def test_disagreeing_surfaces():
    out = rs.evaluate(status("success"), comment(CARD_FAIL), sha=SHA)
    assert out["verdict"] == "RED" and not out["agree"]
    assert out["findings"] == ["result surfaces disagree: the cc-ci/testme status says GREEN (success) "
                               "but the bridge comment says RED"]
    lagging = rs.evaluate(status("pending"), comment(CARD_PASS), sha=SHA)
    assert lagging["verdict"] == "GREEN" and not lagging["agree"]


def test_no_surface_at_all():
    out = rs.evaluate(None, None, sha=SHA)
    assert out["verdict"] == "NONE" and out["present"] == [] and not out["agree"]
    assert out["findings"][0].startswith("no result surface")


def test_surfaces_pointing_at_another_build():
    other = f"{DRONE}/recipe-maintainers/cc-ci/1"
    out = rs.evaluate(status("success", url=other), comment(CARD_PASS), sha=SHA, build_url=URL)
    assert any("does not point at build" in f for f in out["findings"])


def test_url_matching_respects_number_boundaries():
    assert rs.mentions_url(f"see {URL}", URL)
    assert not rs.mentions_url(f"see {URL}3", URL)
    assert not rs.mentions_url(f"see {DRONE}/recipe-maintainers/cc-ci/1", URL)
    assert rs.build_url_in(CARD_PASS) == URL


def test_pick_comment_prefers_the_build_and_skips_other_shas():
    older = comment(f"### cc-ci results: FAIL\n[b]({DRONE}/recipe-maintainers/cc-ci/3)\nhead `fedcba9876`", 5)
    mine = comment(CARD_PASS, 7)
    unrelated = comment("looks good to me", 9)
    assert rs.pick_comment([older, mine, unrelated], URL, SHA)["id"] == 7
    assert rs.pick_comment([older, unrelated], None, SHA) is None
    assert rs.pick_comment([older, comment(STARTED, 8)], None, SHA)["id"] == 8
    assert rs.pick_comment([mine], after_id=7) is None


def test_pick_status_newest_of_context():
    items = [status("pending", sid=1, when="2024-01-01T00:00:00Z"),
             status("success", sid=2, when="2024-01-01T00:01:00Z"),
             {"id": 3, "context": "other", "status": "failure", "created_at": "2024-01-01T00:02:00Z"}]
    assert rs.pick_status(items)["id"] == 2
    assert rs.pick_status([]) is None


def test_settled():
    both = rs.evaluate(status("success"), comment(CARD_PASS), sha=SHA)
    assert rs.settled(both, "GREEN") and not rs.settled(both, "RED")
    only_comment = rs.evaluate(None, comment(CARD_PASS), sha=SHA)
    assert rs.settled(only_comment, "GREEN")
    running = rs.evaluate(status("pending"), comment(STARTED), sha=SHA)
    assert not rs.settled(running)
    assert not rs.settled(rs.evaluate(None, None))


def test_outcome_of():
    assert rs.outcome_of({"build": {}, "status": {}, "bridge_comment": None}, True) == "fired"
    assert rs.outcome_of({"build": {"number": 1}, "status": None, "bridge_comment": None}, True) == "partial"
    assert rs.outcome_of({"build": None, "status": None, "bridge_comment": None}, True) == "ignored"
    assert rs.outcome_of({"build": None, "status": None, "bridge_comment": None}, False) == "rejected"


def test_read_surfaces_and_observe_trigger_against_the_fake():
    forge = FakeForge()
    bridge = FakeBridge(forge, status=False)
    pr = forge.add_pr(REPO, "ccci/r")
    g = GiteaClient(GITEA, BOT, transport=forge.transport())
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils.drone import DroneClient
    from ansible_collections.coopcloud.cc_ci.tests.unit.plugins.module_utils.forge_fake import DRONE_TOKEN
    d = DroneClient(DRONE, DRONE_TOKEN, transport=forge.transport())
    posted = g.post_comment(REPO, pr["number"], "!testme")
    seen = rs.observe_trigger(g, d, repo=REPO, number=pr["number"], sha=pr["head"]["sha"],
                              ci_repo="recipe-maintainers/cc-ci", comment=posted, last_build=0,
                              status_ids=set(), window=0, interval=1)
    assert seen["build"]["number"] == 1 and seen["status"] is None and seen["bridge_comment"] is not None
    bridge.finish(REPO, pr["number"], 1, "failure")
    out = rs.read_surfaces(g, REPO, pr["number"], pr["head"]["sha"],
                           build_url=f"{DRONE}/recipe-maintainers/cc-ci/1")
    assert out["verdict"] == "RED" and out["present"] == ["comment"]
    assert out["findings"][0].startswith("status surface missing: the bridge posted a comment but no cc-ci/testme status")


def test_a_result_posted_twice_is_a_finding():
    """The bridge posts one comment per run and edits it into the card (FACTS §1): two comments that
    link the build are one result posted twice, even when both say the same thing."""
    once = rs.evaluate(status("success"), comment(CARD_PASS), sha=SHA, build_url=URL, bridge_posts=[comment(CARD_PASS)])
    assert once["findings"] == []
    twice = rs.evaluate(status("success"), comment(CARD_PASS, 11), sha=SHA, build_url=URL,
                        bridge_posts=[comment(CARD_PASS, 10), comment(CARD_PASS, 11)])
    assert twice["agree"] is True and twice["findings"] == [
        f"the bridge posted 2 comments for build {URL} (ids [10, 11]), not one comment edited into the result: "
        "the run's result went out more than once"]
