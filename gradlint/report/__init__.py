"""Reporters: one module per output format, each `render(findings, context) -> str`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportContext:
    files: tuple[str, ...]  # every linted file, in order
    color: bool = False
    show_source: bool = True
    root: str | None = None  # SARIF's %SRCROOT%: paths are reported relative to it (default: the working directory)
    errors: int = 0  # internal errors of the run (the text summary says so; the exit code is 2)
    # The internal errors themselves (engine.InternalError: path, code = the check or stage, message,
    # describe()): SARIF, JUnit and GitHub carry them in the report too, since CI reads those, not stderr.
    failures: tuple = ()
    unsafe_fixes: bool = False  # --unsafe-fixes: unsafe fixes count as applicable ([*], the footer)


# Every --output-format; `text` is `full` (source lines and carets), `concise` one line per finding.
FORMATS = ("text", "full", "concise", "json", "json-lines", "github", "sarif", "gitlab", "junit")


def render(fmt: str, findings, context: ReportContext) -> str:
    module = {"full": "text", "json-lines": "json_lines"}.get(fmt, fmt)
    return importlib.import_module(f"gradlint.report.{module}_format").render(findings, context)


def applicable(fix, unsafe: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` when `unsafe`) would apply this fix."""
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)
