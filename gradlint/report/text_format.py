"""`path:row:col: GL202 [*] message`, the source line with a caret under the span and the rule's name,
then a summary (the `full` format, also called `text`). `[*]`: `--fix` would fix it."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import click

from gradlint import catalog


@lru_cache(maxsize=256)
def source_lines(path: str) -> tuple[str, ...]:
    from gradlint.engine import read_lines

    return read_lines(path)


def cell_lines(path: str, cell: int) -> tuple[str, ...]:
    return tuple(_cell_sources(path).get(cell, ()))


@lru_cache(maxsize=16)
def _cell_sources(path: str) -> dict[int, list[str]]:
    """Each notebook is read and split into cells once per report, however many of its cells have findings."""
    from gradlint import notebook

    try:
        return notebook.load(open(path, "rb").read()).cell_sources
    except (OSError, notebook.NotebookError):
        return {}


def _style(text: str, color: bool, **style) -> str:
    return click.style(text, **style) if color else text


def head(finding, color: bool = False, unsafe: bool = False) -> str:
    """`path:row:col: GL202 [*] message`, the one line of the concise format."""
    from gradlint.report import applicable

    where = finding.where[len(finding.path):]
    marker = " [*]" if applicable(finding.fix, unsafe) else ""
    return (
        f"{_style(finding.path, color, bold=True)}{where}: "
        f"{_style(finding.code, color, fg='red', bold=True)}{_style(marker, color, fg='cyan')} {finding.message}"
    )


def render_one(finding, color: bool, show_source: bool, unsafe: bool = False) -> str:
    span = finding.span
    first = head(finding, color, unsafe)
    rule = catalog.get(finding.code)
    tail = f"\n {' ' * len(str(span.row))} = {rule.name}" + (f" · fix: {finding.fix.message}" if finding.fix else "") \
        if rule is not None and show_source else ""
    if not show_source:
        lines = ()
    elif finding.cell is not None:
        lines = cell_lines(finding.path, finding.cell)
    else:
        lines = source_lines(finding.path)
    if not lines or not 1 <= span.row <= len(lines):
        return first + tail
    line = lines[span.row - 1].expandtabs(1)
    start = min(span.column - 1, len(line))
    end = span.end_column - 1 if span.end_row == span.row else len(line)
    width = max(1, min(end, len(line)) - start)
    gutter = str(span.row)
    pad = " " * len(gutter)
    marker = _style("^" * width, color, fg="red", bold=True)
    return f"{first}\n {gutter} | {line}\n {pad} | {' ' * start}{marker}{tail}"


def summary(findings, errors: int = 0, unsafe: bool = False) -> str:
    """The last line(s); with internal errors it says so (the run exits 2), never "All checks passed!"."""
    from gradlint.report import applicable

    failed = f"{errors} internal error{'s' * (errors != 1)} (see stderr): not every file was fully checked."
    if not findings:
        return f"No findings, but {failed}" if errors else "All checks passed!"
    counts = Counter(f.code for f in findings)
    parts = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    noun = "finding" if len(findings) == 1 else "findings"
    text = f"Found {len(findings)} {noun} ({parts})." + (f" And {failed}" if errors else "")
    fixable = sum(1 for f in findings if applicable(f.fix, unsafe))
    hidden = sum(1 for f in findings if not applicable(f.fix, unsafe) and applicable(f.fix, True))
    if fixable:
        text += f"\n[*] {fixable} fixable with the `--fix` option."
    if hidden:
        text += f"\n({hidden} hidden fix{'es' * (hidden != 1)} can be enabled with the `--unsafe-fixes` option.)"
    return text


def statistics_rows(findings, unsafe: bool = False) -> list[dict]:
    """One row per rule with findings, most findings first: code, name, count, fixable (`--fix` would fix some)."""
    from gradlint.report import applicable

    counts = Counter(f.code for f in findings)
    rows = []
    for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = catalog.get(code)
        fixable = any(applicable(f.fix, unsafe) for f in findings if f.code == code)
        rows.append({"code": code, "name": rule.name if rule else "", "count": n, "fixable": fixable})
    return rows


def statistics(findings, unsafe: bool = False) -> str:
    return "\n".join(f"{row['count']:>5}\t{row['code']}\t{'[*] ' if row['fixable'] else ''}{row['name']}"
                     for row in statistics_rows(findings, unsafe))


def render(findings, context) -> str:
    blocks = [render_one(f, context.color, context.show_source, context.unsafe_fixes) for f in findings]
    return "\n".join([*blocks, summary(findings, context.errors, context.unsafe_fixes)]) + "\n"
