"""Suppression comments: `# noqa`, `# noqa: GL202,GL101`, `# gradlint: ignore[GL202]`, `# gradlint: skip-file`."""

from __future__ import annotations

import re

from gradlint.finding import Finding

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*gradlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")
_SKIP_FILE = re.compile(r"^[ \t]*#[ \t]*gradlint:[ \t]*skip-file\b", re.M)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


def skips_file(text: str) -> bool:
    """`# gradlint: skip-file` as a comment on a line of its own; the same words in a string or docstring
    do not count. The regex finds candidates cheaply; tokenize (only then) tells comments from strings."""
    if "skip-file" not in text or _SKIP_FILE.search(text) is None:
        return False
    return any(_SKIP_FILE.match(comment) for comment in _own_line_comments(text))


def _own_line_comments(text: str):
    """The comments that stand alone on their line. A file that tokenize gives up on (a syntax error) keeps
    the comments before the error; after it, where strings can no longer be told apart, every line."""
    import io
    import tokenize

    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and not token.line[:token.start[1]].strip():
                yield token.string
    except tokenize.TokenError:  # an unterminated string or bracket at the end: nothing follows it
        return
    except SyntaxError as exc:  # a dedent to no enclosing level (IndentationError), a stray character
        yield from text.splitlines()[exc.lineno or len(text):]


def silenced_codes(line: str) -> frozenset[str] | None:
    """Codes a line's comment silences; an empty set means all of them; None means none."""
    if "#" not in line:
        return None
    codes: set[str] = set()
    found = False
    for pattern in (_NOQA, _IGNORE):
        for match in pattern.finditer(line):
            found = True
            listed = match.group("codes")
            if not listed:
                return frozenset()
            codes.update(c.upper() for c in _CODE.findall(listed))
    return frozenset(codes) if found else None


def is_suppressed(finding: Finding, lines: list[str]) -> bool:
    rows = finding.suppress_rows or (finding.span.row,)
    for row in rows:
        if 1 <= row <= len(lines):
            codes = silenced_codes(lines[row - 1])
            if codes is not None and (not codes or finding.code in codes):
                return True
    return False


def add_noqa(line: str, code: str) -> str:
    """`line` with `code` silenced: an existing `# noqa: A,B` comment is extended (`# noqa: A,B,GL202`),
    else `  # noqa: GL202` is appended. A line already silenced for `code` comes back unchanged."""
    codes = silenced_codes(line)
    if codes is not None and (not codes or code in codes):
        return line
    match = next((m for m in _NOQA.finditer(line) if m.group("codes")), None)
    if match is not None:
        return f"{line[:match.end('codes')]}, {code}{line[match.end('codes'):]}"
    body = line.rstrip()
    return f"{body}  # noqa: {code}{line[len(body):]}"
