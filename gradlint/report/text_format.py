"""`path:row:col: GL202 message`, the source line with a caret under the span, then a summary."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import click

from gradlint import catalog


@lru_cache(maxsize=256)
def source_lines(path: str) -> tuple[str, ...]:
    from gradlint.engine import read_lines

    return read_lines(path)


@lru_cache(maxsize=64)
def cell_lines(path: str, cell: int) -> tuple[str, ...]:
    from gradlint import notebook

    try:
        book = notebook.load(open(path, "rb").read())
    except (OSError, notebook.NotebookError):
        return ()
    return tuple(book.cell_sources.get(cell, ()))


def _style(text: str, color: bool, **style) -> str:
    return click.style(text, **style) if color else text


def render_one(finding, color: bool, show_source: bool) -> str:
    span = finding.span
    where = finding.where[len(finding.path):]
    head = (
        f"{_style(finding.path, color, bold=True)}{where}: "
        f"{_style(finding.code, color, fg='red', bold=True)} {finding.message}"
    )
    if not show_source:
        lines = ()
    elif finding.cell is not None:
        lines = cell_lines(finding.path, finding.cell)
    else:
        lines = source_lines(finding.path)
    if not lines or not 1 <= span.row <= len(lines):
        return head
    line = lines[span.row - 1].expandtabs(1)
    start = min(span.column - 1, len(line))
    end = span.end_column - 1 if span.end_row == span.row else len(line)
    width = max(1, min(end, len(line)) - start)
    gutter = str(span.row)
    pad = " " * len(gutter)
    marker = _style("^" * width, color, fg="red", bold=True)
    return f"{head}\n {gutter} | {line}\n {pad} | {' ' * start}{marker}"


def summary(findings, errors: int = 0) -> str:
    """The last line; with internal errors it says so (the run exits 2), never "All checks passed!"."""
    failed = f"{errors} internal error{'s' * (errors != 1)} (see stderr): not every file was fully checked."
    if not findings:
        return f"No findings, but {failed}" if errors else "All checks passed!"
    counts = Counter(f.code for f in findings)
    parts = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    noun = "finding" if len(findings) == 1 else "findings"
    return f"Found {len(findings)} {noun} ({parts})." + (f" And {failed}" if errors else "")


def statistics(findings) -> str:
    counts = Counter(f.code for f in findings)
    rows = []
    for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = catalog.get(code)
        rows.append(f"{n:>5}\t{code}\t{rule.name if rule else ''}")
    return "\n".join(rows)


def render(findings, context) -> str:
    blocks = [render_one(f, context.color, context.show_source) for f in findings]
    return "\n".join([*blocks, summary(findings, context.errors)]) + "\n"
