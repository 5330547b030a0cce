"""Keras/TensorFlow training steps: GradientTape steps, fit() on compiled models, and how they clip.

PyTorch's steps are events around backward()/step() (steps.py); TensorFlow has neither: a step is
`tape.gradient(...)` followed by `optimizer.apply_gradients(...)`, or fit() on a compiled model, and
clipping is a `tf.clip_by_*` call between the two or `clipnorm`/`clipvalue`/`global_clipnorm` on the
optimizer. GL201, GL208 and GL210 read these facts.

Which steps are at risk (`unclipped_tape_steps`, `unclipped_fits`) follows the PyTorch front-end's
contract (clip_risk.py): the trained model's own recurrent/attention layers are the evidence; an
attention model warmed up, or a pretrained preset fine-tuned, is the standard recipe; an LSTM/GRU under
an adaptive optimizer at lr ≤ 1e-3 is GL210's weaker signal (`Risk.gated_modest`), not GL201's.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.clip_risk import MODEST_ADAPTIVE_LR
from gradlint.facts.keras import trained_chain
from gradlint.facts.layers import Chain, LayerUse
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted
from gradlint.facts.optim import ADAPTIVE, warmed_up


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


def model_risk(name: str, at: CallInfo, facts: ModuleFacts) -> tuple[bool, list[tuple[LayerUse, "Built"]]]:
    """(known, its recurrent/attention layers with their constructions) of the model a name holds at `at`:
    its Sequential, functional graph or subclassed call() (`trained_chain`). (False, []) when the model
    cannot be tied to a chain in this file; (True, []) for a pretrained preset (`from_preset`,
    `keras.applications`), whose fine-tuning at an ordinary lr is the textbook recipe."""
    pretrained, chain = trained_chain(name, at, facts)
    if pretrained:
        return True, []
    if chain is None:
        return False, []
    calls = {id(c.node): c for c in facts.all_calls}
    risky = [(u, _built(u, chain, calls, facts)) for u in chain.layers if u.kind in ("recurrent", "attention")]
    risky = [(u, b) for u, b in risky if u.kind == "recurrent" or b.qualname in K.RISKY_LAYERS
             or u.label.endswith("MultiHeadAttention")]  # not a plain dot-product Attention()
    opaque = [u for u in chain.layers if u.kind == "opaque"]
    inside = [(found, b) for u in opaque if (found := _project_layer_risk(u, facts)) is not None
              for b in _project_layer_built(u, facts)]
    if not risky and not inside and any(u.label not in facts.classes for u in opaque):
        return False, []  # a layer gradlint cannot see into might be recurrent
    return True, risky + inside


@dataclass(frozen=True)
class Built:
    """A layer's construction: `layers.LSTM(32)`, resolved through imports in its own scope."""

    qualname: str | None
    node: cst.Call | None
    scope: Scope | None


def _built(use: LayerUse, chain: Chain, calls: dict[int, CallInfo], facts: ModuleFacts) -> Built:
    """The construction behind a chain's layer use (`calls`: the file's calls by node): the use itself
    (Sequential, functional graph), or the `self.<attr>` a subclassed call() applies."""
    found = calls.get(id(use.node))
    if found is not None and found.qualname in K.RISKY_LAYERS:
        return Built(found.qualname, found.node, found.scope)
    cls = facts.classes.get(chain.where.removesuffix(".call")) if chain.where.endswith(".call") else None
    attr = cls.attrs.get(use.label.removeprefix("self.")) if cls is not None and use.label.startswith("self.") else None
    made = calls.get(id(attr)) if isinstance(attr, cst.Call) else None
    return Built(made.qualname, made.node, made.scope) if made is not None else Built(None, None, None)


def _gated(built: Built, depth: int = 0) -> bool:
    """An LSTM/GRU (or a cell of one), also inside Bidirectional(...) / RNN(cell)."""
    if built.qualname in K.GATED_RECURRENT_LAYERS:
        return True
    if built.qualname not in K.RECURRENT_WRAPPERS or built.node is None or depth > 3:
        return False
    inner = next((a.value for a in built.node.args if a.keyword is None or a.keyword.value in ("layer", "cell")), None)
    if isinstance(inner, cst.Name):
        inner = built.scope.binding(inner.value)
    if not isinstance(inner, cst.Call):
        return False
    return _gated(Built(built.scope.qualify(inner.func), inner, built.scope), depth + 1)


@dataclass(frozen=True)
class Risk:
    """Why an unclipped Keras step is at risk, as GL201/GL210 name it."""

    evidence: str  # "`model` uses keras LSTM (line 5)"
    gated_modest: bool  # only LSTM/GRU layers, under an adaptive optimizer at lr ≤ 1e-3: GL210's, not GL201's


def unclipped_tape_steps(facts: ModuleFacts) -> list[tuple[CallInfo, FunctionInfo, Risk]]:
    """GradientTape steps with no clipping on a recurrent/attention model (see tape_steps)."""
    found = []
    for call, fn, clipped in tape_steps(facts) if risky_layer(facts) is not None else ():
        if clipped is not False:
            continue
        risk = _risk(facts, _differentiated(fn, call), call, _tape_optimizer_modest(call, facts))
        if risk is not None:
            found.append((call, fn, risk))
    return found


def unclipped_fits(facts: ModuleFacts) -> list[tuple[CallInfo, cst.CSTNode, Risk]]:
    """(compile call, where its optimizer is given, risk) for fit() on a recurrent/attention model whose
    optimizer does not clip (see fitted_optimizers)."""
    found = []
    for compile_call, given, clipped in fitted_optimizers(facts) if risky_layer(facts) is not None else ():
        if clipped:
            continue
        risk = _risk(facts, compile_call.receiver, compile_call, _given_optimizer_modest(given, compile_call, facts))
        if risk is not None:
            found.append((compile_call, given, risk))
    return found


def _risk(facts: ModuleFacts, model: str | None, at: CallInfo, modest: bool) -> Risk | None:
    """The trained model's recurrent/attention layer. When the model cannot be tied to its layers, a layer
    elsewhere in the file is evidence only for a helper's model parameter, or if the file builds one model."""
    known, uses = model_risk(model, at, facts) if model else (False, [])
    if known:
        if not uses:
            return None
        use = uses[0][0]
        evidence = f"`{model}` uses keras {use.label} (line {facts.line(use.node)})"
        built = [b for _, b in uses]
    else:
        # A training helper's parameter (`def run_experiment(model)`) gets the file's model; a name bound to
        # several models (notebooks rebind `model`) could be any of them.
        parameter = model is not None and model in at.scope.params and model not in at.scope.assigns
        if not parameter and len({id(chain.node) for chain in facts.chains}) > 1:
            return None
        layer = risky_layer(facts)
        evidence = f"the model uses keras {layer.qualname.rpartition('.')[2]} (line {facts.line(layer.node)})"
        built = [Built(c.qualname, c.node, c.scope) for c in facts.all_calls if c.qualname in K.RISKY_LAYERS]
    attention = [b for b in built if K.RISKY_LAYERS.get(b.qualname) == "attention"]
    if attention and len(attention) == len(built) and warmed_up(facts):
        return None  # an attention model warmed up: the standard transformer recipe
    gated = bool(built) and all(_gated(b) for b in built)
    return Risk(evidence, gated and modest)


def _differentiated(fn: FunctionInfo, step: CallInfo) -> str | None:
    """`model` in tape.gradient(loss, model.trainable_variables) before this apply_gradients (also through a
    name bound to `model.trainable_variables`)."""
    gradients = [c for c in fn.calls if c.method == "gradient" and len(c.node.args) >= 2]
    sources = gradients[-1].node.args[1].value if gradients else None
    if isinstance(sources, cst.Name):
        sources = step.scope.binding(sources.value) or sources
    target = dotted(sources) if sources is not None else None
    if not target or not target.endswith(("trainable_variables", "trainable_weights")):
        return None
    return target.rpartition(".")[0] or None


def _modest_kind(kind: str | None, lr: float | None) -> bool:
    return kind in ADAPTIVE and lr is not None and lr <= MODEST_ADAPTIVE_LR


def _optimizer_at(node: cst.CSTNode, facts: ModuleFacts):
    return next((o for o in facts.optimizers if o.call.node is node), None)


def _given_optimizer_modest(given: cst.CSTNode, compile_call: CallInfo, facts: ModuleFacts) -> bool:
    """compile()'s optimizer is adaptive at lr ≤ 1e-3: "adam"/"rmsprop"/... (Keras's 1e-3 defaults), no
    optimizer (rmsprop), or a construction whose lr resolves that low."""
    if given is compile_call.node:
        return True  # Keras compiles with rmsprop at 1e-3 when no optimizer is given
    if isinstance(given, cst.SimpleString):
        kind = K.OPTIMIZER_STRINGS.get(str(given.evaluated_value).lower())
        return _modest_kind(kind, K.DEFAULT_LR.get(kind or ""))
    opt = _optimizer_at(given, facts)
    return opt is not None and _modest_kind(opt.kind, opt.lr_number)


def _tape_optimizer_modest(step: CallInfo, facts: ModuleFacts) -> bool:
    """The optimizer an apply_gradients call steps is adaptive at lr ≤ 1e-3 (built under that name in the
    file, or compile()'s optimizers for `self.optimizer` in a train_step override)."""
    name = (step.receiver or "").rpartition(".")[2]
    built = [o for o in facts.optimizers
             if o.call.qualname in K.OPTIMIZERS and (o.call.target or "").rpartition(".")[2] == name]
    if built:
        return all(_modest_kind(o.kind, o.lr_number) for o in built)
    if step.receiver == "self.optimizer":
        compiled = [c for c in facts.all_calls if c.method == "compile"]
        return bool(compiled) and all(
            _given_optimizer_modest(c.argument("optimizer", 0) or c.node, c, facts) for c in compiled)
    return False


def _project_layer_built(use: LayerUse, facts: ModuleFacts) -> list[Built]:
    """Every recurrent/attention construction of a project layer class applied in the model."""
    cls = facts.classes[use.label]
    return [Built(c.qualname, c.node, c.scope)
            for method in cls.methods.values() for c in method.calls if c.qualname in K.RISKY_LAYERS]


def _project_layer_risk(use: LayerUse, facts: ModuleFacts) -> LayerUse | None:
    """A project layer class applied in the model (TransformerBlock(...)(x)) that builds a risky layer."""
    cls = facts.classes.get(use.label)
    for method in cls.methods.values() if cls is not None else ():
        for call in method.calls:
            if call.qualname in K.RISKY_LAYERS:
                return LayerUse("attention", f"{cls.name} → {call.qualname.rpartition('.')[2]}", call.node)
    return None
