"""Findings → LSP diagnostics, and back: positions, severities, rule links, related locations.

gradlint counts rows and columns from 1 in code points; LSP from 0 in the negotiated units (UTF-16 unless
the client chose otherwise), so each conversion takes the document's lines and a `units(text)` function.
"""

from __future__ import annotations

import re
from typing import Callable

from lsprotocol import types

from gradlint import catalog
from gradlint.finding import Finding

Units = Callable[[str], int]
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
# "line 12" (this file), "cell 5, line 2" (a notebook): the places a message points the reader to.
_LINE_REFERENCE = re.compile(r"\b(?:cell (\d+), )?line (\d+)\b")
# "Seq2Seq (model.py)": a class of another file that the evidence of a cross-file finding names.
_CLASS_REFERENCE = re.compile(r"\b([A-Za-z_]\w*) \(([^()\s]+\.py)\)")
# "Net.forward returns F.softmax(x) (model.py:41)": a line of another file (the class's own file).
_FILE_LINE_REFERENCE = re.compile(r"\b([A-Za-z_]\w*)\.\w+ returns .*?\(([^()\s:]+\.py):(\d+)\)")


def position(lines: list[str], row: int, column: int, units: Units) -> types.Position:
    """A 1-based (row, column) in code points → an LSP position (clamped to the document)."""
    if row > len(lines):
        return types.Position(len(lines), 0) if lines else types.Position(0, 0)
    line = lines[row - 1] if row >= 1 else ""
    return types.Position(max(row - 1, 0), units(line[: max(column - 1, 0)]))


def text_range(lines: list[str], start: tuple[int, int], end: tuple[int, int], units: Units) -> types.Range:
    return types.Range(position(lines, *start, units), position(lines, *end, units))


def finding_range(finding: Finding, lines: list[str], units: Units) -> types.Range:
    span = finding.span
    return text_range(lines, (span.row, span.column), (span.end_row, span.end_column), units)


def diagnostic(finding: Finding, lines: list[str], units: Units, related=()) -> types.Diagnostic:
    rule = catalog.get(finding.code)
    return types.Diagnostic(
        range=finding_range(finding, lines, units),
        message=finding.message,
        severity=SEVERITY.get(rule.severity if rule else "error", types.DiagnosticSeverity.Error),
        code=finding.code,
        code_description=types.CodeDescription(href=rule.url) if rule else None,
        source="gradlint",
        related_information=list(related) or None,
    )


def line_references(message: str) -> list[tuple[int | None, int]]:
    """The (cell or None, line) places a message names, in order, each once."""
    found = [(int(cell) if cell else None, int(line)) for cell, line in _LINE_REFERENCE.findall(message)]
    return list(dict.fromkeys(found))


def class_references(message: str) -> list[tuple[str, str]]:
    """The (class, file name) pairs a cross-file finding's evidence names."""
    return list(dict.fromkeys(_CLASS_REFERENCE.findall(message)))


def file_line_references(message: str) -> list[tuple[str, str, int]]:
    """The (class, file name, line) places in other files that a cross-file finding's evidence names."""
    return list(dict.fromkeys((name, filename, int(row)) for name, filename, row in _FILE_LINE_REFERENCE.findall(message)))


def same_range(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character, a.end.line, a.end.character) == \
        (b.start.line, b.start.character, b.end.line, b.end.character)


def contains(outer: types.Range, point: types.Position) -> bool:
    start, end = (outer.start.line, outer.start.character), (outer.end.line, outer.end.character)
    return start <= (point.line, point.character) <= end


def overlaps(a: types.Range, b: types.Range) -> bool:
    a0, a1 = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b0, b1 = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a0 <= b1 and b0 <= a1
