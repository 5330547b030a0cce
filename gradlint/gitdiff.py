"""`--diff-since REV`: the lines added or changed since a git revision, to keep only findings on them.

`git diff -U0 -M REV` compares REV with the working tree (committed, staged and unstaged changes);
files git does not track yet count as entirely new. `REV...` means "since the merge base of REV and
HEAD", what a pull request changed even when REV moved on. Paths come back relative to the repo root
and are resolved to absolute paths, so running from a subfolder matches the findings' paths.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from gradlint.finding import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


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


def _unquote(path: str) -> str:
    """git's C-style quoting of unusual file names ("a\\tb", octal UTF-8 bytes)."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    raw = bytearray()
    body, i = path[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                raw.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            raw.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        raw.extend(char.encode("utf-8", "surrogateescape"))
        i += 1
    return raw.decode("utf-8", "surrogateescape")


def parse_diff(diff: str) -> dict[str, set[int]]:
    """`git diff -U0` output → new-side path (relative to the repo root) → its added/changed rows."""
    changed: dict[str, set[int]] = {}
    rows: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            rows = None if target == "/dev/null" else changed.setdefault(_unquote(target)[2:], set())
        elif line.startswith("@@") and rows is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                rows.update(range(start, start + count))
    return changed


def changed_lines(rev: str, cwd: Path | None = None) -> dict[Path, set[int] | None]:
    """Absolute path → rows added or changed since `rev`; None for a file git does not track (all new)."""
    cwd = cwd or Path.cwd()
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
        _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}"], top)
    except GitDiffError:
        raise GitDiffError(f"--diff-since: unknown git revision {rev!r}") from None
    diff = _git(
        ["diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/",
         base, "--"],
        top,
    )
    result = {(top / path).resolve(): rows for path, rows in parse_diff(diff).items()}
    untracked = _git(["ls-files", "-z", "--others", "--exclude-standard"], top)
    for path in filter(None, untracked.split("\0")):
        result[(top / path).resolve()] = None
    return result


def on_changed_lines(findings: list[Finding], changed: dict[Path, set[int] | None]) -> list[Finding]:
    """The findings in an untracked file, or with a line of their span (or evidence) among the changed rows."""
    kept = []
    for finding in findings:
        path = Path(finding.path).resolve()
        if path not in changed:
            continue
        rows = changed[path]
        span_rows = range(finding.span.row, finding.span.end_row + 1)
        if rows is None or any(row in rows for row in (*span_rows, *finding.suppress_rows)):
            kept.append(finding)
    return kept
