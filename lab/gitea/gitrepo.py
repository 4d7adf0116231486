# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""One bare git repository, read and written with git plumbing only (no work tree).

Everything the lab Gitea says about content (SHAs, branches, files, diffs) comes from here, so
the SHAs a check reads through the API are the SHAs a `git clone` of the same repo shows.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
HEX = re.compile(r"^[0-9a-f]{4,40}$")
# A ref name we are willing to hand to git: no option-looking or revision-syntax names.
SAFE_REF = re.compile(r"^(?!-)[A-Za-z0-9._/+@-]+$")


class GitError(Exception):
    pass


@dataclass
class Ident:
    name: str
    email: str
    date: str | None = None  # git date format, e.g. "2025-01-02T03:04:05+00:00"


@dataclass
class TreeEntry:
    mode: str
    type: str  # blob | tree | commit
    sha: str
    size: int
    path: str


class GitRepo:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # -- plumbing -------------------------------------------------------------------------------
    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
        full_env = {**os.environ, "GIT_DIR": str(self.path), "GIT_TERMINAL_PROMPT": "0",
                    "LC_ALL": "C", **(env or {})}
        proc = subprocess.run(["git", *args], input=input, env=full_env, capture_output=True,
                              check=False)
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc

    def out(self, *args: str, **kw: object) -> str:
        return self.run(*args, **kw).stdout.decode(errors="replace").strip()  # type: ignore[arg-type]

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    def init(self, default_branch: str = "main") -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--bare", "-q", f"--initial-branch={default_branch}",
                        str(self.path)], check=True, capture_output=True)
        # Served over smart HTTP; the server itself decides who may push.
        self.run("config", "http.receivepack", "true")
        self.run("config", "receive.denyNonFastForwards", "false")

    # -- refs -----------------------------------------------------------------------------------
    def resolve(self, ref: str) -> str | None:
        """Full commit SHA for a branch, tag or (short) SHA; None when unknown."""
        if not ref or not SAFE_REF.match(ref):
            return None
        candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
        if HEX.match(ref) or ref.startswith("refs/"):
            candidates.append(ref)
        for cand in candidates:
            proc = self.run("rev-parse", "--verify", "--quiet", f"{cand}^{{commit}}", check=False)
            if proc.returncode == 0:
                return proc.stdout.decode().strip()
        return None

    def branch_sha(self, name: str) -> str | None:
        if not SAFE_REF.match(name or ""):
            return None
        proc = self.run("rev-parse", "--verify", "--quiet", f"refs/heads/{name}^{{commit}}", check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def is_branch(self, name: str) -> bool:
        return self.branch_sha(name) is not None

    def is_tag(self, name: str) -> bool:
        return bool(SAFE_REF.match(name or "")) and self.run(
            "rev-parse", "--verify", "--quiet", f"refs/tags/{name}", check=False).returncode == 0

    def _refs(self, prefix: str) -> list[tuple[str, str]]:
        text = self.out("for-each-ref", "--format=%(refname:short) %(objectname) %(*objectname)",
                        "--sort=refname", prefix)
        items = []
        for line in text.splitlines():
            parts = line.split()
            # Annotated tags: the peeled object (third column) is the commit.
            items.append((parts[0], parts[2] if len(parts) > 2 else parts[1]))
        return items

    def branches(self) -> list[tuple[str, str]]:
        return self._refs("refs/heads/")

    def tags(self) -> list[tuple[str, str]]:
        return self._refs("refs/tags/")

    def set_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        args = ["update-ref", ref, sha] + ([old] if old is not None else [])
        self.run(*args)

    def create_branch(self, name: str, sha: str) -> None:
        # The all-zero old value makes update-ref refuse to overwrite an existing branch.
        self.set_ref(f"refs/heads/{name}", sha, "0" * 40)

    def delete_branch(self, name: str) -> None:
        self.run("update-ref", "-d", f"refs/heads/{name}")

    def head_branch(self) -> str:
        return self.out("symbolic-ref", "--short", "HEAD")

    # -- objects --------------------------------------------------------------------------------
    def commit(self, sha: str) -> dict[str, object]:
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        raw = self.run("show", "-s", f"--format={fmt}", sha).stdout.decode(errors="replace")
        f = raw.split("\x00")
        return {"sha": f[0], "tree": f[1], "parents": f[2].split(), "author": Ident(f[3], f[4], f[5]),
                "committer": Ident(f[6], f[7], f[8]), "message": f[9].rstrip("\n") + "\n"}

    def entry(self, commit: str, path: str) -> TreeEntry | None:
        path = path.strip("/")
        if not path:
            tree = self.out("rev-parse", f"{commit}^{{tree}}")
            return TreeEntry("040000", "tree", tree, 0, "")
        proc = self.run("ls-tree", "-l", "--full-tree", commit, "--", path, check=False)
        line = proc.stdout.decode(errors="replace").strip()
        if proc.returncode != 0 or not line:
            return None
        meta, name = line.split("\t", 1)
        mode, typ, sha, size = meta.split()
        return TreeEntry(mode, typ, sha, int(size) if size.isdigit() else 0, name)

    def list_dir(self, commit: str, path: str) -> list[TreeEntry]:
        path = path.strip("/")
        spec = [f"{path}/"] if path else []
        text = self.out("ls-tree", "-l", "--full-tree", commit, "--", *spec)
        out = []
        for line in text.splitlines():
            meta, name = line.split("\t", 1)
            mode, typ, sha, size = meta.split()
            out.append(TreeEntry(mode, typ, sha, int(size) if size.isdigit() else 0, name))
        return out

    def blob(self, sha: str) -> bytes:
        return self.run("cat-file", "blob", sha).stdout

    def last_commit_for(self, commit: str, path: str) -> str:
        return self.out("log", "-1", "--format=%H", commit, "--", path) or commit

    # -- history and diffs ----------------------------------------------------------------------
    def rev_list(self, base: str, head: str) -> list[str]:
        """Commits in head not in base, newest first."""
        return self.out("rev-list", f"{base}..{head}").split()

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.run("merge-base", a, b, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0

    def diff_files(self, base: str, head: str) -> list[dict[str, object]]:
        """Changed files between two commits: status, additions, deletions (binary counts as 0)."""
        status = {}
        raw = self.run("diff", "--no-renames", "--name-status", "-z", base, head).stdout.decode(errors="replace")
        parts = [p for p in raw.split("\x00") if p]
        for code, name in zip(parts[0::2], parts[1::2]):
            status[name] = {"A": "added", "D": "deleted"}.get(code[:1], "changed")
        raw = self.run("diff", "--no-renames", "--numstat", "-z", base, head).stdout.decode(errors="replace")
        files = []
        for rec in [p for p in raw.split("\x00") if p]:
            add, dele, name = rec.split("\t", 2)
            files.append({"filename": name, "status": status.get(name, "changed"),
                          "additions": int(add) if add.isdigit() else 0,
                          "deletions": int(dele) if dele.isdigit() else 0})
        return files

    def mergeable(self, base: str, head: str) -> bool:
        # git >= 2.38: a real three-way merge in memory; exit 1 means conflicts.
        return self.run("merge-tree", "--write-tree", base, head, check=False).returncode == 0

    # -- writing --------------------------------------------------------------------------------
    def merge_commit(self, base: str, head: str, message: str, who: Ident) -> str:
        """A two-parent merge commit of ``head`` into ``base`` (what Gitea's merge style "merge"
        makes: ``git merge --no-ff``); the caller moves the branch. GitError on conflicts."""
        proc = self.run("merge-tree", "--write-tree", base, head, check=False)
        if proc.returncode != 0:
            raise GitError(f"merge of {head[:10]} into {base[:10]} conflicts")
        tree = proc.stdout.decode().split()[0]
        env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
               "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
        return self.run("commit-tree", tree, "-p", base, "-p", head, input=message.encode(),
                        env=env).stdout.decode().strip()

    def commit_file(self, parent: str | None, path: str, content: bytes | None, message: str,
                    author: Ident, committer: Ident | None = None) -> str:
        """A new commit on top of ``parent`` with ``path`` set to ``content`` (None deletes it).

        Built with a temporary index so the bare repo never needs a work tree."""
        committer = committer or author
        with tempfile.TemporaryDirectory(prefix="lab-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.run("read-tree", parent, env=env)
            else:
                self.run("read-tree", "--empty", env=env)
            if content is None:
                self.run("update-index", "--force-remove", "--", path, env=env)
            else:
                blob = self.run("hash-object", "-w", "--stdin", input=content).stdout.decode().strip()
                self.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self.out("write-tree", env=env)
        ident_env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
                     "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email}
        if author.date:
            ident_env["GIT_AUTHOR_DATE"] = author.date
        if committer.date:
            ident_env["GIT_COMMITTER_DATE"] = committer.date
        args = ["commit-tree", tree] + (["-p", parent] if parent else [])
        return self.run(*args, input=message.encode(), env=ident_env).stdout.decode().strip()
