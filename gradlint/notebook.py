"""Jupyter notebooks: code cells joined into one module, IPython syntax masked, findings mapped back.

Masking keeps every line (so rows map back one to one) and its indentation: a `%magic`, `!shell`
or `obj?` line becomes `pass`; a cell whose first line is a non-Python cell magic (`%%bash`) is
masked whole. Suppression comments keep working because the lines' text is otherwise unchanged.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, replace

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "pypy"}
_LINE_MAGIC = re.compile(r"^(\s*)(%|!|\?\??\w)")
_HELP = re.compile(r"^(\s*)[\w.\[\]()]+\?\??\s*$")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)[\w, ]+=\s*[%!]")
# Automagic (on by default): a line magic's name without the %, as in `pip install x`, when what follows
# cannot continue a Python expression.
_AUTOMAGIC = re.compile(r"^(\s*)(?:pip|conda|mamba|cd|load_ext|autoreload|matplotlib)\s+(?![\s=(\[.,:+\-*/%<>!&|^@])")
# IPython's default shell aliases (`ls -l data/`, `rm -rf out`): a command when the line is not Python too
# (`ls -l` alone is a subtraction, and stays Python).
_ALIAS = re.compile(r"^(\s*)(?:cat|cp|ldir|lf|lk|ll|ls|lx|mkdir|mv|rm|rmdir)\s+(?![\s=(\[.,:+*/%<>!&|^@])")
_LINE_REFERENCE = re.compile(r"\bline (\d+)\b")


class NotebookError(ValueError):
    """Not a notebook we can read (bad JSON, no cells)."""


@dataclass(frozen=True)
class CellLines:
    cell: int  # 1-based index among all cells, as Jupyter numbers them in the file
    first_row: int  # row of the cell's first line in the joined source
    count: int
    indent: int = 0  # columns IPython strips from an indented cell (its first line's indentation)


@dataclass(frozen=True)
class Notebook:
    source: str
    cells: tuple[CellLines, ...]
    cell_sources: dict[int, list[str]]  # cell index → its lines as written
    kernel: str | None = None  # "Python 2.7.8" when the metadata declares a Python 2 kernel, else None

    def locate(self, row: int) -> tuple[int, int] | None:
        """The (cell, row within the cell) of a row of the joined source."""
        found = self._cell_at(row)
        return (found.cell, row - found.first_row + 1) if found is not None else None

    def _cell_at(self, row: int) -> CellLines | None:
        for cell in self.cells:
            if cell.first_row <= row < cell.first_row + cell.count:
                return cell
        return None

    def map_finding(self, finding):
        where = self.locate(finding.span.row)
        if where is None:
            return finding
        cell, row = where
        end = self.locate(finding.span.end_row)
        end_row = end[1] if end and end[0] == cell else row
        indent = self._cell_at(finding.span.row).indent
        span = replace(finding.span, row=row, end_row=end_row, column=finding.span.column + indent,
                       end_column=finding.span.end_column + indent)
        message = _LINE_REFERENCE.sub(lambda m: self._describe(int(m.group(1))), finding.message)
        return replace(finding, span=span, cell=cell, message=message, suppress_rows=(),
                       fix=self._map_fix(finding.fix, cell))

    def _map_fix(self, fix, cell: int):
        """Edits in cell coordinates; a fix that would reach outside its cell is dropped."""
        if fix is None:
            return None
        edits = []
        for edit in fix.edits:
            start, end = self.locate(edit.location[0]), self.locate(edit.end_location[0])
            if start is None or end is None or start[0] != cell or end[0] != cell:
                return None
            if self._cell_at(edit.location[0]).indent:
                return None  # the edit's text would need the cell's stripped indentation back
            edits.append(replace(edit, location=(start[1], edit.location[1]), end_location=(end[1], edit.end_location[1])))
        return replace(fix, edits=tuple(edits))

    def _describe(self, row: int) -> str:
        """'line 19' of the joined source, as a reader of the notebook finds it: 'cell 5, line 2'."""
        where = self.locate(row)
        return f"cell {where[0]}, line {where[1]}" if where else f"line {row}"


def _cell_text(cell: dict, index: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotebookError(f"invalid notebook: the source of cell {index} is not a string or a list of strings")
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise NotebookError(f"invalid notebook: the source of cell {index} is not valid Unicode (a lone surrogate)") from None
    return source


def mask(lines: list[str]) -> list[str]:
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return ["pass" if i == 0 else "# " + line for i, line in enumerate(lines)]
        return ["pass", *_mask_lines(lines[1:])]
    return _mask_lines(lines)


def _mask_lines(lines: list[str]) -> list[str]:
    """Mask IPython lines; a masked line ending in a backslash continues onto the next, masked too.

    IPython reads escapes only at the start of a logical line: inside open brackets or a triple-quoted
    string, or after a backslash continuation, `%(a, b)` and `!x` are Python and stay as written."""
    out: list[str] = []
    continued = False
    state = _Open()
    for line in lines:
        if continued:
            masked = "# " + line
        elif state.inside:
            masked = line
        else:
            masked = _mask_line(line)
        continued = masked != line and line.rstrip().endswith("\\")
        if masked == line:
            state.scan(line)
        out.append(masked)
    return out


class _Open:
    """What a line leaves open for the next: bracket depth, a triple-quoted string, a backslash."""

    def __init__(self):
        self.depth = 0
        self.quote: str | None = None  # the delimiter of an open triple-quoted string
        self.backslash = False

    @property
    def inside(self) -> bool:
        return self.depth > 0 or self.quote is not None or self.backslash

    def scan(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            if self.quote is not None:
                end = line.find(self.quote, i)
                while end > 0 and _escaped(line, end):
                    end = line.find(self.quote, end + 1)
                if end < 0:
                    break
                self.quote, i = None, end + 3
                continue
            char = line[i]
            if char == "#":
                break
            if char in "\"'":
                if line.startswith(char * 3, i):
                    self.quote, i = char * 3, i + 3
                    continue
                end = i + 1
                while end < n and (line[end] != char or _escaped(line, end)):
                    end += 1
                i = end + 1
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.backslash = self.quote is None and line.endswith("\\") and not line.lstrip().startswith("#")


def _escaped(line: str, at: int) -> bool:
    """Whether the character at `at` follows an odd number of backslashes."""
    count = 0
    while at - count - 1 >= 0 and line[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def dedent_cell(lines: list[str]) -> tuple[list[str], int]:
    """IPython strips the first line's indentation from every line of a cell that starts indented."""
    first = lines[0] if lines else ""
    margin = first[: len(first) - len(first.lstrip(" \t"))]
    if not margin or not first.strip():
        return lines, 0
    return [line[len(margin):] if line.startswith(margin) else line for line in lines], len(margin)


def _mask_line(line: str) -> str:
    for pattern in (_LINE_MAGIC, _HELP, _ASSIGNED_MAGIC, _AUTOMAGIC):
        match = pattern.match(line)
        if match:
            return f"{match.group(1)}pass"
    match = _ALIAS.match(line)
    if match and not _is_python(line.strip()):
        return f"{match.group(1)}pass"
    return line


def _is_python(line: str) -> bool:
    try:
        compile(line, "<cell>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _int(digits: str):
    """JSON integers past Python's int-digit limit (a 5,000-digit execution_count) read as JavaScript does: a float."""
    return int(digits) if len(digits) <= 4000 else float(digits)


def parse_json(text: str):
    """json.loads that raises NotebookError, never ValueError or RecursionError (100k nested brackets)."""
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook: not JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"invalid notebook: unreadable JSON ({type(exc).__name__}: {str(exc)[:200]})") from None


def load(data: bytes) -> Notebook:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"invalid notebook: not JSON ({exc})") from None
    document = parse_json(text)
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("invalid notebook: no 'cells' list")
    metadata = document.get("metadata")
    info = metadata.get("language_info") if isinstance(metadata, dict) else None
    language = info.get("name", "python") if isinstance(info, dict) else "python"
    if language not in ("python", "ipython", "ipython3", ""):
        return Notebook("", (), {})
    kernel = python2_kernel(metadata) if isinstance(metadata, dict) else None
    out: list[str] = []
    spans = []
    sources = {}
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        lines = _cell_text(cell, index).splitlines() or [""]
        sources[index] = lines
        code, indent = dedent_cell(lines)
        spans.append(CellLines(index, len(out) + 1, len(lines), indent))
        out.extend(mask(code))
    return Notebook("\n".join(out) + "\n", tuple(spans), sources, kernel)


def python2_kernel(metadata: dict) -> str | None:
    """"Python 2.7.8" (or "Python 2") when the notebook says it was written for a Python 2 kernel: its
    language_info version, its pygments lexer or its kernelspec name. None for Python 3 or no word."""
    info = metadata.get("language_info")
    info = info if isinstance(info, dict) else {}
    version = info.get("version")
    if isinstance(version, str) and version.startswith("2."):
        return f"Python {version}"
    spec = metadata.get("kernelspec")
    name = spec.get("name") if isinstance(spec, dict) else None
    if info.get("pygments_lexer") == "ipython2" or name == "python2":
        return "Python 2"
    return None
