"""`path:row:col: GL202 [*] message`: one line per finding, then the summary (ruff's `concise`)."""

from __future__ import annotations

from gradlint.report.text_format import head, summary


def render(findings, context) -> str:
    lines = [head(f, context.color, context.unsafe_fixes) for f in findings]
    return "\n".join([*lines, summary(findings, context.errors, context.unsafe_fixes)]) + "\n"
