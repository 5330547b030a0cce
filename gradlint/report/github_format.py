"""GitHub Actions workflow commands: one `::error`/`::warning` annotation per finding.

`::error file=train.py,line=4,col=13,endLine=4,endColumn=40,title=GL202 (large-fixed-learning-rate)::message`
A notebook finding is placed on the raw .ipynb line that holds its source line (see notebook_lines).
Values are escaped as the Actions runner expects: in the message `%`, `\\r`, `\\n`; in properties also
`:` and `,`.
"""

from __future__ import annotations

import os

from gradlint import catalog
from gradlint.finding import Span
from gradlint.report.notebook_lines import RawNotebooks, cell_label


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def relative_path(path: str) -> str:
    """The finding's path relative to the working directory, the repository root in a workflow."""
    if not os.path.isabs(path):
        return path.replace(os.sep, "/")
    try:
        return os.path.relpath(path).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return path


def annotation(finding, notebooks: RawNotebooks | None = None) -> str:
    """A notebook finding lands on the line of the .ipynb file that holds its source line, and names its
    cell in the title and the message."""
    rule = catalog.get(finding.code)
    command = "warning" if rule is not None and rule.severity == "warning" else "error"
    title = f"{finding.code} ({rule.name})" if rule is not None else finding.code
    span, message = finding.span, finding.message
    if finding.cell is not None:
        span = (notebooks or RawNotebooks()).span(finding) or Span(1, 1, 1, 1)
        title += f" in cell {finding.cell}"
        message = f"{cell_label(finding)}: {message}"
    properties = {
        "file": relative_path(finding.path),
        "line": span.row,
        "col": span.column,
        "endLine": span.end_row,
        "endColumn": span.end_column,
        "title": title,
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{command} {props}::{escape_data(message)}"


def failure_annotation(failure) -> str:
    """An internal error (the file was not fully checked, exit code 2) as an error annotation on that file."""
    props = f"file={escape_property(relative_path(failure.path))},title={escape_property('gradlint internal error')}"
    return f"::error {props}::{escape_data(failure.describe())}"


def render(findings, context) -> str:
    notebooks = RawNotebooks()
    lines = [annotation(f, notebooks) for f in findings]
    lines += [failure_annotation(failure) for failure in getattr(context, "failures", ())]
    return "".join(line + "\n" for line in lines)
