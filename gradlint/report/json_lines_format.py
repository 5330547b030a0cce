"""JSON Lines: one finding per line, the same object as the json format (ruff's `json-lines`)."""

from __future__ import annotations

import json

from gradlint.report.json_format import as_object


def render(findings, context) -> str:
    return "".join(json.dumps(as_object(f), ensure_ascii=False) + "\n" for f in findings)
