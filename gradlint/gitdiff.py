"""`--diff-since REV`: the findings that are new relative to a git revision.

Every file that changed since REV (`git diff -M REV`: committed, staged and unstaged changes; renames
followed) is linted twice — as it is, and as it was at REV, read from git in memory — and a finding is
reported only when the REV run has no match for it. Findings are matched as the baseline matches them
(code, file, a hash of the flagged line and its two neighbours, occurrence index), so a finding that
only moved is not new, while one caused by a change elsewhere (an argparse default changed on another
line, a clip_grad_norm_ line deleted) is. Files git does not track, or that REV did not have, are new
from top to bottom. `REV...` means "since the merge base of REV and HEAD", what a pull request changed
even when REV moved on. Paths are resolved to absolute paths, so any folder of the repository works.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gradlint.finding import Finding


class GitDiffError(Exception):
    """Not a git repository, an unknown revision, or git missing; the message says which."""


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args], cwd=cwd, capture_output=True, check=False,
        )
    except OSError as exc:
        raise GitDiffError(f"--diff-since needs git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitDiffError(message[0] if message else f"git {args[0]} failed")
    return done.stdout.decode("utf-8", "surrogateescape")


def _base(rev: str, cwd: Path) -> tuple[Path, str]:
    """(the repository's top folder, the commit `rev` names; REV... → the merge base with HEAD)."""
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    except GitDiffError:
        raise GitDiffError(f"--diff-since needs a git repository, and {cwd} is not inside one") from None
    if rev.startswith("-") or not rev.strip():
        raise GitDiffError(f"--diff-since: unknown git revision {rev!r}")
    base = rev
    if rev.endswith("..."):
        try:
            base = _git(["merge-base", rev[:-3] or "HEAD", "HEAD"], top).strip()
        except GitDiffError:
            raise GitDiffError(f"--diff-since: no merge base between {rev[:-3]!r} and HEAD") from None
    try:
        base = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}"], top).strip()
    except GitDiffError:
        raise GitDiffError(f"--diff-since: unknown git revision {rev!r}") from None
    return top, base


def _untracked(top: Path) -> list[str]:
    return list(filter(None, _git(["ls-files", "-z", "--others", "--exclude-standard"], top).split("\0")))


def revision_sources(rev: str, cwd: Path | None = None) -> dict[Path, bytes | None]:
    """Every file that differs from `rev` in the working tree: absolute path now → its bytes at `rev`
    (under its old name, if it was renamed), or None when `rev` did not have it (added, untracked).
    A file not in the map is the same as at `rev`."""
    top, base = _base(rev, cwd or Path.cwd())
    status = _git(["diff", "--name-status", "-z", "-M", "--no-color", "--no-ext-diff", base, "--"], top)
    fields = status.split("\0")
    old_of: dict[Path, str | None] = {}
    i = 0
    while i < len(fields) and fields[i]:
        kind = fields[i][:1]
        if kind in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        if kind == "D":
            continue
        old_of[(top / new).resolve()] = None if kind == "A" else old
    for path in _untracked(top):
        old_of[(top / path).resolve()] = None
    wanted = [(path, old) for path, old in old_of.items() if old is not None]
    blobs = _blobs(top, base, [old for _, old in wanted])
    result: dict[Path, bytes | None] = {path: None for path, old in old_of.items() if old is None}
    for (path, _), data in zip(wanted, blobs):
        result[path] = data
    return result


def _blobs(top: Path, base: str, paths: list[str]) -> list[bytes | None]:
    """The contents of `paths` at commit `base`, in one `git cat-file --batch` (None: not a blob there)."""
    if not paths:
        return []
    request = "".join(f"{base}:{path}\n" for path in paths).encode("utf-8", "surrogateescape")
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=top, input=request, capture_output=True, check=False)
    except OSError as exc:
        raise GitDiffError(f"--diff-since needs git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise GitDiffError(f"git cat-file failed: {done.stderr.decode('utf-8', 'replace').strip()[:200]}")
    out, at, blobs = done.stdout, 0, []
    for _ in paths:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            blobs.append(out[at : at + size])
            at += size + 1
        elif len(header) == 3:  # a tree or commit (a submodule): skip its body
            at += int(header[2]) + 1
            blobs.append(None)
        else:  # "<object> missing"
            blobs.append(None)
    return blobs


def new_findings(findings: list[Finding], before: list[Finding], sources: dict[Path, bytes | None]) -> list[Finding]:
    """The findings with no match among `before` (the same files linted as they were at the revision).

    Matched as the baseline matches — code, path, a hash of the flagged line and its two neighbours,
    occurrence index — and what is left over once more on the flagged line alone, so that a line added
    or edited next to an old finding does not make it new. Line numbers never count."""
    from collections import Counter

    from gradlint import baseline

    def old_bytes(path: str) -> bytes | None:
        return sources.get(Path(path).resolve())

    before_keys = baseline.keys(before, neighbours=1, bytes_of=old_bytes)
    known = set(before_keys)
    now = baseline.keys(findings, neighbours=1)
    current = set(now)
    unmatched_before = [f for f, key in zip(before, before_keys) if key not in current]
    left = [(f, key) for f, key in zip(findings, now) if key not in known]
    if not left:
        return []
    spare = Counter(key[:3] for key in baseline.keys(unmatched_before, neighbours=0, bytes_of=old_bytes))
    new = []
    for (finding, _), key in zip(left, baseline.keys([f for f, _ in left], neighbours=0)):
        if spare[key[:3]] > 0:
            spare[key[:3]] -= 1  # the same flagged line as an old finding of that code: it only moved
        else:
            new.append(finding)
    return new


