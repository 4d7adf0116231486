# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""spans: the progress lines a known wait produces, the records a run keeps, the API account."""
from __future__ import annotations

import json

import pytest

from ansible_collections.coopcloud.cc_ci.plugins.module_utils import spans


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(spans.ENV, str(path))
    monkeypatch.setattr(spans, "TICK", 3600.0)  # no ticker thread ticks during a test
    return path


def lines(path):
    return [r for r in spans.read(str(path)) if r["ev"] == "progress"]


def test_a_known_wait_gives_a_line_per_state_change_and_one_per_interval(progress_file):
    """A 45 s build wait, polled every second: pending at 0 s, running from 10 s, interval 8 s →
    silent while quiet (pending at 0 s), then 8, 10 (running), 18, 26, 34, 42: six lines."""
    clock = Clock()
    with spans.Span("build", "build #12", note="bridge poll 30 s", clock=clock, interval=8, build=12) as span:
        for second in range(46):
            clock.now = 1000.0 + second
            span.state("pending" if second < 10 else "running")
        span.set(status="success")
    got = lines(progress_file)
    assert [round(r["t"] - 1000) for r in got] == [8, 10, 18, 26, 34, 42]
    assert got[0]["text"] == "waiting for build #12 (pending, 8 s; bridge poll 30 s)"
    assert got[2]["text"] == "waiting for build #12 (running, 18 s; bridge poll 30 s)"
    assert span.lines == 6
    end = [r for r in spans.read(str(progress_file)) if r["ev"] == "end"]
    assert end == [{"ev": "end", "span": span.id, "kind": "build", "what": "build #12", "start": 1000.0,
                    "end": 1045.0, "outcome": "ok", "build": 12, "status": "success"}]


def test_a_wait_shorter_than_the_interval_says_nothing_but_is_a_span(progress_file):
    clock = Clock()
    with spans.Span("bridge", "a build for r#1", clock=clock):
        clock.now += 5
    assert lines(progress_file) == []
    assert [(s["kind"], s["end"] - s["start"]) for s in spans.closed_spans(spans.read(str(progress_file)))] == \
        [("bridge", 5.0)]


def test_a_module_that_exits_inside_a_wait_still_ends_its_span(progress_file):
    with pytest.raises(SystemExit):
        with spans.Span("agent", "the agent"):
            raise SystemExit(1)
    assert spans.closed_spans(spans.read(str(progress_file)))[0]["outcome"] == "error"


def test_a_killed_wait_is_closed_at_its_last_line(progress_file):
    spans.append({"ev": "begin", "span": "a", "t": 10.0, "kind": "cron", "what": "T0"})
    spans.append({"ev": "progress", "span": "a", "t": 30.0, "kind": "cron", "text": "x"})
    with open(progress_file, "a", encoding="utf-8") as handle:
        handle.write('{"ev": "progr')  # a writer killed mid-line
    closed = spans.closed_spans(spans.read(str(progress_file)))
    assert [(s["start"], s["end"], s["outcome"]) for s in closed] == [(10.0, 30.0, "unfinished")]


def test_without_a_progress_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(spans.ENV, raising=False)
    clock = Clock()
    with spans.Span("build", "build #1", clock=clock) as span:
        clock.now += 9
        span.state("running")
    assert span.lines == 1 and list(tmp_path.iterdir()) == []


def test_api_time_inside_a_wait_is_kept_apart(progress_file, monkeypatch):
    monkeypatch.setattr(spans, "_api", {"calls": 0, "seconds": 0.0, "in_wait": 0.0, "registered": True})
    spans.api_call(0.25)
    with spans.Span("build", "build #1", ticker=False):
        spans.api_call(0.5)
    spans.flush_api()
    api = [r for r in spans.read(str(progress_file)) if r["ev"] == "api"]
    assert [(r["calls"], r["seconds"], r["in_wait"]) for r in api] == [(2, 0.75, 0.5)]


def test_merged_seconds_counts_overlaps_once():
    assert spans.merged_seconds([(0, 10), (5, 15), (20, 21), (20.5, 20.7)]) == 16


def test_records_are_one_json_object_per_line(progress_file):
    spans.append({"ev": "task", "name": "V1 | x"})
    spans.append({"ev": "task", "name": "ü ▸"})
    raw = progress_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["name"] for r in raw] == ["V1 | x", "ü ▸"]


def test_the_deploy_watchers_samples_become_one_span_per_deploy(tmp_path):
    from ansible_collections.coopcloud.cc_ci.plugins.module_utils.deploy_watch import deploy_intervals

    samples = tmp_path / "watch.jsonl"
    samples.write_text("\n".join(json.dumps(x) for x in (
        {"t": 1, "stacks": ["a"]}, {"t": 2, "stacks": ["a", "b"]}, {"error": "docker failed"},
        {"t": 3, "stacks": ["b"]}, {"t": 5, "stacks": []}, {"t": 6, "stacks": ["a"]})) + "\n")
    assert deploy_intervals(str(samples)) == [("a", 1.0, 3.0), ("b", 2.0, 5.0), ("a", 6.0, 6.0)]
