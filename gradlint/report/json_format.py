"""A JSON array with ruff's field names, plus `name` and `severity`."""

from __future__ import annotations

import json
from pathlib import Path

from gradlint import catalog


def fix_object(fix):
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [
            {
                "content": e.content,
                "location": {"row": e.location[0], "column": e.location[1]},
                "end_location": {"row": e.end_location[0], "column": e.end_location[1]},
            }
            for e in fix.edits
        ],
    }


def as_object(finding) -> dict:
    rule = catalog.get(finding.code)
    return {
        "code": finding.code,
        "name": rule.name if rule else None,
        "severity": rule.severity if rule else "error",
        "message": finding.message,
        "filename": str(Path(finding.path).resolve()),
        "location": {"row": finding.span.row, "column": finding.span.column},
        "end_location": {"row": finding.span.end_row, "column": finding.span.end_column},
        "fix": fix_object(finding.fix),
        "url": rule.url if rule else None,
        "noqa_row": finding.span.row,
        "cell": finding.cell,  # notebooks: the 1-based cell the rows count in (null for .py files)
    }


def render(findings, context) -> str:
    return json.dumps([as_object(f) for f in findings], indent=2, ensure_ascii=False) + "\n"
