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

# A message says what was found and what to do in one line of at most this many characters (the why is
# the rule's page: `gradlint rule GLxxx`); only a long name from the user's code may take it past.
MESSAGE_LIMIT = 160


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


def call_name(facts, node: cst.CSTNode) -> str:
    """A call named by its callee, `keras.optimizers.Adam(…)`; other code quoted, shortened (`"adam"`)."""
    from gradlint.facts.names import dotted
    from gradlint.facts.tensors import code_of

    callee = dotted(node.func) if isinstance(node, cst.Call) else None
    return f"`{callee}(…)`" if callee else f"`{code_of(facts, node, 32)}`"


def listing(items: list[str], width: int) -> str:
    """`items` joined with ", ", cut at an item boundary with "…" to fit `width` (the first always shown)."""
    shown = ", ".join(items)
    if len(shown) <= width:
        return shown
    kept = items[:1]
    for item in items[1:]:
        if len(", ".join([*kept, item, "…"])) > width:
            break
        kept.append(item)
    return ", ".join([*kept, "…"] if len(kept) < len(items) else kept)
