"""Where a notebook finding sits in the raw `.ipynb` file, for the CI formats.

Findings in a notebook carry their cell and cell-relative rows (`cell 4, line 3`). A pull request's diff
and a code-scanning viewer show the raw JSON file, so github, sarif, gitlab and junit place the finding
on the line of the `.ipynb` file that holds that source line: the string of the cell's "source" array in
which the line starts (nbformat writes one array element per line, each on a line of its own; a
notebook saved as one long line puts every finding on line 1). Columns are mapped through the JSON
escapes of that string, so the annotation's column range covers the same characters.

The file is scanned once per report with a small structural parser: only the path cells[i].source is
walked by hand (json.decoder.scanstring checks each string); every other value (outputs, metadata) is
skipped with the C decoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.decoder import scanstring
from pathlib import Path

from gradlint.finding import Span

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
_SIMPLE_ESCAPES = set('"\\/bfnrt')


class _Unreadable(Exception):
    pass


@dataclass(frozen=True)
class _Cell:
    """A code cell's source: the joined text, and for each of its characters the offset in the raw file."""

    text: str
    raw: tuple[int, ...]  # raw offset of each character of `text`, plus one entry: the end of the last string
    line_starts: tuple[int, ...]  # offset in `text` where each line starts (str.splitlines' notion of a line)


def cell_label(finding) -> str:
    """`cell 4, line 3`: where a notebook finding is as Jupyter shows it."""
    return f"cell {finding.cell}, line {finding.span.row}"


class RawNotebooks:
    """Maps notebook findings to raw-file spans; reads each notebook at most once (per report)."""

    def __init__(self):
        self._files: dict[str, tuple[str, dict[int, _Cell]] | None] = {}

    def span(self, finding) -> Span | None:
        """The finding's span in the raw file, or None when it is not a notebook finding or the file on disk
        no longer has that cell line (changed since, unreadable)."""
        if finding.cell is None:
            return None
        loaded = self._load(finding.path)
        if loaded is None:
            return None
        text, cells = loaded
        cell = cells.get(finding.cell)
        if cell is None:
            return None
        start = _raw_offset(cell, finding.span.row, finding.span.column)
        end = _raw_offset(cell, finding.span.end_row, finding.span.end_column)
        if start is None or end is None:
            return None
        (row, column), (end_row, end_column) = _line_column(text, start), _line_column(text, end)
        return Span(row, column, end_row, end_column)

    def _load(self, path: str):
        if path not in self._files:
            try:
                text = Path(path).read_bytes().decode("utf-8-sig")
                self._files[path] = (text, _code_cells(text))
            except (OSError, UnicodeDecodeError, ValueError, _Unreadable, RecursionError):
                self._files[path] = None
        return self._files[path]


def _raw_offset(cell: _Cell, row: int, column: int) -> int | None:
    if not 1 <= row <= len(cell.line_starts):
        return None
    line_start = cell.line_starts[row - 1]
    line_end = cell.line_starts[row] if row < len(cell.line_starts) else len(cell.text)
    content_end = line_end
    while content_end > line_start and cell.text[content_end - 1] in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
        content_end -= 1
    offset = min(line_start + max(column, 1) - 1, content_end)  # a column past the line's end: its end
    return cell.raw[offset]


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (code points) of a raw offset."""
    row = text.count("\n", 0, offset) + 1
    return row, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _code_cells(text: str) -> dict[int, _Cell]:
    """Cell index (1-based among all cells, as notebook.load counts) → its source, for every code cell."""
    cells: dict[int, _Cell] = {}

    def cell(index: int, i: int) -> int:
        if not text.startswith("{", _skip(text, i)):
            return _skip_value(text, i)
        found: dict[str, object] = {}

        def member(key: str, i: int) -> int:
            if key == "source":
                found["source"], end = _source(text, i)
                return end
            if key == "cell_type":
                found["cell_type"], end = _DECODER.raw_decode(text, i)
                return end
            return _skip_value(text, i)

        end = _object(text, i, member)
        if found.get("cell_type") == "code" and found.get("source") is not None:
            cells[index] = found["source"]
        return end

    def top(key: str, i: int) -> int:
        if key == "cells" and text.startswith("[", i):
            cells.clear()  # a repeated key: the last one wins, as in json.loads
            return _array(text, i, cell)
        return _skip_value(text, i)

    _object(text, _skip(text, 0), top)
    return cells


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _skip_value(text: str, i: int) -> int:
    try:
        _, end = _DECODER.raw_decode(text, _skip(text, i))
    except json.JSONDecodeError as exc:
        raise _Unreadable from exc
    return end


def _object(text: str, i: int, member) -> int:
    """Walk the object at i: member(key, offset of its value) consumes the value and returns its end."""
    if not text.startswith("{", i):
        raise _Unreadable
    i = _skip(text, i + 1)
    if text.startswith("}", i):
        return i + 1
    while True:
        if not text.startswith('"', i):
            raise _Unreadable
        key, i = scanstring(text, i + 1)
        i = _skip(text, i)
        if not text.startswith(":", i):
            raise _Unreadable
        i = _skip(text, member(key, _skip(text, i + 1)))
        if text.startswith("}", i):
            return i + 1
        if not text.startswith(",", i):
            raise _Unreadable
        i = _skip(text, i + 1)


def _array(text: str, i: int, element) -> int:
    """Walk the array at i: element(1-based index, offset) consumes the element and returns its end."""
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        return i + 1
    index = 0
    while True:
        index += 1
        i = _skip(text, element(index, i))
        if text.startswith("]", i):
            return i + 1
        if not text.startswith(",", i):
            raise _Unreadable
        i = _skip(text, i + 1)


def _source(text: str, i: int) -> tuple[_Cell | None, int]:
    """A cell's "source" (a string, or a list of strings) with the raw offset of every character."""
    chars: list[str] = []
    raw: list[int] = []
    strings_end = [i]

    def string(_index: int, i: int) -> int:
        if not text.startswith('"', i):
            raise _Unreadable
        end = _string(text, i, chars, raw)
        strings_end[0] = end - 1  # the closing quote: where a position just past the last character maps
        return end

    if text.startswith('"', i):
        end = string(1, i)
    elif text.startswith("[", i):
        end = _array(text, i, string)
    else:
        return None, _skip_value(text, i)
    joined = "".join(chars)
    starts, offset = [], 0
    for line in joined.splitlines(keepends=True) or [""]:
        starts.append(offset)
        offset += len(line)
    return _Cell(joined, (*raw, strings_end[0]), tuple(starts)), end


def _string(text: str, i: int, chars: list[str], raw: list[int]) -> int:
    """Decode the JSON string whose opening quote is at i, appending each character and its raw offset;
    returns the offset after the closing quote. Checked against json's own decoder."""
    expected, end = scanstring(text, i + 1)
    j, n, first = i + 1, end - 1, len(chars)
    while j < n:
        char = text[j]
        if char != "\\":
            chars.append(char)
            raw.append(j)
            j += 1
            continue
        kind = text[j + 1]
        if kind in _SIMPLE_ESCAPES:
            chars.append(json.loads(f'"\\{kind}"'))
            raw.append(j)
            j += 2
            continue
        unit = int(text[j + 2:j + 6], 16)
        if 0xD800 <= unit < 0xDC00 and text.startswith("\\u", j + 6):
            low = int(text[j + 8:j + 12], 16)
            if 0xDC00 <= low < 0xE000:
                chars.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                raw.append(j)
                j += 12
                continue
        chars.append(chr(unit))
        raw.append(j)
        j += 6
    if "".join(chars[first:]) != expected:
        raise _Unreadable
    return end
