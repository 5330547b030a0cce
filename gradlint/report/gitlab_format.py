"""GitLab Code Quality report: a JSON list of issues (description, check_name, fingerprint, severity, location)."""

from __future__ import annotations

import json

from gradlint import catalog
from gradlint.baseline import fingerprints
from gradlint.report.github_format import relative_path


def issue(finding, fingerprint: str) -> dict:
    rule = catalog.get(finding.code)
    severity = rule.severity if rule else "error"
    return {
        "description": f"{finding.code} {finding.message}",
        "check_name": f"{finding.code} ({rule.name})" if rule else finding.code,
        "fingerprint": fingerprint,
        "severity": "minor" if severity == "warning" else "major",
        "location": {"path": relative_path(finding.path), "lines": {"begin": finding.span.row}},
    }


def render(findings, context) -> str:
    findings = list(findings)
    issues = [issue(f, p) for f, p in zip(findings, fingerprints(findings, neighbours=0))]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
