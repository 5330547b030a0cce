"""GitLab Code Quality report: a JSON list of issues (description, check_name, fingerprint, severity, location)."""

from __future__ import annotations

import json

from gradlint import catalog
from gradlint.baseline import fingerprints
from gradlint.report.github_format import relative_path
from gradlint.report.notebook_lines import RawNotebooks, cell_label


def issue(finding, fingerprint: str, notebooks: RawNotebooks | None = None) -> dict:
    rule = catalog.get(finding.code)
    severity = rule.severity if rule else "error"
    row, message = finding.span.row, finding.message
    if finding.cell is not None:  # the raw .ipynb line that holds the cell's source line
        raw = (notebooks or RawNotebooks()).span(finding)
        row, message = (raw.row if raw else 1), f"{cell_label(finding)}: {message}"
    return {
        "description": f"{finding.code} {message}",
        "check_name": f"{finding.code} ({rule.name})" if rule else finding.code,
        "fingerprint": fingerprint,
        "severity": "minor" if severity == "warning" else "major",
        "location": {"path": relative_path(finding.path), "lines": {"begin": row}},
    }


def render(findings, context) -> str:
    findings = list(findings)
    notebooks = RawNotebooks()
    issues = [issue(f, p, notebooks) for f, p in zip(findings, fingerprints(findings, neighbours=0))]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
