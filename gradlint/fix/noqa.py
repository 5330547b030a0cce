"""`--add-noqa`: write `# noqa: GLxxx` on the line of every reported finding, as ruff's --add-noqa does.

Idempotent (a suppressed finding is no longer reported, so a second run adds nothing) and it keeps what
is there: codes already in a line's `# noqa: ...` stay and the new ones join them, other comments stay.
A line that a comment cannot end — inside a multi-line string, after a backslash continuation — is
left alone (the finding stays reported, and a warning says so), as are notebooks. The file is written
atomically and only if it still parses.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from gradlint.finding import Finding
from gradlint.suppress import _CODE, _NOQA

_BREAKS = re.compile(r"(\r\n|\r|\n)")


@dataclass
class Added:
    path: str
    directives: int  # lines that got a new or extended # noqa
    skipped: list[str]  # why some findings got none


def add_noqa(findings: list[Finding]) -> list[Added]:
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    return [_add_to_file(path, found) for path, found in by_path.items()]


def _row(finding: Finding) -> int:
    """The line the directive goes on: the finding's own, where a suppression comment silences it."""
    rows = finding.suppress_rows
    return finding.span.row if not rows or finding.span.row in rows else min(rows)


def _add_to_file(path: str, findings: list[Finding]) -> Added:
    from gradlint import engine
    from gradlint.fix import write_atomically

    if path.endswith(".ipynb") or any(f.cell is not None for f in findings):
        return Added(path, 0, [f"{path}: --add-noqa does not edit notebooks; add the comments in the cells"])
    try:
        data = Path(path).read_bytes()
        encoding = engine.source_encoding(data)
        text = engine.decode(data)
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as exc:
        return Added(path, 0, [f"{path}: cannot read it: {exc}"])
    if engine.python_verdict(path, data) is not None:
        return Added(path, 0, [f"{path}: Python rejects this file (GL000); left unchanged"])
    pieces = _BREAKS.split(text)  # line, break, line, break, ..., last line
    lines = pieces[0::2]
    inside_strings, comments = _layout(text)
    wanted: dict[int, set[str]] = {}
    skipped = []
    for finding in findings:
        row = _row(finding)
        if not 1 <= row <= len(lines) or row in inside_strings or lines[row - 1].rstrip().endswith("\\"):
            skipped.append(f"{finding.where}: {finding.code}: no comment can end that line; add the noqa by hand")
            continue
        wanted.setdefault(row, set()).add(finding.code)
    for row, codes in wanted.items():
        lines[row - 1] = _with_noqa(lines[row - 1], codes, comments.get(row))
    pieces[0::2] = lines
    new = "".join(pieces)
    if new == text:
        return Added(path, 0, skipped)
    if engine.python_verdict(path, new) is not None:
        return Added(path, 0, [f"{path}: adding the comments would not parse; left unchanged"])
    try:
        write_atomically(Path(path), new.encode(encoding))
    except (OSError, UnicodeEncodeError) as exc:
        return Added(path, 0, [f"{path}: cannot write it: {exc}"])
    return Added(path, len(wanted), skipped)


def _layout(text: str) -> tuple[set[int], dict[int, int]]:
    """(rows whose end lies inside a multi-line string, row → 0-based column of its comment)."""
    inside: set[int] = set()
    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
            elif token.start[0] != token.end[0] and token.type not in (tokenize.NL, tokenize.NEWLINE):
                if token.type == tokenize.STRING or tokenize.tok_name.get(token.type, "").startswith("FSTRING"):
                    inside.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return inside, comments


def _with_noqa(line: str, codes: set[str], comment_at: int | None) -> str:
    if comment_at is not None:
        match = _NOQA.search(line, comment_at)
        if match is not None and match.group("codes"):
            merged = sorted({c.upper() for c in _CODE.findall(match.group("codes"))} | codes)
            return f"{line[:match.start()]}# noqa: {', '.join(merged)}{line[match.end():]}"
    return f"{line.rstrip()}  # noqa: {', '.join(sorted(codes))}"
