"""The order a Keras script builds its layers in: loops unrolled, and where a name is bound again.

`for _ in range(DEPTH): model.add(Dense(64))` adds DEPTH layers when DEPTH is known statically; a loop
whose count is not known makes the model untranslatable rather than guessed. A notebook rebinds
`model = ...` cell after cell: each binding owns only the calls up to the next one.
"""

from __future__ import annotations

import libcst as cst

from gradlint.facts.layers import _loop_at
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted

_MAX_REPEAT = 64


def while_bound(call: CallInfo, fn: FunctionInfo) -> list[CallInfo]:
    """The calls of `fn` after `call` until its target is bound again (a notebook reuses `model = ...`)."""
    start = fn.calls.index(call) + 1
    end = next((i for i in range(start, len(fn.calls)) if fn.calls[i].target == call.target), len(fn.calls))
    return fn.calls[start:end]


def unrolled(calls: list[CallInfo], depth: int, facts: ModuleFacts):
    """(call, repeat) in execution order with `for _ in range(N)` loops unrolled; repeat None: count unknown."""
    i = 0
    while i < len(calls):
        loop = _loop_at(calls[i].blocks, depth)
        if loop is None:
            yield calls[i], 1
            i += 1
            continue
        j = i
        while j < len(calls) and _loop_at(calls[j].blocks, depth) is loop:
            j += 1
        count = _count(loop, calls[i].scope, facts)
        if count is None:
            yield from ((call, None) for call in calls[i:j])
        for _ in range(count or 0):
            yield from unrolled(calls[i:j], depth + 1, facts)
        i = j


def _count(loop, scope: Scope, facts: ModuleFacts) -> int | None:
    iterable = loop.node.iter if isinstance(loop.node, cst.For) else None
    if not (isinstance(iterable, cst.Call) and dotted(iterable.func) == "range" and 1 <= len(iterable.args) <= 2):
        return None
    bounds = [facts.resolve(a.value, scope) for a in iterable.args]
    if any(b is None or not isinstance(b.value, int) or isinstance(b.value, bool) for b in bounds):
        return None
    start, stop = (0, bounds[0].value) if len(bounds) == 1 else (bounds[0].value, bounds[1].value)
    return max(0, min(_MAX_REPEAT, stop - start))
