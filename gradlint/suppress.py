"""Suppression comments: `# noqa`, `# noqa: GL202,GL101`, `# gradlint: ignore[GL202]`, `# gradlint: skip-file`."""

from __future__ import annotations

import re

from gradlint.finding import Finding

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*gradlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")
_SKIP_FILE = re.compile(r"^[ \t]*#[ \t]*gradlint:[ \t]*skip-file\b", re.M)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


def skips_file(text: str) -> bool:
    return "skip-file" in text and _SKIP_FILE.search(text) is not None


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
