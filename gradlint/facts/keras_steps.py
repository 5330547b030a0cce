"""Keras/TensorFlow training steps: GradientTape steps, fit() on compiled models, and how they clip.

PyTorch's steps are events around backward()/step() (steps.py); TensorFlow has neither: a step is
`tape.gradient(...)` followed by `optimizer.apply_gradients(...)`, or fit() on a compiled model, and
clipping is a `tf.clip_by_*` call between the two or `clipnorm`/`clipvalue`/`global_clipnorm` on the
optimizer. GL201 and GL208 read these facts.
"""

from __future__ import annotations

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.keras import call_info
from gradlint.facts.layers import LayerUse
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted


def optimizer_clips(facts: ModuleFacts):
    """(optimizer construction, keyword) for every clipnorm/clipvalue/global_clipnorm a Keras optimizer is given."""
    for call in facts.all_calls:
        if call.qualname in K.OPTIMIZERS:
            for keyword in K.CLIP_KEYWORDS:
                if call.kwarg(keyword) is not None:
                    yield call, keyword


def gradient_clips(facts: ModuleFacts) -> list[CallInfo]:
    """tf.clip_by_global_norm anywhere; tf.clip_by_norm / clip_by_value in a function that takes gradients
    from a tape and applies them (elsewhere they clip values, not gradients)."""
    found = []
    for fn in (facts.top, *facts.functions):
        steps = any(c.method == "apply_gradients" for c in fn.calls) and any(c.method == "gradient" for c in fn.calls)
        for call in fn.calls:
            if call.qualname == f"{K.TF}.clip_by_global_norm" or (call.qualname in K.TF_CLIPS and steps):
                found.append(call)
    return found


def risky_layer(facts: ModuleFacts) -> CallInfo | None:
    """The first recurrent or multi-head-attention Keras layer the file builds."""
    return next((c for c in facts.all_calls if c.qualname in K.RISKY_LAYERS), None)


def clipping_optimizer(expr: cst.BaseExpression | None, scope: Scope) -> tuple[cst.CSTNode, bool] | None:
    """(where the optimizer is given, whether it clips) for compile's optimizer= argument; None if unknown.

    A string ("adam") and a missing argument (Keras's default rmsprop) never clip."""
    if isinstance(expr, cst.Name):
        expr = scope.binding(expr.value) or expr
    if isinstance(expr, cst.SimpleString):
        return expr, False
    if isinstance(expr, cst.Call) and scope.qualify(expr.func) in K.OPTIMIZERS:
        return expr, any(a.keyword is not None and a.keyword.value in K.CLIP_KEYWORDS for a in expr.args)
    return None


def tape_steps(facts: ModuleFacts) -> list[tuple[CallInfo, FunctionInfo, bool | None]]:
    """`optimizer.apply_gradients(...)` after `tape.gradient(...)` in one function, and whether the step clips:
    True (a clip between the two, or the optimizer clips), False, or None (the optimizer is not known)."""
    constructed = {c.target.rpartition(".")[2]: c for c in facts.all_calls if c.qualname in K.OPTIMIZERS and c.target}
    clipping = {name for name, c in constructed.items() if any(c.kwarg(k) is not None for k in K.CLIP_KEYWORDS)}
    compiled = [clipping_optimizer(c.argument("optimizer", 0), c.scope) for c in facts.all_calls if c.method == "compile"]
    steps = []
    for fn in (facts.top, *facts.functions):
        gradient = None
        for index, call in enumerate(fn.calls):
            if call.method == "gradient" and call.node.args:
                gradient = index
            elif call.method == "apply_gradients" and gradient is not None:
                between = fn.calls[gradient + 1:index]
                clipped = any(_clips(c) for c in between) or None
                name = (call.receiver or "").rpartition(".")[2]
                if clipped is None and name in constructed:
                    clipped = name in clipping
                elif clipped is None and call.receiver == "self.optimizer" and compiled and all(compiled):
                    clipped = any(found[1] for found in compiled)  # a train_step override: compile's optimizer
                steps.append((call, fn, clipped))
    return steps


def _clips(call: CallInfo) -> bool:
    name = call.qualname or dotted(call.node.func) or call.method or ""
    return call.qualname in K.TF_CLIPS or "clip" in name.rpartition(".")[2].lower()


def fitted_optimizers(facts: ModuleFacts):
    """(compile call, where its optimizer is given, whether it clips) for models trained with fit().

    Each fit() is judged by the last compile() on the same name before it in that function (a later
    compile(sampler=...) for generation configures no training); when that function has none, by the only
    compile() on that name in the file. A model whose class overrides train_step owns its step (tape_steps
    judges it)."""
    custom_step = {name for name, cls in facts.classes.items() if "train_step" in cls.methods}
    everywhere: dict[str, list[CallInfo]] = {}
    for call in facts.all_calls:
        if call.method == "compile" and call.receiver:
            everywhere.setdefault(call.receiver, []).append(call)
    judged: set[int] = set()
    for fn in (facts.top, *facts.functions):
        last: dict[str, CallInfo] = {}
        for call in fn.calls:
            if call.method == "compile" and call.receiver:
                last[call.receiver] = call
            elif call.method == "fit" and call.receiver:
                candidates = everywhere.get(call.receiver, [])
                compile_call = last.get(call.receiver) or (candidates[0] if len(candidates) == 1 else None)
                if compile_call is None or id(compile_call.node) in judged or _custom(call, custom_step):
                    continue
                judged.add(id(compile_call.node))
                given = compile_call.argument("optimizer", 0)
                found = clipping_optimizer(given, compile_call.scope) if given is not None else (compile_call.node, False)
                if found is not None:
                    yield compile_call, found[0], found[1]


def _custom(fit: CallInfo, custom_step: set[str]) -> bool:
    built = fit.scope.binding(fit.receiver) if "." not in fit.receiver else None
    return isinstance(built, cst.Call) and isinstance(built.func, cst.Name) and built.func.value in custom_step


def model_risk(name: str, scope: Scope, facts: ModuleFacts) -> tuple[bool, LayerUse | None]:
    """(known, the recurrent/attention layer) of the model a name holds: its Sequential, functional graph or
    subclassed call(). (False, None) when the model cannot be tied to a chain in this file."""
    construction = scope.binding(name) if name != "self" else None
    chains = {id(chain.node): chain for chain in facts.chains}
    chain = None
    if name == "self":
        from gradlint.facts.tensors import class_of

        cls = class_of(scope, facts)
        chain = chains.get(id(cls.methods["call"].node)) if cls is not None and "call" in cls.methods else None
    elif isinstance(construction, cst.Call):
        qualname = scope.qualify(construction.func)
        if qualname in K.SEQUENTIAL:
            chain = chains.get(id(construction))
        elif qualname in K.FUNCTIONAL_MODEL:
            found = call_info(construction, facts)
            chain = chains.get(id(construction)) or (chains.get(id(found[1].node)) if found else None)
        elif isinstance(construction.func, cst.Name) and construction.func.value in facts.classes:
            cls = facts.classes[construction.func.value]
            chain = chains.get(id(cls.methods["call"].node)) if "call" in cls.methods else None
        elif isinstance(construction.func, cst.Name):
            chain = _built_by_function(construction.func.value, chains, facts)  # model = create_vit_classifier()
    if chain is None:
        return False, None
    risky = next((u for u in chain.layers if u.kind == "recurrent" or u.label.endswith("MultiHeadAttention")), None)
    opaque = [u for u in chain.layers if u.kind == "opaque"]
    inside = next(filter(None, (_project_layer_risk(u, facts) for u in opaque)), None)
    if risky is None and inside is None and any(u.label not in facts.classes for u in opaque):
        return False, None  # a layer gradlint cannot see into might be recurrent
    return True, risky or inside


def _built_by_function(name: str, chains: dict, facts: ModuleFacts):
    """The one model a module-level builder function constructs (`def build_model(): ... return Model(...)`)."""
    builder = next((f for f in facts.functions if f.name == name and f.class_name is None), None)
    if builder is None:
        return None
    built = [chains[id(c.node)] for c in builder.calls if id(c.node) in chains]
    return built[0] if len(built) == 1 else None


def _project_layer_risk(use: LayerUse, facts: ModuleFacts) -> LayerUse | None:
    """A project layer class applied in the model (TransformerBlock(...)(x)) that builds a risky layer."""
    cls = facts.classes.get(use.label)
    for method in cls.methods.values() if cls is not None else ():
        for call in method.calls:
            if call.qualname in K.RISKY_LAYERS:
                return LayerUse("attention", f"{cls.name} → {call.qualname.rpartition('.')[2]}", call.node)
    return None
