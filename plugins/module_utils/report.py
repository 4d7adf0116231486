# Copyright (c) coopcloud.cc_ci contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REVIEW-5.md (for people), report.html (the same plus the timeline and the full evidence),
report.json and junit.xml from the stored check results.

Per check a person reads the claim in one sentence, the verdict, the predicates (a failing check
leads with its diagnosis and the predicates that failed) and the few links that prove it. The
links are chosen by one declared rule (:func:`choose_links`):

1. the check's own ``evidence.links`` first, in its order (a list of URLs, of ``{label, url}``,
   or a ``{label: url}`` mapping): a check names its key links explicitly;
2. then every URL-valued field of the evidence (a string that is or starts with an ``http(s)://``
   URL, or an absolute path to a ``.md`` summary), classified by what it points at and ranked
   PR > build > comment > summary file > other URL; taken round-robin over these kinds, evidence
   order within a kind, each URL once, at most :data:`MAX_LINKS`.
"""
from __future__ import annotations

import contextlib
import html
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.checks import CHECK_IDS, CheckResult
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.redaction import redact_text

NOT_RUN = "not run: no result was recorded (the check was not part of this run or was interrupted)"
MAX_LINKS = 8
KIND_RANK = ("pr", "build", "comment", "summary", "url")
_URL = re.compile(r"https?://[^\s)<>\"'`]+")
_ICON = {"PASS": "✅", "FAIL": "❌", "SKIP": "⏭️"}  # Gitea shows emoji; report.html uses plain marks
_MARK = {"PASS": "✓", "FAIL": "✗", "SKIP": "–"}


TITLES = {check.id: check.title for check in CHECKS}
CLAIMS = {check.id: check.claim for check in CHECKS}


def title_of(check_id: str) -> str:
    return TITLES.get(check_id, check_id)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def ordered(results: dict[str, CheckResult], ids: list[str] | tuple[str, ...] = CHECK_IDS) -> list[CheckResult]:
    """The asked check ids, in plan order; one without a result counts as SKIP with the reason."""
    return [results.get(cid) or CheckResult(cid, "SKIP", 0.0, {}, NOT_RUN) for cid in CHECK_IDS if cid in ids]


# -- links --------------------------------------------------------------------------------------

@dataclass
class Link:
    label: str
    url: str
    kind: str

    def markdown(self) -> str:
        if self.url.startswith("/"):
            return f"{self.label} `{self.url}`"  # a file on the box: no link a forge could follow
        return f"[{self.label}]({self.url})"

    def html(self) -> str:
        href = f"file://{self.url}" if self.url.startswith("/") else self.url
        return f'<a href="{html.escape(href)}">{html.escape(self.label)}</a>'


def classify(url: str) -> tuple[str, str]:
    """``(kind, label)`` of a URL or file path found in evidence."""
    if url.startswith("/"):
        return ("summary", "summary") if url.endswith(".md") else ("url", "file")
    path = re.sub(r"^https?://[^/]+", "", url)
    m = re.search(r"/([^/]+)/pulls/(\d+)#issuecomment-(\d+)$", path)
    if m:
        return "comment", f"comment #{m.group(3)} on {m.group(1)}#{m.group(2)}"
    m = re.search(r"/([^/]+)/pulls/(\d+)/?$", path)
    if m:
        return "pr", f"PR {m.group(1)}#{m.group(2)}"
    m = re.match(r"^/[^/]+/([^/]+)/(\d+)/?$", path)
    if m:
        return "build", f"build #{m.group(2)}"
    return "url", path.rstrip("/").rsplit("/", 1)[-1] or re.sub(r"^https?://", "", url).rstrip("/")


def _explicit_links(value: Any) -> list[Link]:
    out: list[Link] = []
    pairs: list[tuple[str | None, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                pairs.append((item.get("label"), item.get("url")))
            else:
                pairs.append((None, item))
    for label, url in pairs:
        if isinstance(url, str) and url:
            kind, guessed = classify(url)
            out.append(Link(str(label) if label else guessed, url, kind))
    return out


def _found_urls(value: Any) -> list[str]:
    """URL-valued fields, depth first in evidence order (``links`` and ``predicates`` left out)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("links", "predicates"):
                found += _found_urls(item)
    elif isinstance(value, list):
        for item in value:
            found += _found_urls(item)
    elif isinstance(value, str):
        match = _URL.match(value)
        if match and re.sub(r"^https?://[^/]+", "", match.group(0)).strip("/"):  # a bare server proves nothing
            found.append(match.group(0).rstrip(".,;"))
        elif value.startswith("/") and value.endswith(".md") and "\n" not in value:
            found.append(value)
    return found


def choose_links(evidence: dict[str, Any], limit: int = MAX_LINKS) -> list[Link]:
    """The rule in the module docstring: explicit links, then found URLs round-robin by kind."""
    chosen = _explicit_links(evidence.get("links"))[:limit]
    seen = {link.url for link in chosen}
    by_kind: dict[str, list[Link]] = {kind: [] for kind in KIND_RANK}
    for url in _found_urls(evidence):
        if url in seen:
            continue
        seen.add(url)
        kind, label = classify(url)
        by_kind[kind].append(Link(label, url, kind))
    while len(chosen) < limit and any(by_kind.values()):
        for kind in KIND_RANK:
            if by_kind[kind] and len(chosen) < limit:
                chosen.append(by_kind[kind].pop(0))
    return chosen


# -- the view of one check ----------------------------------------------------------------------

@dataclass
class Predicate:
    name: str
    ok: bool
    diagnosis: str | None = None
    inputs: Any = None


@dataclass
class CheckView:
    id: str
    title: str
    claim: str
    verdict: str
    seconds: float
    diagnosis: str | None
    predicates: list[Predicate] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Predicate]:
        return [p for p in self.predicates if not p.ok]


def _bare(name: str, check_id: str) -> str:
    """A predicate's name without its ``<ID>.`` prefix (the section already names the check)."""
    return name[len(check_id) + 1:] if name.startswith(f"{check_id}.") else name


def held_names(v: CheckView) -> list[str]:
    """The predicates that held, by name; the numbered ``expectation_<n>`` of a check not yet
    written as named claims are counted, not listed (their numbers tell a reader nothing)."""
    named = [_bare(p.name, v.id) for p in v.predicates if p.ok]
    plain = [n for n in named if re.fullmatch(r"expectation_\d+", n)]
    return [n for n in named if n not in plain] + ([f"{len(plain)} expectation{'s' if len(plain) > 1 else ''}"]
                                                   if plain else [])


def predicates_of(evidence: dict[str, Any]) -> list[Predicate]:
    """``evidence.predicates`` as the checks record them (``[{name, ok, diagnosis, inputs}]``);
    none when a check does not record them yet."""
    out = []
    for item in evidence.get("predicates") or []:
        if isinstance(item, dict) and item.get("name"):
            ok = item.get("ok")
            ok = ok.strip().lower() in ("true", "yes", "1") if isinstance(ok, str) else bool(ok)
            out.append(Predicate(str(item["name"]), ok, item.get("diagnosis"), item.get("inputs")))
    return out


def view(check: CheckResult) -> CheckView:
    title, claim = title_of(check.id), CLAIMS.get(check.id, "")
    evidence = check.evidence if isinstance(check.evidence, dict) else {}
    return CheckView(check.id, title, claim, check.verdict, float(check.seconds or 0), check.diagnosis,
                     predicates_of(evidence), choose_links(evidence), evidence)


def _key_links(v: CheckView) -> list[Link]:
    """The summary table's two: the first PR and build links (or comments)."""
    return [link for link in v.links if link.kind in ("pr", "build", "comment")][:2]


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def overall(verdicts: list[str], error: str | None = None) -> str:
    """A run's verdict from its checks' verdicts: FAIL, PASS with SKIPs or PASS."""
    if error or "FAIL" in verdicts:
        return "FAIL"
    return "PASS with SKIPs" if "SKIP" in verdicts else "PASS"


def _overall(views: list[CheckView], error: str | None) -> str:
    return overall([v.verdict for v in views], error)


# -- REVIEW-5.md ---------------------------------------------------------------------------------

ARTEFACTS = (("report.html", "report.html"), ("report.json", "report.json"), ("timeline.svg", "timeline.svg"),
             ("junit.xml", "junit.xml"))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_inline(text: str) -> str:
    """Text inside a sentence: no raw HTML, no accidental emphasis."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("*", "\\*").replace("_", "\\_")


def to_markdown(target: str, started: float, finished: float, checks: list[CheckResult],
                error: str | None = None, timeline: bool = True) -> str:
    views = [view(c) for c in checks]
    overall = _overall(views, error)
    failed = [v for v in views if v.verdict == "FAIL"]
    counts = " · ".join(f"{sum(v.verdict == x for v in views)} {x}" for x in ("PASS", "FAIL", "SKIP")
                        if any(v.verdict == x for v in views))
    out = [
        "# REVIEW-5 — Phase 5 cold verification of the upgrade flow",
        "",
        f"Overall: **{overall}**" + (f" (failed: {', '.join(v.id for v in failed)})" if failed else "")
        + f" — {len(views)} checks: {counts or 'none'} · target `{target}` · "
        f"{_iso(started)} → {_iso(finished)} ({finished - started:.0f} s)",
        "",
    ]
    if error:
        out += [f"❌ The run stopped early: {_md_inline(error)}", ""]
    for v in failed:
        out.append(f"- ❌ **{v.id}**: {_md_inline(v.diagnosis or 'failed')}")
    if failed:
        out.append("")
    out += ["| Check | Claim | Verdict | Time | Key links |", "|---|---|---|---|---|"]
    for v in views:
        links = " · ".join(link.markdown() for link in _key_links(v))
        out.append(f"| {v.id} | {_md_cell(v.title)} | {_ICON.get(v.verdict, '')} {v.verdict} | "
                   f"{v.seconds:.0f} s | {_md_cell(links) or '—'} |")
    art = [f"[{label}]({path})" for label, path in ARTEFACTS if timeline or path != "timeline.svg"]
    out += ["", "Full evidence: " + " · ".join(art) + ".", ""]
    if timeline:
        out += ["![Timeline of the run: checks, Drone builds and waits](timeline.svg)", ""]
    for v in views:
        out += [f"## {v.id} — {v.title}", ""]
        lead = f"{_ICON.get(v.verdict, '')} **{v.verdict}** in {v.seconds:.1f} s"
        if v.verdict == "FAIL":
            out += [f"{lead} — **diagnosis:** {_md_inline(v.diagnosis or 'failed')}", ""]
        elif v.verdict == "SKIP":
            out += [f"{lead} — {_md_inline(v.diagnosis or 'skipped')}", ""]
        else:
            out += [lead, ""]
        if v.claim:
            out += [f"Claim: {_md_inline(v.claim)}", ""]
        for p in v.failed:
            inputs = f" (inputs: `{_short(p.inputs, 80)}`)" if p.inputs not in (None, {}, []) else ""
            out.append(f"- ❌ `{_bare(p.name, v.id)}` — {_md_inline(p.diagnosis or 'did not hold')}{inputs}")
        held = held_names(v)
        if held:
            out.append(f"- ✅ held: {', '.join(n if ' ' in n else f'`{n}`' for n in held)}")
        if v.predicates:
            out.append("")
        if v.links:
            out += ["Links: " + " · ".join(link.markdown() for link in v.links), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# -- report.html ---------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.PASS{color:#1a7f37}.FAIL{color:#cf222e}.SKIP{color:#9a6700}code{background:#f3f3f3;padding:0 .2em}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:12px;max-height:40em}
figure{margin:1em 0;overflow-x:auto}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def to_html(target: str, started: float, finished: float, checks: list[CheckResult],
            error: str | None = None, svg: str | None = None) -> str:
    """The content of REVIEW-5.md, the timeline inline, and each check's full evidence."""
    views = [view(c) for c in checks]
    overall = _overall(views, error)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>REVIEW-5 — Phase 5 cold verification</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>REVIEW-5 — Phase 5 cold verification of the upgrade flow</h1>",
        f'<p>Overall: <strong class="{overall.split()[0]}">{_h(overall)}</strong> — {len(views)} checks · target '
        f"<code>{_h(target)}</code> · {_iso(started)} → {_iso(finished)} ({finished - started:.0f} s)</p>",
    ]
    if error:
        parts.append(f"<p>✗ The run stopped early: {_h(error)}</p>")
    failed = [v for v in views if v.verdict == "FAIL"]
    if failed:
        parts.append("<ul>" + "".join(f"<li>✗ <strong>{v.id}</strong>: {_h(v.diagnosis or 'failed')}</li>"
                                      for v in failed) + "</ul>")
    rows = "".join(
        f'<tr id="row-{v.id}"><td><a href="#{v.id}">{v.id}</a></td><td>{_h(v.title)}</td>'
        f'<td class="{v.verdict}">{_MARK.get(v.verdict, "")} {v.verdict}</td><td>{v.seconds:.0f} s</td>'
        f'<td>{" · ".join(link.html() for link in _key_links(v)) or "—"}</td></tr>'
        for v in views)
    parts.append("<table><thead><tr><th>Check</th><th>Claim</th><th>Verdict</th><th>Time</th><th>Key links</th>"
                 f"</tr></thead><tbody>{rows}</tbody></table>")
    parts.append('<p>Also: <a href="report.json">report.json</a> · <a href="timeline.svg">timeline.svg</a> · '
                 '<a href="junit.xml">junit.xml</a> · <a href="REVIEW-5.md">REVIEW-5.md</a></p>')
    if svg:
        parts.append(f'<h2 id="timeline">Timeline</h2><figure>{svg}</figure>')
    for v in views:
        parts.append(f'<section id="{v.id}"><h2>{v.id} — {_h(v.title)}</h2>')
        lead = f'<strong class="{v.verdict}">{_MARK.get(v.verdict, "")} {v.verdict}</strong> in {v.seconds:.1f} s'
        if v.verdict in ("FAIL", "SKIP"):
            label = "diagnosis" if v.verdict == "FAIL" else "reason"
            lead += f" — <strong>{label}:</strong> {_h(v.diagnosis or '')}"
        parts.append(f"<p>{lead}</p>")
        if v.claim:
            parts.append(f"<p>Claim: {_h(v.claim)}</p>")
        items = [f"<li>✗ <code>{_h(_bare(p.name, v.id))}</code> — {_h(p.diagnosis or 'did not hold')}"
                 f"{' (inputs: <code>' + _h(_short(p.inputs, 300)) + '</code>)' if p.inputs not in (None, {}, []) else ''}"
                 f"</li>" for p in v.failed]
        held = held_names(v)
        if held:
            items.append("<li>✓ held: " + ", ".join(_h(n) if " " in n else f"<code>{_h(n)}</code>" for n in held)
                         + "</li>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
        if v.links:
            parts.append("<p>Links: " + " · ".join(link.html() for link in v.links) + "</p>")
        parts.append("<details><summary>Full evidence</summary><pre>"
                     f"{_h(json.dumps(v.evidence, indent=2, sort_keys=True, default=str))}</pre></details></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- report.json and junit.xml -------------------------------------------------------------------

def to_json(target: str, started: float, finished: float, checks: list[CheckResult],
            error: str | None = None, timeline: dict[str, Any] | None = None) -> dict[str, Any]:
    data = {
        "target": target,
        "started": _iso(started),
        "finished": _iso(finished),
        "started_epoch": started,
        "finished_epoch": finished,
        "error": error,
        "checks": [
            {"id": c.id, "verdict": c.verdict, "seconds": c.seconds, "evidence": c.evidence,
             "diagnosis": c.diagnosis, "recorded": c.recorded}
            for c in checks
        ],
    }
    if timeline is not None:
        data["timeline"] = timeline
    return data


def to_junit(checks: list[CheckResult], error: str | None = None) -> str:
    """One testcase a check; a run that stopped early is one more, failed, testcase (so a CI that
    reads only junit never counts an interrupted run as green)."""
    failures = sum(c.verdict == "FAIL" for c in checks) + (1 if error else 0)
    suite = ET.Element("testsuite", name="cc-ci phase 5", tests=str(len(checks) + (1 if error else 0)),
                       failures=str(failures),
                       skipped=str(sum(c.verdict == "SKIP" for c in checks)),
                       time=f"{sum(c.seconds for c in checks):.1f}")
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname="phase5", name=f"{check.id} {title_of(check.id)}",
                             time=f"{check.seconds:.1f}")
        if check.verdict == "FAIL":
            ET.SubElement(case, "failure", message=check.diagnosis or "failed").text = check.diagnosis
        elif check.verdict == "SKIP":
            ET.SubElement(case, "skipped", message=check.diagnosis or "skipped")
    if error:
        case = ET.SubElement(suite, "testcase", classname="phase5", name="run completed", time="0.0")
        ET.SubElement(case, "failure", message=f"the run stopped early: {error}").text = error
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


class ReportNotWritten(Exception):
    """Some report files could not be written; ``paths`` holds the ones that were."""

    def __init__(self, problems: list[str], paths: dict[str, str]) -> None:
        super().__init__("; ".join(problems))
        self.paths = paths


def write_all(report_dir: str, target: str, started: float, finished: float,
              results: dict[str, CheckResult], secrets: list[str],
              ids: list[str] | tuple[str, ...] = CHECK_IDS, error: str | None = None,
              timeline: dict[str, Any] | None = None, svg: str | None = None) -> dict[str, str]:
    """Write every report file, redacted, each replaced atomically; each one that can be written is,
    whatever happens to the others. ``timeline`` (the data) and ``svg`` (its drawing) come from
    :mod:`timeline`; without them no timeline.svg is written.
    Raises :class:`ReportNotWritten` naming each file that could not be written and why."""
    checks = ordered(results, ids)
    files = {
        "REVIEW-5.md": to_markdown(target, started, finished, checks, error, timeline=svg is not None),
        "report.json": json.dumps(to_json(target, started, finished, checks, error, timeline), indent=2,
                                  default=str) + "\n",
        "report.html": to_html(target, started, finished, checks, error, svg),
        "junit.xml": to_junit(checks, error),
    }
    if svg is not None:
        files["timeline.svg"] = svg
    return write_files(report_dir, files, secrets)


def write_files(report_dir: str, files: dict[str, str], secrets: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Write each named text into *report_dir*, redacted, each replaced atomically; each one that can be
    written is. Raises :class:`ReportNotWritten` naming each file that could not be written and why."""
    paths: dict[str, str] = {}
    problems: list[str] = []
    try:
        os.makedirs(report_dir, exist_ok=True)
    except OSError as exc:
        raise ReportNotWritten([f"cannot create the report folder {report_dir}: {exc.strerror or exc}: "
                                "check ccci_report_dir"], paths) from exc
    for name, text in files.items():
        path = os.path.join(report_dir, name)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(redact_text(text, secrets))
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            problems.append(f"cannot write {path}: {exc.strerror or exc}: remove or rename what is there "
                            "(or set ccci_report_dir to another folder)")
            continue
        paths[name] = path
    if problems:
        raise ReportNotWritten(problems, paths)
    return paths
