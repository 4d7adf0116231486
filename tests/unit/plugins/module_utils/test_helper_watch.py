# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""BuildWatch: a helper's wait ends only once its build ended and the bridge's grace has passed."""
from __future__ import annotations

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.helper_watch import BuildWatch, drone_builds

REPO = "recipe-maintainers/custom-html-tiny"


def build(number, status, pr=7, ref="abc", repo=REPO):
    return {"number": number, "status": status, "params": {"PR": str(pr), "REPO": repo, "REF": ref}}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_post1_waits_for_its_own_build_then_the_grace():
    clock = Clock()
    builds = [build(3, "success")]  # an earlier run of the same head: not what POST=1 waits for
    watch = BuildWatch(lambda: list(builds), repo=REPO, pr=7, post=True, sha="abc", grace=5, clock=clock)
    assert watch.floor == 3
    clock.now += 60
    assert watch.look() is None
    builds.insert(0, build(4, "running"))
    assert watch.look() is None
    builds[0] = build(4, "success")
    assert watch.look() is None  # just seen ended: the bridge has its grace
    clock.now += 4.9
    assert watch.look() is None
    clock.now += 0.2
    reason = watch.look()
    assert reason and "#4 ended success" in reason and "5 s" in reason


def test_post0_counts_a_build_of_the_head_and_ignores_other_prs_and_heads():
    clock = Clock()
    builds = [build(9, "success", pr=8), build(8, "failure", ref="old"), build(5, "failure")]
    watch = BuildWatch(lambda: list(builds), repo=REPO, pr=7, post=False, sha="abc", grace=2, clock=clock)
    assert watch.look() is None
    clock.now += 2
    assert "#5 ended failure" in watch.look()
    other_head = BuildWatch(lambda: [build(8, "failure", ref="old")], repo=REPO, pr=7, post=False, sha="abc",
                            grace=0, clock=clock)
    assert other_head.look() is None


def test_a_newer_running_build_resets_nothing_it_is_waited_for():
    clock = Clock()
    builds = [build(5, "success")]
    watch = BuildWatch(lambda: list(builds), repo=REPO, pr=7, post=False, sha="abc", grace=2, clock=clock)
    assert watch.look() is None
    builds.insert(0, build(6, "pending"))
    clock.now += 5
    assert watch.look() is None


def test_an_unreachable_drone_never_stops_a_wait():
    fetch = drone_builds("http://127.0.0.1:9", "t", "recipe-maintainers/cc-ci", timeout=1)
    assert fetch() == []
    assert BuildWatch(fetch, repo=REPO, pr=7, post=True, grace=0).look() is None
