"""GL001 — a suppression comment (`# noqa: GL202`, `# gradlint: ignore[GL202]`) that silences nothing.

It needs every other check's findings before suppression, so the engine runs `unused()` after them
(check() itself yields nothing). Only gradlint's own codes are judged, and only codes that were checked
on the file: a `# noqa: E501` belongs to another tool, and a code that is not selected (or dropped by
per-file-ignores, or quiet in test code) may silence something in another configuration. Bare
`# noqa` and `# gradlint: ignore` are left alone: they may be meant for another tool or for any code.
"""

from __future__ import annotations

import io
import tokenize

from gradlint.finding import Edit, Finding, Fix, Span
from gradlint.suppress import _CODE, _IGNORE, _NOQA

CODE = "GL001"


def check(facts, settings):
    """Nothing here: see the module docstring (the engine calls `unused`)."""
    return iter(())


def might_have_directives(text: str) -> bool:
    lowered = text.lower()
    return "noqa" in lowered or "gradlint:" in lowered


def unused(path: str, text: str, findings: list[Finding], checked: frozenset[str]) -> list[Finding]:
    """GL001 findings for the directives in `text` that silence none of `findings` (all findings of the
    `checked` codes, before suppression)."""
    from gradlint import catalog

    if not might_have_directives(text):
        return []
    known = catalog.all_rules()
    used: dict[int, set[str]] = {}
    for finding in findings:
        for row in finding.suppress_rows or (finding.span.row,):
            used.setdefault(row, set()).add(finding.code)
    found = []
    lines = text.splitlines()
    for row, column, comment in _comments(text):
        line = lines[row - 1] if row <= len(lines) else ""
        for pattern, form in ((_NOQA, "noqa"), (_IGNORE, "ignore")):
            for match in pattern.finditer(comment):
                listed = match.group("codes")
                if not listed:
                    continue  # bare: another tool's, or every code's
                codes = [c.upper() for c in _CODE.findall(listed)]
                if CODE in codes:
                    continue  # `# noqa: GL001` keeps its line's directives as they are
                stale = [c for c in codes if c.startswith("GL") and (
                    c not in known or (c in checked and c not in used.get(row, ())))]
                if stale:
                    found.append(_finding(path, row, column, line, comment, match, form, codes, stale, known))
    return found


def _comments(text: str):
    """(row, 0-based column, text) of every comment; none after a point tokenize cannot pass."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.start[1], token.string
    except (tokenize.TokenError, SyntaxError):
        return


def _finding(path, row, column, line, comment, match, form, codes, stale, known) -> Finding:
    start, end = column + match.start() + 1, column + match.end() + 1
    directive = match.group(0)
    unknown = [c for c in stale if c not in known]
    kept = [c for c in codes if c not in stale]
    what = ", ".join(stale)
    if unknown:
        why = f"unknown rule code{'s' * (len(unknown) > 1)} {', '.join(unknown)}"
    else:
        why = f"no {what} finding on this line"
    message = f"`{directive.strip()}` silences nothing ({why}); remove {'it' if not kept else what}"
    if kept:
        content = ("# noqa: " if form == "noqa" else "# gradlint: ignore[") + ", ".join(kept) + ("" if form == "noqa" else "]")
        edit = Edit(content, (row, start), (row, end))
        label = f"Remove {what}"
    elif comment.strip() == directive.strip():
        before = line[:column]
        if not before.strip():  # a comment line of its own: the whole line goes
            edit = Edit("", (row, 1), (row + 1, 1))
        else:  # after code: the comment and the blanks before it
            edit = Edit("", (row, len(before.rstrip()) + 1), (row, column + len(comment) + 1))
        label = "Remove the unused suppression comment"
    else:
        edit = Edit("", (row, start), (row, end))
        label = "Remove the unused directive"
    return Finding(CODE, message[:160], path, Span(row, start, row, end), fix=Fix("safe", label, (edit,)),
                   suppress_rows=(row,))

