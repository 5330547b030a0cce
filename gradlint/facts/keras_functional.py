"""Keras functional-API chains, followed along the data flow.

`x = Dense(64, activation="tanh")(x)` extends the chain of the value it is applied to; a merge
(`Add()([x, y])`, `Concatenate()`) keeps the shortest of its inputs' chains, because the gradient
takes the shortest path; a value produced by anything else starts afresh, also when a name is rebound
by an expression that applies no layer (`h = tf.matmul(h, W) + b`). The chains reported are those of
the outputs handed to `keras.Model(...)`, read as the names stood at that call (a notebook rebinds
`outputs` for every model), else the longest one built, so two models built in one function, or an
encoder and a decoder, are never one stack.
"""

from __future__ import annotations

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.layers import Chain, LayerUse
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import walk

Run = tuple[LayerUse, ...]
_MERGES = {f"{K.L}.{n}" for n in ("Add", "add", "Concatenate", "concatenate", "Average", "average", "Maximum",
                                  "maximum", "Multiply", "multiply", "Subtract", "subtract")}
_MODELS = {"keras.Model", "keras.Functional"}


def functional_chains(fn: FunctionInfo, facts: ModuleFacts, layer_uses) -> list[Chain]:
    env: dict[str, Run] = {}
    produced: dict[int, Run] = {}
    outputs: list[tuple[CallInfo, list[Run]]] = []
    rebound: dict[int, list[tuple[str, cst.BaseExpression]]] = {}  # read once a layer is applied: no chain before
    applied = False
    for index, call in enumerate(fn.calls):
        chain = _apply(call, env, produced, layer_uses)
        if chain is not None:
            if not applied:
                rebound = _rebound_by_expressions(fn)
            applied = True
            produced[id(call.node)] = chain
        elif call.qualname in _MODELS:
            given = call.argument("outputs", 1)
            if given is not None:
                outputs.append((call, _chains_of(given, env, produced)))  # the outputs as they stand here
        if call.target is not None and "." not in call.target:
            env[call.target] = chain if chain is not None else ()
        for name, value in rebound.get(index, ()):
            found = _expression_chain(value, env, produced)
            if found or name in env:  # a chain carried on, or an old one replaced by a value that has none
                env[name] = found or ()
    if not applied:
        return []
    where = "the functional model" if fn is facts.top else f"the functional model in {fn.name}()"
    if outputs:
        runs = {id(run[0].node): (call, run) for call, given in outputs for run in given if run}
        return [Chain(run, where, call.node) for call, run in runs.values()]
    longest = max([*env.values(), *produced.values()], key=len, default=())
    return [Chain(longest, where, fn.node)] if longest else []


def _apply(call: CallInfo, env, produced, layer_uses) -> Run | None:
    """The chain of the value this call produces, if it applies a layer or an activation; else None."""
    inner = call.node.func
    inputs = [run for arg in call.node.args if arg.keyword is None for run in _chains_of(arg.value, env, produced)]
    if isinstance(inner, cst.Call):
        qualname = call.scope.qualify(inner.func) or ""
        if qualname in _MERGES:
            return min(inputs, key=len, default=())
        if qualname.startswith(f"{K.L}.") or (not qualname and inputs):
            # a project layer applied in the graph (TransformerBlock(...)(x)) joins the chain as an opaque block
            return max(inputs, key=len, default=()) + tuple(layer_uses(inner, call.scope))
        return None
    if call.qualname in _MERGES:  # layers.add([x, y])
        return min(inputs, key=len, default=())
    activation = K.SATURATING_FUNCTIONS.get(call.qualname or "")
    if activation:
        label = call.qualname.replace("tensorflow.", "tf.").replace("keras.", "")
        return max(inputs, key=len, default=()) + (LayerUse("saturating", label, call.node),)
    return None


def _rebound_by_expressions(fn: FunctionInfo) -> dict[int, list[tuple[str, cst.BaseExpression]]]:
    """`name = <an expression that is not itself a call>` with calls inside it (`h = tf.matmul(h, W) + b`),
    by the index in fn.calls of the last call it evaluates: the name is rebound right after that call."""
    index = {id(call.node): i for i, call in enumerate(fn.calls)}
    found: dict[int, list[tuple[str, cst.BaseExpression]]] = {}
    for name, values in fn.scope.assigns.items():
        for value in values:
            if isinstance(value, cst.Call) or not isinstance(value, cst.BaseExpression):
                continue
            last = max((index[id(n)] for n in walk(value) if isinstance(n, cst.Call) and id(n) in index), default=None)
            if last is not None:
                found.setdefault(last, []).append((name, value))
    return found


def _expression_chain(expr: cst.BaseExpression, env, produced) -> Run | None:
    """The chain of an expression that applies no layer itself, None when nothing in it has one: arithmetic
    on layer outputs keeps the shortest of their chains (`Dense(8)(x) + skip` is a merge); anything else
    (`tf.matmul(x, W)`) has none, so the name starts afresh."""
    if isinstance(expr, cst.BinaryOperation):
        runs = [run for side in (expr.left, expr.right) if (run := _expression_chain(side, env, produced)) is not None]
        return min(runs, key=len) if runs else None
    if isinstance(expr, cst.UnaryOperation):
        return _expression_chain(expr.expression, env, produced)
    found = _chains_of(expr, env, produced)
    return max(found, key=len) if found else None


def _chains_of(expr: cst.BaseExpression, env, produced) -> list[Run]:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [run for element in expr.elements for run in _chains_of(element.value, env, produced)]
    if isinstance(expr, cst.Name):
        return [env[expr.value]] if expr.value in env else []
    if isinstance(expr, cst.Call):
        return [produced[id(expr)]] if id(expr) in produced else []
    if isinstance(expr, (cst.Subscript, cst.Attribute)):
        return _chains_of(expr.value, env, produced)
    return []
