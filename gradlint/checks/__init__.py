"""One module per rule, named by its slug (GL202 large-fixed-learning-rate → large_fixed_learning_rate.py).

Each module has `check(facts, settings)` yielding findings; the catalog in rules/ maps codes to slugs.
"""

from __future__ import annotations

import importlib
from typing import Callable, Iterator

import libcst as cst

from gradlint import catalog
from gradlint.finding import Finding

CheckFunction = Callable[..., Iterator[Finding]]


def module_name(code: str) -> str:
    return catalog.all_rules()[code].name.replace("-", "_")


def load(code: str) -> CheckFunction | None:
    """The check function of a rule; None for GL000, which the engine reports itself."""
    if code == "GL000":
        return None
    return importlib.import_module(f"gradlint.checks.{module_name(code)}").check


def finding(facts, code: str, node: cst.CSTNode, message: str, *, also: tuple[cst.CSTNode, ...] = (), fix=None) -> Finding:
    """A finding at `node`; a suppression comment on any line of `node` or of `also` silences it."""
    span = facts.span(node)
    rows = set(range(span.row, span.end_row + 1))
    for other in also:
        other_span = facts.span(other)
        rows.update(range(other_span.row, other_span.end_row + 1))
    return Finding(code, message, facts.path, span, fix=fix, suppress_rows=tuple(sorted(rows)))
