"""The Keras front-end: Keras/TensorFlow code filling the same framework-neutral facts.

A `Dense(64, activation="sigmoid")` is a weight layer followed by a saturating activation, exactly
like `nn.Linear` then `nn.Sigmoid`; a `keras.optimizers.SGD(learning_rate=...)` is an optimizer like
`torch.optim.SGD`. Checks read the chains and optimizers and never ask which framework built them.
"""

from __future__ import annotations

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.layers import Chain, LayerUse, _ForwardFlow, _loop_at, loop_count
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted
from gradlint.facts.values import Value


def _short(qualname: str) -> str:
    return qualname.replace("keras.layers.", "").replace("keras.", "")


def _activation(expr: cst.BaseExpression | None, scope: Scope) -> str | None:
    """'sigmoid' for activation="sigmoid", activation=tf.nn.sigmoid, activation=keras.activations.sigmoid."""
    if expr is None:
        return None
    if isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        return K.SATURATING_NAMES.get(expr.evaluated_value)
    return K.SATURATING_FUNCTIONS.get(scope.qualify(expr) or "")


def layer_uses(call: cst.Call, scope: Scope, container: cst.CSTNode | None = None) -> list[LayerUse]:
    """What one Keras layer construction contributes to a chain (a Dense with activation: two uses)."""
    qualname = scope.qualify(call.func) or ""
    label = _short(qualname) if qualname else (dotted(call.func) or "?")

    def kwarg(name: str, index: int | None = None):
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        positional = [a.value for a in call.args if a.keyword is None]
        return positional[index] if index is not None and index < len(positional) else None

    if qualname in K.WEIGHT_LAYERS:
        uses = [LayerUse("weight", label, call, container)]
        act = _activation(kwarg("activation"), scope)
        if act:
            uses.append(LayerUse("saturating", f"{label}(activation={act!r})", call, container))
        return uses
    if qualname == K.ACTIVATION_LAYER:
        act = _activation(kwarg("activation", 0), scope)
        return [LayerUse("saturating" if act else "other", f"Activation({act!r})" if act else label, call, container)]
    if qualname in K.NORM_LAYERS:
        return [LayerUse("norm", label, call, container)]
    if qualname in K.RECURRENT_LAYERS:
        return [LayerUse("recurrent", label, call, container)]
    if qualname in K.ATTENTION_LAYERS:
        return [LayerUse("attention", label, call, container)]
    if qualname.startswith("keras.layers."):
        return [LayerUse("other", label, call, container)]
    return [LayerUse("opaque", label, call, container)]


def keras_chains(facts: ModuleFacts) -> list[Chain]:
    chains = []
    for call in facts.all_calls:
        if call.qualname in K.SEQUENTIAL:
            chains.append(_sequential(call, facts))
    for fn in (facts.top, *facts.functions):
        chain = _functional(fn, facts)
        if chain is not None:
            chains.append(chain)
    for cls in facts.classes.values():
        if "call" in cls.methods and any(base in K.MODEL_BASES for base in cls.bases):
            chains.append(_subclassed(cls, facts))
    return chains


def _sequential(call: CallInfo, facts: ModuleFacts) -> Chain:
    """keras.Sequential([...]) and the model.add(...) calls on it, in order (loops unrolled)."""
    uses: list[LayerUse] = []
    layers = call.argument("layers", 0)
    if isinstance(layers, (cst.List, cst.Tuple)):
        for element in layers.elements:
            if isinstance(element.value, cst.Call):
                uses.extend(layer_uses(element.value, call.scope, call.node))
    if call.target:
        fn = next((f for f in (facts.top, *facts.functions) if call in f.calls), facts.top)
        adds = [c for c in fn.calls if c.receiver == call.target and c.method == "add" and c.node.args]
        uses.extend(_unrolled(adds, 0, facts, call.node))
    return Chain(tuple(uses), "keras Sequential", call.node)


def _unrolled(adds: list[CallInfo], depth: int, facts: ModuleFacts, container) -> list[LayerUse]:
    out: list[LayerUse] = []
    i = 0
    while i < len(adds):
        loop = _loop_at(adds[i].blocks, depth)
        if loop is None:
            value = adds[i].node.args[0].value
            if isinstance(value, cst.Call):
                out.extend(layer_uses(value, adds[i].scope, container))
            i += 1
            continue
        j = i
        while j < len(adds) and _loop_at(adds[j].blocks, depth) is loop:
            j += 1
        out.extend(_unrolled(adds[i:j], depth + 1, facts, container) * loop_count(loop, adds[i].scope, facts))
        i = j
    return out


def _functional(fn: FunctionInfo, facts: ModuleFacts) -> Chain | None:
    """`x = Dense(64, activation="tanh")(x)` chains of the functional API, one per function."""
    uses: list[LayerUse] = []
    residual = False
    for call in fn.calls:
        inner = call.node.func
        if isinstance(inner, cst.Call):
            qualname = call.scope.qualify(inner.func) or ""
            if qualname.startswith("keras.layers."):
                residual = residual or qualname in K.RESIDUAL_LAYERS
                uses.extend(layer_uses(inner, call.scope))
        elif call.qualname in K.RESIDUAL_LAYERS:
            residual = True
    if not uses:
        return None
    where = "the functional model" if fn is facts.top else f"the functional model in {fn.name}()"
    return Chain(tuple(uses), where, fn.node, residual=residual or fn.tensor_adds > 0)


def _subclassed(cls, facts: ModuleFacts) -> Chain:
    """A subclassed keras.Model: its call() applies self.<layer> attributes and tf activations.

    Runs follow the data flow (as for a PyTorch forward): sigmoids on three slices of one tensor are
    applied side by side, not one after another.
    """
    method = cls.methods["call"]
    uses = [use for call in method.calls for use in _call_uses(call, cls)]
    saturating = sum(1 for use in uses if use.kind == "saturating")
    runs = _ForwardFlow(method, cls, facts, lambda call, cls, facts: _call_uses(call, cls)).runs() if saturating >= 2 else ()
    return Chain(tuple(uses), f"{cls.name}.call", method.node, residual=method.tensor_adds > 0, runs=runs)


def _call_uses(call: CallInfo, cls) -> list[LayerUse]:
    """What one call in call() applies: a self.<layer> attribute or a tf/keras activation function."""
    if call.receiver == "self" and isinstance(cls.attrs.get(call.method or ""), cst.Call):
        return [LayerUse(use.kind, f"self.{call.method}" + (
            use.label[use.label.index("("):] if use.kind == "saturating" and "(" in use.label else ""), call.node)
            for use in layer_uses(cls.attrs[call.method], cls.scope)]
    if K.SATURATING_FUNCTIONS.get(call.qualname or ""):
        return [LayerUse("saturating", _short(call.qualname), call.node)]
    return []


# -- optimizers ----------------------------------------------------------------------------------
def keras_optimizers(facts: ModuleFacts, optimizer_type):
    scheduled_by_callback = any(c.qualname in K.LR_CALLBACKS for c in facts.all_calls)
    schedule_classes = {
        cls.name for cls in facts.classes.values() if any(b == K.SCHEDULE_BASE for b in cls.bases)
    }
    found = []
    for call in facts.all_calls:
        kind = K.OPTIMIZERS.get(call.qualname or "")
        if kind is None:
            continue
        lr_expr = call.kwarg("learning_rate") or call.kwarg("lr") or call.positional(0)
        scheduled = scheduled_by_callback or _is_schedule(lr_expr, call.scope, schedule_classes)
        if lr_expr is None:
            lr = Value(K.DEFAULT_LR[kind], f"Keras {kind}'s default", call.node) if kind in K.DEFAULT_LR else None
        else:
            lr = facts.resolve(lr_expr, call.scope)
        found.append(optimizer_type(kind, call, lr, lr_expr is not None, scheduled))
    return found


def _is_schedule(expr, scope: Scope, schedule_classes: set[str]) -> bool:
    if isinstance(expr, cst.Name):
        expr = scope.binding(expr.value) or expr
    if not isinstance(expr, cst.Call):
        return False
    qualname = scope.qualify(expr.func) or ""
    return qualname.startswith(K.SCHEDULE_PREFIX) or dotted(expr.func) in schedule_classes
