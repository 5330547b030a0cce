"""The Keras front-end: Keras/TensorFlow code filling the same framework-neutral facts.

A `Dense(64, activation="sigmoid")` is a weight layer followed by a saturating activation, exactly
like `nn.Linear` then `nn.Sigmoid`; a `keras.optimizers.SGD(learning_rate=...)` is an optimizer like
`torch.optim.SGD`. Checks read the chains and optimizers and never ask which framework built them.
"""

from __future__ import annotations

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.keras_functional import functional_chains
from gradlint.facts.layers import Chain, LayerUse, _ForwardFlow, _loop_at, loop_count
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted
from gradlint.facts.values import Value


def _short(qualname: str) -> str:
    return qualname.replace("keras.layers.", "").replace("keras.", "")


def _is_selu(expr: cst.BaseExpression | None, scope: Scope) -> bool:
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value == "selu"
    return expr is not None and (scope.qualify(expr) or "").rsplit(".", 1)[-1] == "selu"


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
        elif _is_selu(kwarg("activation"), scope):
            # SELU (with LeCun init) is self-normalizing: it keeps activations standardised like a norm layer.
            uses.append(LayerUse("norm", f"{label}(activation='selu')", call, container))
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
        chains.extend(functional_chains(fn, facts, layer_uses))
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
        uses.extend(_unrolled(_adds_to(call, fn), 0, facts, call.node))
    return Chain(tuple(uses), "keras Sequential", call.node)


def _adds_to(call: CallInfo, fn: FunctionInfo) -> list[CallInfo]:
    """The `model.add(...)` calls on this binding of the name: after it, before the name is bound again;
    of an `if`/`else` that both add layers, only the `if` branch (one model gets one of them)."""
    start = fn.calls.index(call)
    adds = []
    for other in fn.calls[start + 1:]:
        if other.target == call.target:
            break
        if other.receiver == call.target and other.method == "add" and other.node.args:
            adds.append(other)
    if_tests = {id(b.test) for add in adds for b in add.blocks if b.kind == "if"}
    return [a for a in adds if not any(b.kind == "else" and id(b.test) in if_tests for b in a.blocks)]


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


# -- what a model outputs (GL402) ------------------------------------------------------------------
def keras_output(construction: cst.Call, qualname: str, scope: Scope, facts: ModuleFacts, depth: int):
    """The probability a Keras layer or model construction outputs: Dense(10, activation="softmax"),
    Activation("sigmoid"), Softmax(), a Sequential whose last layer is one, keras.Model(inputs, outputs)."""
    from gradlint.facts.tensors import Source, code_of, source_of

    def kwarg(name: str, index: int | None = None):
        for arg in construction.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        positional = [a.value for a in construction.args if a.keyword is None and not a.star]
        return positional[index] if index is not None and index < len(positional) else None

    kind = None
    if qualname in K.WEIGHT_LAYERS:
        kind = probability_activation(kwarg("activation"), scope)
    elif qualname == K.ACTIVATION_LAYER:
        kind = probability_activation(kwarg("activation", 0), scope)
    elif qualname in K.SOFTMAX_LAYERS:
        kind = "softmax"
    elif qualname == f"{K.L}.TimeDistributed":
        inner = kwarg("layer", 0)
        inner_name = scope.qualify(inner.func) if isinstance(inner, cst.Call) else None
        return keras_output(inner, inner_name, scope, facts, depth + 1) if inner_name else None
    elif qualname in K.SEQUENTIAL:
        last = last_layer(construction, facts)
        inner_name = scope.qualify(last.func) if last is not None else None
        return keras_output(last, inner_name, scope, facts, depth + 1) if inner_name else None
    elif qualname in K.FUNCTIONAL_MODEL:
        outputs = kwarg("outputs", 1)
        if isinstance(outputs, cst.Name):
            outputs = final_value(outputs.value, construction, facts)
        return source_of(outputs, scope, facts, depth + 1) if outputs is not None else None
    return Source(kind, code_of(facts, construction), construction) if kind else None


def probability_activation(expr: cst.BaseExpression | None, scope: Scope) -> str | None:
    """'softmax' for activation="softmax" / tf.nn.softmax / keras.activations.softmax; 'sigmoid' likewise."""
    if isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        return K.PROBABILITY_ACTIVATIONS.get(expr.evaluated_value)
    return K.PROBABILITY_FUNCTIONS.get(scope.qualify(expr) or "") if expr is not None else None


def call_info(node: cst.CSTNode, facts: ModuleFacts) -> tuple[CallInfo, FunctionInfo] | None:
    for fn in (facts.top, *facts.functions):
        for call in fn.calls:
            if call.node is node:
                return call, fn
    return None


def last_layer(sequential: cst.Call, facts: ModuleFacts) -> cst.Call | None:
    """The layer a keras.Sequential ends with: its last `model.add(...)`, else the last list element.

    An `add` inside an `if`, `try` or a loop that may not run makes the last layer uncertain: None.
    """
    found = call_info(sequential, facts)
    if found is None:
        return None
    call, fn = found
    adds = [c for c in fn.calls if call.target and c.receiver == call.target and c.method == "add" and c.node.args]
    if adds:
        last = adds[-1]
        if any(b.kind in ("if", "else", "try") for b in last.blocks[len(call.blocks):]):
            return None
        value = last.node.args[0].value
        return value if isinstance(value, cst.Call) else None
    layers = call.argument("layers", 0)
    if isinstance(layers, (cst.List, cst.Tuple)) and layers.elements:
        value = layers.elements[-1].value
        return value if isinstance(value, cst.Call) else None
    return None


def final_value(name: str, use: cst.Call, facts: ModuleFacts) -> cst.BaseExpression | None:
    """The value `name` holds at `use` when it was rebound in straight-line code (`x = Dense(...)(x)`).

    Only the plain case is followed: the use and the last assignment are both outside any block of
    the function, and the last assignment (in source order) is a call recorded before the use.
    """
    found = call_info(use, facts)
    if found is None:
        return None
    call, fn = found
    if name in call.scope.params:
        return None
    values = call.scope.assigns.get(name, [])
    if len(values) <= 1 or call.blocks:
        return call.scope.binding(name)
    last = values[-1]
    index = {id(c.node): (i, c) for i, c in enumerate(fn.calls)}
    position = index.get(id(last))
    if position is None or position[1].blocks or position[0] > fn.calls.index(call):
        return None
    return last


# -- the model a compile()/fit()/tape step trains ---------------------------------------------------
def binding_at(name: str, at: CallInfo, facts: ModuleFacts) -> cst.BaseExpression | None:
    """The value `name` holds when `at` runs: its only binding; or, when the function that runs `at` rebinds
    it (a notebook builds `model = ...` cell after cell), the last assignment before `at` in straight-line
    code. A `def` of the same name in an earlier cell (`def model(inputs): ...`, then `model = Sequential(...)`)
    is passed over when it comes before that assignment. None when that cannot be told (a parameter, an
    assignment that is not a call, one inside a branch or loop that `at` is not in)."""
    single = at.scope.binding(name)
    values = at.scope.assigns.get(name, [])
    if single is not None or len(values) < 2 or name in at.scope.params:
        return single
    fn = next((f for f in (facts.top, *facts.functions) if f.scope is at.scope), None)
    index = {id(c.node): i for i, c in enumerate(fn.calls)} if fn is not None else {}
    made = [v for v in values if isinstance(v, cst.Call) and id(v) in index]
    defs = [f.node for f in facts.functions if f.name == name and f.scope.parent is at.scope and f.class_name is None]
    if id(at.node) not in index or len(made) + len(defs) != len(values):
        return None
    before = [index[id(v)] for v in made if index[id(v)] < index[id(at.node)]]
    if not before:
        return None
    assigned = fn.calls[max(before)]
    if assigned.blocks != at.blocks[:len(assigned.blocks)]:
        return None
    if defs and any(facts.line(d) > facts.line(assigned.node) for d in defs):
        return None  # a def after the assignment may be what the name holds
    return assigned.node


def trained_chain(name: str, at: CallInfo, facts: ModuleFacts) -> tuple[bool, Chain | None]:
    """(pretrained, chain) of the model a name holds at `at` (a compile(), fit() or tape step): its
    Sequential, functional graph or subclassed call(); `self` in a train_step is the class's own call().
    (True, None) for a pretrained preset (`from_preset`, `keras.applications`); (False, None) when the model
    cannot be tied to a chain in this file."""
    scope = at.scope
    construction = binding_at(name, at, facts) if name != "self" else None
    chains = {id(chain.node): chain for chain in facts.chains}
    chain = None
    if name == "self":
        from gradlint.facts.tensors import class_of

        cls = class_of(scope, facts)
        chain = chains.get(id(cls.methods["call"].node)) if cls is not None and "call" in cls.methods else None
    elif isinstance(construction, cst.Call):
        qualname = scope.qualify(construction.func)
        if _pretrained(construction, qualname):
            return True, None
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
    return False, chain


def compiled_chain(optimizer: CallInfo, facts: ModuleFacts) -> tuple[bool, Chain | None]:
    """(tied, chain) of the model a Keras optimizer construction is compiled into: `model.compile(optimizer=
    RMSprop(0.1))`, or a name bound to it, read as `model` stands at that compile(). (False, None) when no
    compile() takes it (a tape step, an optimizer passed on)."""
    for call in facts.calls_by_method.get("compile", ()):
        given = call.argument("optimizer", 0)
        if isinstance(given, cst.Name) and optimizer.target == given.value:
            given = call.scope.binding(given.value)
        if given is optimizer.node and call.receiver and "." not in call.receiver:
            pretrained, chain = trained_chain(call.receiver, call, facts)
            return not pretrained and chain is not None, chain
    return False, None


def _pretrained(construction: cst.Call, qualname: str | None) -> bool:
    method = construction.func.attr.value if isinstance(construction.func, cst.Attribute) else None
    return method in K.PRETRAINED_METHODS or (qualname or "").startswith(K.APPLICATIONS)


def _built_by_function(name: str, chains: dict, facts: ModuleFacts):
    """The one model a module-level builder function constructs (`def build_model(): ... return Model(...)`)."""
    builder = next((f for f in facts.functions if f.name == name and f.class_name is None), None)
    if builder is None:
        return None
    built = [chains[id(c.node)] for c in builder.calls if id(c.node) in chains]
    return built[0] if len(built) == 1 else None



# -- losses (GL402) --------------------------------------------------------------------------------
def from_logits(construction: cst.Call, scope: Scope, facts: ModuleFacts) -> bool:
    for arg in construction.args:
        if arg.keyword is not None and arg.keyword.value == "from_logits":
            value = facts.resolve(arg.value, scope)
            return value is not None and value.value is True
    return False


def logit_loss(expr: cst.BaseExpression | None, scope: Scope, facts: ModuleFacts) -> tuple[str, cst.Call] | None:
    """('CrossEntropyLoss', construction) for a Keras loss object built with from_logits=True (or a name bound
    to one, or `self.loss_fn` set in __init__); the loss kind is the PyTorch loss that behaves the same way."""
    from gradlint.facts.tensors import class_of

    if isinstance(expr, cst.Name):
        expr = scope.binding(expr.value)
    elif isinstance(expr, cst.Attribute) and (dotted(expr) or "").count(".") == 1 and dotted(expr.value) == "self":
        cls = class_of(scope, facts)
        scope, expr = (cls.scope, cls.attrs.get(expr.attr.value)) if cls is not None else (scope, None)
    if not isinstance(expr, cst.Call):
        return None
    kind = K.LOSS_CLASSES.get(scope.qualify(expr.func) or "")
    return (kind, expr) if kind and from_logits(expr, scope, facts) else None


def keras_loss_input(call: CallInfo, facts: ModuleFacts) -> tuple[str, cst.BaseExpression, str] | None:
    """(kind, the predictions it receives, how it was spelled) for a Keras/TF loss call that expects logits."""
    from gradlint.facts.tensors import code_of

    qualname = call.qualname or ""
    if qualname in K.LOGIT_LOSSES:
        logits = call.argument("logits", 1)
        return (K.LOGIT_LOSSES[qualname], logits, qualname.replace("tensorflow.", "tf.")) if logits else None
    if qualname in K.LOSS_FUNCTIONS:
        if not from_logits(call.node, call.scope, facts):
            return None
        predictions = call.argument("y_pred", 1)
        return (K.LOSS_FUNCTIONS[qualname], predictions, f"{_short(qualname)}(from_logits=True)") if predictions else None
    if qualname:
        return None
    found = logit_loss(call.node.func, call.scope, facts)  # loss_fn(y, p), self.loss_fn(y, p), Loss(...)(y, p)
    predictions = call.argument("y_pred", 1)
    if found is None or predictions is None:
        return None
    return found[0], predictions, code_of(facts, found[1], 60)


def compiled_losses(facts: ModuleFacts):
    """(compile call, model text, loss kind, loss construction) for `model.compile(loss=...)` with a loss
    object that expects logits."""
    for call in facts.all_calls:
        if call.method != "compile" or not call.receiver:
            continue
        found = logit_loss(call.argument("loss", 1), call.scope, facts)
        if found is not None:
            yield call, call.receiver, found[0], found[1]

