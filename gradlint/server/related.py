"""A diagnostic's related locations: the places its message names.

"line 12" (the `--lr` default, the loop) is a line of the same file, "cell 3, line 2" a line of that
cell; in a cross-file finding's evidence, "Seq2Seq (model.py)" is that class's line in the project file
the index read it from, and "Net.forward returns F.softmax(x) (model.py:41)" line 41 of Net's file."""

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
        place = _other_file(name, filename, None, index, units)
        if place is not None:
            out.append(types.DiagnosticRelatedInformation(place, f"class {name} ({filename})"))
    for name, filename, row in convert.file_line_references(finding.message):
        place = _other_file(name, filename, row, index, units)
        if place is not None:
            out.append(types.DiagnosticRelatedInformation(place, f"{filename}:{row}"))
    return out


def _whole_line(lines: list[str], row: int, units) -> types.Range:
    return convert.text_range(lines, (row, 1), (row, len(lines[row - 1]) + 1), units)


def _other_file(name: str, filename: str, row: int | None, index, units) -> types.Location | None:
    """Line `row` (None: the `class name` line) of the project file called `filename` that the index says
    builds class `name`."""
    for path, entry in list(index.entries.items()):
        if path.name != filename or name not in entry.classes:
            continue
        text = index.text_of(path)
        if text is None:
            continue
        line = row
        if line is None:
            match = re.search(rf"^[ \t]*class[ \t]+{re.escape(name)}\b", text, re.M)
            if match is None:
                continue
            line = len(LINE_BREAK.findall(text, 0, match.start())) + 1
        lines = LINE_BREAK.split(text)
        if 1 <= line <= len(lines):
            return types.Location(from_fs_path(str(path)), _whole_line(lines, line, units))
    return None
