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


def render(fmt: str, findings, context: ReportContext) -> str:
    return importlib.import_module(f"gradlint.report.{fmt}_format").render(findings, context)
