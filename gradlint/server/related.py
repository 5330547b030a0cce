"""A diagnostic's related locations: the places its message names.

"line 12" (the `--lr` default, the loop) is a line of the same file, "cell 3, line 2" a line of that
cell; "Seq2Seq (model.py)" in a cross-file finding's evidence is that class's line in the project file
the index read it from."""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.uris import from_fs_path

from gradlint.engine import LINE_BREAK
from gradlint.finding import Finding
from gradlint.server import convert


def related(finding: Finding, uri: str, snapshot, index, units) -> list[types.DiagnosticRelatedInformation]:
    out = []
    cells = snapshot.cells
    for cell, row in convert.line_references(finding.message):
        target = cells[cell - 1] if cells and cell and cell <= len(cells) else uri
        if target == uri and row == finding.span.row:
            continue
        lines = LINE_BREAK.split(snapshot.texts.get(target, ""))
        if 1 <= row <= len(lines):
            out.append(types.DiagnosticRelatedInformation(
                types.Location(target, _whole_line(lines, row, units)), f"line {row}"))
    for name, filename in convert.class_references(finding.message):
        place = _class_location(name, filename, index, units)
        if place is not None:
            out.append(types.DiagnosticRelatedInformation(place, f"class {name} ({filename})"))
    return out


def _whole_line(lines: list[str], row: int, units) -> types.Range:
    return convert.text_range(lines, (row, 1), (row, len(lines[row - 1]) + 1), units)


def _class_location(name: str, filename: str, index, units) -> types.Location | None:
    """Where `class name` stands in the project file called `filename` that the index says builds it."""
    for path, entry in list(index.entries.items()):
        if path.name != filename or name not in entry.classes:
            continue
        text = index.text_of(path)
        match = re.search(rf"^[ \t]*class[ \t]+{re.escape(name)}\b", text, re.M) if text else None
        if match is None:
            continue
        row = len(LINE_BREAK.findall(text, 0, match.start())) + 1
        return types.Location(from_fs_path(str(path)), _whole_line(LINE_BREAK.split(text), row, units))
    return None
