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
_STEP = " → "


def fit_message(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message shortened to `limit` where it quotes a path or code, or left whole when it cannot be.

    The steps of a value's path ("(`out` = model(x) in line 22 → train(model=…) in line 42 → Net.forward
    returns F.softmax(z))") keep only the origin ("(… → Net.forward returns F.softmax(z))"), the finding's
    own line being the use, and the origin is cut if it must be; else the longest quoted code (`…`) is cut.
    What was found and what to do, outside the quotes, always stay whole."""
    if len(message) <= limit or "{evidence}" in message:
        return message
    shorter = _origin_only(message, limit) if _STEP in message else _cut_quote(message, limit)
    return shorter if shorter is not None and len(shorter) <= limit else message


def _origin_only(message: str, limit: int) -> str | None:
    """The path's last steps, as many as fit (at least the origin, cut if it must be), after "… → "."""
    start = _opening(message, message.index(_STEP))
    if start is None:
        return None
    last = message.rindex(_STEP)
    origin = message[last + len(_STEP):]
    close = _closing(origin)
    if close is None:  # a quote cut short ("softmax(self.fc(x…") left a "(" open: the path ends before "): "
        close = origin.rfind("): ")
        if close < 0:
            return None
    head, tail = message[:start + 1], origin[close:]
    steps = message[start + 1:last + len(_STEP) + close].split(_STEP)
    kept = [steps[-1]]
    for step in reversed(steps[1:-1]):
        if len(head) + len(tail) + len(_STEP.join(["…", step, *kept])) > limit:
            break
        kept.insert(0, step)
    room = limit - len(head) - len(tail) - len(_STEP.join(["…", *kept[:-1], ""])) - 1
    if len(kept[-1]) > room:
        if room < 24:  # too little of the origin would be left to name it
            return None
        kept[-1] = kept[-1][:room].rstrip() + "…"
    return head + _STEP.join(["…", *kept]) + tail


def _cut_quote(message: str, limit: int) -> str | None:
    longest = max(message.split("`")[1::2], key=len, default="")
    keep = len(longest) - (len(message) - limit) - 1
    if keep < 16:
        return None
    return message.replace(f"`{longest}`", f"`{longest[:keep].rstrip()}…`", 1)


def _closing(text: str) -> int | None:
    """The index of the first ")" that no "(" of `text` opened: where the path's parenthesis ends."""
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
    return None


def _opening(text: str, at: int) -> int | None:
    """The index of the outermost "(" still open at position `at` (the parenthesis a path is written in;
    a quote cut short inside the path, "model(x…", leaves more of them open, all after it)."""
    opened = []
    for index, char in enumerate(text[:at]):
        if char == "(":
            opened.append(index)
        elif char == ")" and opened:
            opened.pop()
    return opened[0] if opened else None


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
    return Finding(code, fit_message(message), facts.path, span, fix=fix, suppress_rows=tuple(sorted(rows)))


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
