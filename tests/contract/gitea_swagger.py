# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hold recorded Gitea exchanges against Gitea's own API spec (swagger 2.0, Gitea 1.27.1).

Library: ``jsonschema`` (python-jsonschema, Draft 4). Swagger 2.0 schemas are a Draft 4 subset plus
``x-nullable``; the validators built for OpenAPI (openapi-core, openapi-schema-validator) read 3.x
only and would need a 2.0→3.0 conversion step of their own, and bravado-core (the 2.0 validator) has
had no release since 2023 and pulls in simplejson/msgpack/swagger-spec-validator. jsonschema is
maintained, already in the venv through ansible-lint/molecule, and does the hard part (types,
enums, required, nested ``$ref``); this module adds only the thin part: matching a request to
its path template, method and documented status, and a strict view of every definition
(``required`` = every property, ``additionalProperties: false``) so a missing or an invented
field is reported too.

What real Gitea does beyond its swagger is in ``ALLOWED``: each entry edits the strict view at one
place, with the reason and the Gitea source that shows it. Anything else is a violation.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from jsonschema import Draft4Validator

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "gitea-swagger.v1.json"


@dataclass(frozen=True)
class Allowed:
    """One place where real Gitea answers beyond its swagger. ``kind``:
    ``nullable`` (definition.field may be null), ``omitempty`` (may be absent),
    ``value`` (definition.field may also take ``value``), ``status`` (any route may answer it),
    ``list`` (the operation may answer a list of its documented object)."""
    kind: str
    where: str
    reason: str
    source: str
    value: Any = None


ALLOWED: tuple[Allowed, ...] = (
    # Pointers and times Gitea leaves nil, serialised as null; the swagger has no x-nullable there.
    *(Allowed("nullable", f"PullRequest.{f}", why, "modules/structs/pull.go (pointer fields without omitempty)")
      for f, why in (("merged_at", "nil until merged"), ("merge_commit_sha", "nil until merged"),
                     ("merged_by", "nil until merged"), ("closed_at", "nil while open"),
                     ("milestone", "nil without a milestone"), ("assignee", "nil without an assignee"),
                     ("due_date", "nil without a deadline"))),
    *(Allowed("nullable", f"Commit.{f}", "null when the commit's email is no Gitea user's",
              "services/convert/git_commit.go ToCommit (author/committer looked up by email)")
      for f in ("author", "committer")),
    Allowed("nullable", "PayloadCommitVerification.signer", "nil for an unsigned commit",
            "services/asymkey/commit.go ParseCommitWithSignature (no signature: Signer unset)"),
    *(Allowed("nullable", f"ContentsResponse.{f}", "nil for entries it does not apply to (a dir has no content)",
              "modules/structs/repo_file.go ContentsResponse (*string fields without omitempty)")
      for f in ("encoding", "content", "target", "download_url", "submodule_git_url")),
    # Fields Gitea omits when empty (`json:",omitempty"`), so a client must not expect them.
    *(Allowed("omitempty", f"Repository.{f}", "omitempty: absent unless set", "modules/structs/repo.go Repository")
      for f in ("parent", "external_tracker", "external_wiki", "repo_transfer")),
    *(Allowed("omitempty", f"ContentsResponse.{f}", "omitempty: absent unless the file is in LFS",
              "modules/structs/repo_file.go ContentsResponse")
      for f in ("lfs_oid", "lfs_size")),
    # An empty combined status: Gitea sends state "" (not in the enum).
    Allowed("value", "CombinedStatus.state", "no statuses at all: the zero value",
            "services/git/commit_status (CalcCommitStatus of nothing) / FACTS.md §2", ""),
    # The auth middleware answers 401 on every route, documented or not.
    Allowed("status", "401", "a missing or rejected token, before any handler runs",
            "routers/api/v1/api.go reqToken / services/auth"),
    # A directory answers a list of entries where the swagger names one ContentsResponse.
    Allowed("list", "GET /repos/{owner}/{repo}/contents/{filepath}", "a directory's entries",
            "the operation's own summary: \"... or a list of entries if a dir\" (routers/api/v1/repo/file.go GetContents)"),
)


@dataclass
class Violation:
    exchange: dict[str, Any]
    what: str

    def __str__(self) -> str:
        e = self.exchange
        return f"{e.get('method')} {e.get('path')} → {e.get('status')}: {self.what}"


@dataclass
class Report:
    checked: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # lab plumbing (git, web pages)
    violations: list[Violation] = field(default_factory=list)
    operations: dict[str, set[int]] = field(default_factory=dict)  # "GET /repos/..." → statuses seen


class GiteaContract:
    def __init__(self, spec_path: Path = SPEC, allowed: Iterable[Allowed] = ALLOWED) -> None:
        self.spec = json.loads(Path(spec_path).read_text())
        self.base = self.spec.get("basePath", "/api/v1")
        self.allowed = tuple(allowed)
        self.extra_statuses = {a.where for a in self.allowed if a.kind == "status"}
        self.list_too = {a.where for a in self.allowed if a.kind == "list"}
        self.definitions = self._strict(self.spec["definitions"])
        self.request_definitions = self._closed(self.spec["definitions"])
        self._routes = self._compile(self.spec["paths"])

    # -- the strict view of the definitions ---------------------------------------------------
    @staticmethod
    def _closed(definitions: dict[str, Any]) -> dict[str, Any]:
        """For request bodies: the spec's own ``required``, but no field the spec does not name."""
        defs = copy.deepcopy(definitions)
        for schema in defs.values():
            if schema.get("type") == "object" and isinstance(schema.get("properties"), dict):
                schema["additionalProperties"] = False
                schema["properties"] = {k: _swagger_to_draft4(v) for k, v in schema["properties"].items()}
        return defs

    def _strict(self, definitions: dict[str, Any]) -> dict[str, Any]:
        defs = copy.deepcopy(definitions)
        by_kind: dict[str, set[str]] = {}
        for a in self.allowed:
            by_kind.setdefault(a.kind, set()).add(a.where)
        for name, schema in defs.items():
            props = schema.get("properties")
            if schema.get("type") != "object" or not isinstance(props, dict):
                continue
            schema["required"] = sorted(p for p in props if f"{name}.{p}" not in by_kind.get("omitempty", ()))
            schema["additionalProperties"] = False
            for prop, sub in props.items():
                where = f"{name}.{prop}"
                extra = [a.value for a in self.allowed if a.kind == "value" and a.where == where]
                if sub.get("x-nullable") or where in by_kind.get("nullable", ()):
                    extra.append(None)
                if extra:
                    props[prop] = {"anyOf": [_swagger_to_draft4(sub), {"enum": extra}]}
                else:
                    props[prop] = _swagger_to_draft4(sub)
        return defs

    # -- routing ------------------------------------------------------------------------------
    # Parameters whose values may hold slashes: file paths, branch names, refs, "base...head".
    SLASHED = frozenset({"filepath", "branch", "ref", "basehead", "sha"})

    def _compile(self, paths: dict[str, Any]) -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
        routes = []
        for template, item in paths.items():
            parts = re.split(r"(\{[^}]+\})", template)
            pattern = "".join((".+" if p[1:-1] in self.SLASHED else "[^/]+") if p.startswith("{") else re.escape(p)
                              for p in parts)
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            routes.append((re.compile(f"^{pattern}$"), template, item, literal))
        # The most literal template first (…/pulls/{index}/merge before …/pulls/{base}/{head}).
        routes.sort(key=lambda r: -r[3])
        return [(rx, tpl, item) for rx, tpl, item, _l in routes]

    def route(self, path: str) -> tuple[str, dict[str, Any]] | None:
        sub = path[len(self.base):] if path.startswith(self.base) else path
        for rx, template, item in self._routes:
            if rx.match(sub):
                return template, item
        return None

    # -- checking -----------------------------------------------------------------------------
    def _validate(self, schema: dict[str, Any], instance: Any, *, request: bool = False) -> list[str]:
        root = {**_swagger_to_draft4(schema),
                "definitions": self.request_definitions if request else self.definitions}
        out = []
        for err in Draft4Validator(root).iter_errors(instance):
            for leaf in _leaves(err):
                where = "/".join(str(p) for p in leaf.absolute_path) or "(body)"
                out.append(f"{where}: {leaf.message[:220]}")
        return out

    def check(self, exchange: dict[str, Any]) -> list[str]:
        """The violations of one recorded exchange (empty when it keeps the contract)."""
        found = self.route(exchange["path"])
        if found is None:
            return ["no such path in the swagger"]
        template, item = found
        op = item.get(exchange["method"].lower())
        if op is None and exchange["method"] == "HEAD":
            op = item.get("get")
        if op is None:
            return [f"method {exchange['method']} not in the swagger for {template}"]
        errors = []
        params = op.get("parameters", []) + item.get("parameters", [])
        declared = {p["name"]: p for p in params if p.get("in") == "query"}
        for name, values in (exchange.get("query") or {}).items():
            if name in ("token", "access_token"):
                errors.append(f"query {name}: credentials in the URL")
                continue
            param = declared.get(name)
            if param is None:
                errors.append(f"query parameter {name!r} not declared for {exchange['method']} {template}")
                continue
            for value in values:
                errors += [f"query {name}={value!r}: {e}" for e in _check_query(param, value)]
        body = next((p for p in params if p.get("in") == "body"), None)
        if body is not None and exchange.get("request") is not None:
            errors += [f"request {e}" for e in self._validate(body["schema"], exchange["request"], request=True)]
        elif body is None and exchange.get("request") not in (None, {}):
            errors.append("a request body where the swagger takes none")
        status = int(exchange["status"])
        responses = op.get("responses", {})
        spec_resp = responses.get(str(status)) or responses.get("default")
        if spec_resp is None:
            if not {str(status), f"{exchange['method']} {template} {status}"} & self.extra_statuses:
                errors.append(f"status {status} not documented (documented: {', '.join(sorted(responses))})")
            return errors
        if "$ref" in spec_resp:
            spec_resp = self.spec["responses"][spec_resp["$ref"].rsplit("/", 1)[1]]
        schema = spec_resp.get("schema")
        response = exchange.get("response")
        if schema is not None and schema.get("type") != "file" and status < 300:
            if isinstance(response, dict) and ("_bytes" in response or "_not_json" in response):
                errors.append("a non-JSON body where the swagger has a schema")
            else:
                if isinstance(response, list) and f"{exchange['method']} {template}" in self.list_too:
                    schema = {"type": "array", "items": schema}
                errors += [f"response {e}" for e in self._validate(schema, response)]
        return errors

    def check_all(self, exchanges: Iterable[dict[str, Any]]) -> Report:
        report = Report()
        for ex in exchanges:
            if ex.get("kind") != "api":
                report.skipped.append(ex)
                continue
            report.checked += 1
            found = self.route(ex["path"])
            key = f"{ex['method']} {found[0] if found else ex['path']}"
            report.operations.setdefault(key, set()).add(int(ex["status"]))
            report.violations += [Violation(ex, what) for what in self.check(ex)]
        return report


def _leaves(err: Any) -> list[Any]:
    """The most specific errors under an anyOf/oneOf (the nullable wrappers)."""
    if err.context:
        best = [c for c in err.context if c.validator != "enum" or "None" not in c.message]
        return [leaf for c in (best or err.context) for leaf in _leaves(c)]
    return [err]


def _swagger_to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """Swagger 2.0 → Draft 4: drop the vendor keys and ``type: file`` (binary bodies)."""
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if not k.startswith("x-") and k not in ("example", "discriminator")}
    if out.get("type") == "file":
        return {}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _swagger_to_draft4(out[key])
    return out


def _check_query(param: dict[str, Any], value: str) -> list[str]:
    kind = param.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return ["not an integer"]
    if kind == "boolean" and value not in ("true", "false", "1", "0"):
        return ["not a boolean"]
    if "enum" in param and value not in [str(v) for v in param["enum"]]:
        return [f"not one of {param['enum']}"]
    if kind == "array":
        allowed = (param.get("items") or {}).get("enum")
        if allowed and any(v not in allowed for v in value.split(",")):
            return [f"not among {allowed}"]
    return []


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
