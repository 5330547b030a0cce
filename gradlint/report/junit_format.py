"""JUnit XML: one testcase per linted file, one failure per finding, for CI test-report viewers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gradlint import catalog
from gradlint.finding import Span
from gradlint.report.notebook_lines import RawNotebooks, cell_label

# Characters XML 1.0 cannot carry at all, even escaped (a message quoting a NUL byte would break the file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(findings, context) -> str:
    by_file: dict[str, list] = {path: [] for path in context.files}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    failed: dict[str, list] = {}  # internal errors (exit code 2): an <error> in that file's testcase
    for failure in getattr(context, "failures", ()):
        by_file.setdefault(failure.path, [])
        failed.setdefault(failure.path, []).append(failure)
    suite = ET.Element(
        "testsuite",
        name="gradlint",
        tests=str(len(by_file)),
        failures=str(sum(1 for path, found in by_file.items() if found and path not in failed)),
        errors=str(len(failed)),
        skipped="0",
    )
    notebooks = RawNotebooks()
    for path, found in by_file.items():
        case = ET.SubElement(suite, "testcase", name=_xml_text(path), classname="gradlint", file=_xml_text(path))
        for finding in found:
            rule = catalog.get(finding.code)
            span, message = finding.span, finding.message
            if finding.cell is not None:  # the raw .ipynb line that holds the cell's source line
                span = notebooks.span(finding) or Span(1, 1, 1, 1)
                message = f"{cell_label(finding)}: {message}"
            failure = ET.SubElement(
                case, "failure", message=_xml_text(f"{finding.code} {message}"), type=rule.name if rule else finding.code,
            )
            failure.text = _xml_text(f"{path}:{span.row}:{span.column}: {finding.code} {message}")
        for problem in failed.get(path, ()):
            error = ET.SubElement(case, "error", message=_xml_text(problem.describe()), type="internal-error")
            error.text = _xml_text(problem.describe())
    root = ET.Element("testsuites", name="gradlint", tests=suite.get("tests"), failures=suite.get("failures"),
                      errors=suite.get("errors"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
