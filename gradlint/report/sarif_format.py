"""SARIF 2.1.0 for code scanning: rule metadata from rules/*.md, results with stable fingerprints.

Paths are relative to `%SRCROOT%` (the report's root, by default the working directory, which is the
repository root in CI); partialFingerprints hash the code, the path, the stripped source line and an
occurrence index, so a finding keeps its identity when unrelated edits move it up or down. A notebook
finding's region is the raw .ipynb line that holds its source line; its cell and cell-relative position
are in the result's properties and its message.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from gradlint import __version__, catalog
from gradlint.baseline import fingerprints
from gradlint.finding import Span
from gradlint.report.notebook_lines import RawNotebooks, cell_label

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/gradlint/gradlint"
FINGERPRINT_KEY = "gradlint/v1"
SRCROOT = "%SRCROOT%"


def _level(severity: str) -> str:
    return "warning" if severity == "warning" else "error"


def rule_object(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": rule.section("What it does") or rule.summary or rule.name},
        "help": {"text": rule.markdown, "markdown": rule.markdown},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {"fixable": rule.fixable},
    }


def artifact_location(path: str, root: Path) -> dict:
    absolute = Path(path).resolve()
    try:
        return {"uri": quote(absolute.relative_to(root).as_posix()), "uriBaseId": SRCROOT}
    except ValueError:  # outside the root: an absolute file URI
        return {"uri": absolute.as_uri()}


def result_object(finding, rule_index: dict[str, int], root: Path, fingerprint: str,
                  notebooks: RawNotebooks | None = None) -> dict:
    rule = catalog.get(finding.code)
    span, message = finding.span, finding.message
    if finding.cell is not None:
        # The region is in the raw .ipynb file (what viewers show); the cell position is in properties.
        span = (notebooks or RawNotebooks()).span(finding) or Span(1, 1, 1, 1)
        message = f"{cell_label(finding)}: {message}"
    result = {
        "ruleId": finding.code,
        "level": _level(rule.severity if rule else "error"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path, root),
                    "region": {
                        "startLine": span.row,
                        "startColumn": span.column,
                        "endLine": span.end_row,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.cell is not None:
        cell_span = finding.span
        result["properties"] = {"cell": finding.cell, "cellStartLine": cell_span.row,
                                "cellStartColumn": cell_span.column, "cellEndLine": cell_span.end_row,
                                "cellEndColumn": cell_span.end_column}
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    return result


def invocation(failures, root: Path) -> dict:
    """The run itself: executionSuccessful is false when a file was not fully checked (an internal error,
    exit code 2), and each such error is a toolExecutionNotification on that file, so that code scanning
    shows that the absence of results there is not a clean bill."""
    notifications = [
        {
            "level": "error",
            "message": {"text": failure.describe()},
            "descriptor": {"id": failure.code},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(failure.path, root)}}],
        }
        for failure in failures
    ]
    return {"executionSuccessful": not failures, "toolExecutionNotifications": notifications}


def document(findings, context) -> dict:
    root = Path(getattr(context, "root", None) or ".").resolve()
    rules = list(catalog.all_rules().values())
    rule_index = {rule.code: i for i, rule in enumerate(rules)}
    findings = list(findings)
    prints = fingerprints(findings, neighbours=0)
    notebooks = RawNotebooks()
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gradlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_object(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [result_object(f, rule_index, root, p, notebooks) for f, p in zip(findings, prints)],
                "invocations": [invocation(getattr(context, "failures", ()), root)],
            }
        ],
    }


def render(findings, context) -> str:
    return json.dumps(document(findings, context), indent=2, ensure_ascii=False) + "\n"
