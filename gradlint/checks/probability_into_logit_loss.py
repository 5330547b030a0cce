"""GL402 — a sigmoid/softmax output passed to a loss that expects logits (or log-probabilities)."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from gradlint.checks import finding
from gradlint.facts import vocab
from gradlint.facts.context import only_reported, without_gradient
from gradlint.facts.flow import argument_values
from gradlint.facts.names import dotted
from gradlint.facts.keras import compiled_losses, keras_loss_input
from gradlint.facts.tensors import class_of, code_of, model_output, module_output, source_of, unmoved
from gradlint.finding import Edit, Fix
from gradlint.fix.edits import source as source_text

# (loss, what produced its input) → what is wrong and what to write instead, in a few words; why each
# pairing loses the gradient is the rule page's (`gradlint rule GL402`).
_VERDICTS = {
    ("CrossEntropyLoss", "softmax"): "softmax runs twice; pass the logits",
    ("CrossEntropyLoss", "sigmoid"): "it expects logits; drop the sigmoid",
    ("NLLLoss", "softmax"): "it expects log-probabilities; use log_softmax",
    ("BCEWithLogitsLoss", "sigmoid"): "the sigmoid runs twice; pass the logits",
    ("BCELoss", "sigmoid"): "no gradient where it saturates; use BCEWithLogitsLoss on the logits",
}


# The same mistakes in Keras/TensorFlow, where a loss expects logits when built with from_logits=True
# (or is a tf.nn.*_with_logits function): the decision is the same, the remedy is spelled differently.
_KERAS_VERDICTS = {
    ("CrossEntropyLoss", "softmax"): "it runs twice",
    ("CrossEntropyLoss", "sigmoid"): "the loss expects logits",
    ("BCEWithLogitsLoss", "sigmoid"): "it runs twice",
}


def _keras_remedy(produced: str, flag: bool) -> str:
    return f"drop the {produced} or set from_logits=False" if flag else f"drop the {produced}"


def loss_kind(call, facts) -> str | None:
    """'BCELoss', 'CrossEntropyLoss', … for a loss function call or a call of a loss module (also spelled
    `criterion.forward(p, y)`, and a criterion passed in as a parameter)."""
    kind = vocab.LOSS_FUNCTIONS.get(call.qualname or "")
    if kind is not None:
        return kind
    func = call.node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "forward":
        func = func.value
    if isinstance(func, cst.Call):  # nn.BCELoss()(p, y)
        return _loss_class(func, call.scope)
    if isinstance(func, cst.Name):  # criterion = nn.BCELoss() … criterion(p, y)
        construction = call.scope.binding(func.value)
        if construction is None and func.value in call.scope.params:
            return _passed_loss(func.value, call.scope, facts)
        return _loss_class(construction, call.scope)
    text = dotted(func) or ""
    cls = class_of(call.scope, facts) if text.startswith("self.") and text.count(".") == 1 else None
    if cls is not None:  # self.criterion = nn.BCELoss() in __init__
        bound = cls.attrs.get(text[5:])
        return _loss_class(_init_default(cls, bound) or bound, cls.scope)
    return None


def _init_default(cls, bound):
    """`def __init__(self, loss=nn.CrossEntropyLoss()): self.loss = loss`: the default the class is built for."""
    init = cls.methods.get("__init__")
    if not isinstance(bound, cst.Name) or init is None or bound.value not in init.scope.params:
        return None
    return init.scope.params[bound.value]


def _loss_class(construction, scope) -> str | None:
    """The loss a construction builds: `nn.CrossEntropyLoss()`, also moved (`nn.CrossEntropyLoss().cuda()`)."""
    construction = unmoved(construction, moves=("cuda", "to"))
    if isinstance(construction, cst.Call):
        return vocab.LOSS_CLASSES.get(scope.qualify(construction.func) or "")
    return None


def _passed_loss(name, scope, facts) -> str | None:
    """`def train(model, loss, …)`: the loss every call site of the file passes, when they all agree."""
    kinds = set()
    for value, caller in argument_values(scope, name, facts) or ():
        if isinstance(value, cst.Name):
            value = caller.binding(value.value)
        kinds.add(_loss_class(value, caller))
    return kinds.pop() if len(kinds) == 1 else None


def check(facts, settings):
    yield from _keras(facts)
    yield from _skorch(facts)
    for call in facts.all_calls:
        kind = loss_kind(call, facts)
        if kind is None or only_reported(call, facts) or without_gradient(call, facts):
            continue  # a loss that is only printed, or computed where no gradient flows, trains nothing
        source = source_of(call.argument("input", 0), call.scope, facts)
        if source is None:
            continue
        where = _where(facts, source, call.node)
        if source.kind in ("project", "param"):  # another file decides: one candidate per wrong pairing
            where = where.rpartition(" → ")[0]  # the other file's summary names the rest: "Net.forward returns …"
            prefix = f"{where} → " if where else ""
            for produced in (p for (k, p) in _VERDICTS if k == kind):
                yield replace(finding(
                    facts, "GL402", call.node,
                    f"{kind} receives a {produced} output ({prefix}{{evidence}}): {_VERDICTS[(kind, produced)]}",
                ), needs=(f"{'output' if source.kind == 'project' else 'param'}:{produced}:{source.ref}",))
        elif (kind, source.kind) in _VERDICTS:
            yield finding(
                facts, "GL402", call.node,
                f"{kind} receives a {source.kind} output ({where}): {_VERDICTS[(kind, source.kind)]}",
                fix=_drop_activation(facts, call, kind, source),
            )


def _where(facts, source, at) -> str:
    """The path the value took: "`probs` = model(x) in line 12 → Net.forward returns F.softmax(z)"."""
    first, arrow, rest = source.label.partition(" → ")
    line = facts.line(source.node)
    if line != facts.line(at):
        first += f" in line {line}"
    where = first + arrow + rest
    return where if source.via is None else f"`{source.via}` = {where}"


def _skorch(facts):
    """skorch: `NeuralNet(Module, criterion=nn.CrossEntropyLoss)` applies the criterion to the module's output."""
    for call in facts.all_calls:
        if call.qualname not in vocab.SKORCH_NETS:
            continue
        criterion = call.kwarg("criterion")
        if criterion is None:
            kind = vocab.SKORCH_NETS[call.qualname]
        else:
            kind = vocab.LOSS_CLASSES.get(call.scope.qualify(criterion) or "")
        if kind == "NLLLoss" and call.qualname.endswith("Classifier"):
            continue  # NeuralNetClassifier takes the log of the output itself before an NLLLoss
        module = call.argument("module", 0)
        if kind is None or module is None:
            continue
        source = module_output(module, call.scope, facts)
        if source is None or (kind, source.kind) not in _VERDICTS:
            continue
        yield finding(
            facts, "GL402", call.node,
            f"{kind} (the criterion {call.qualname.rpartition('.')[2]} applies) receives a {source.kind} output "
            f"({source.label} in line {facts.line(source.node)}): {_VERDICTS[(kind, source.kind)]}",
        )


# Where dropping the activation (and, for BCE, switching to the logits form) is the whole fix.
_DROPPABLE = {("CrossEntropyLoss", "softmax"), ("CrossEntropyLoss", "sigmoid"), ("BCEWithLogitsLoss", "sigmoid"),
              ("BCELoss", "sigmoid")}


def _logits_of(expr, scope) -> cst.BaseExpression | None:
    """`z` in F.softmax(z, dim=1), torch.sigmoid(z) (functions) and z.softmax(-1), z.sigmoid() (methods)."""
    if not isinstance(expr, cst.Call):
        return None
    if scope.qualify(expr.func) is None and isinstance(expr.func, cst.Attribute):
        return expr.func.value  # a tensor method: the tensor is the logits
    positional = [a.value for a in expr.args if a.keyword is None and not a.star]
    return positional[0] if positional else None


def _drop_activation(facts, call, kind, source):
    """Unsafe: pass the logits instead of the probabilities (the nested form only: nothing else uses them)."""
    produced, arg = source.kind, call.argument("input", 0)
    if (kind, produced) not in _DROPPABLE or source.node is not arg:
        return None  # `probs.view(-1, n)`: the activation is elsewhere, and `probs` is not the logits
    logits = _logits_of(arg, call.scope)
    if logits is None:
        return None
    edits = []
    if kind == "BCELoss":
        func = call.node.func
        if vocab.LOSS_FUNCTIONS.get(call.qualname or "") != "BCELoss" or not isinstance(func, (cst.Name, cst.Attribute)):
            return None  # a BCELoss module object: its construction would have to change too
        span = facts.span(func)
        edits.append(Edit(source_text(facts, func) + "_with_logits", (span.row, span.column),
                          (span.end_row, span.end_column)))
    span = facts.span(arg)
    edits.append(Edit(source_text(facts, logits), (span.row, span.column), (span.end_row, span.end_column)))
    return Fix("unsafe", f"Pass the logits to {kind if kind != 'BCELoss' else 'the with-logits loss'} "
               f"instead of the {produced} output", tuple(edits))


def _keras(facts):
    """Keras/TF: a loss that expects logits, called on (or compiled with a model ending in) a probability."""
    for call in facts.all_calls:
        found = keras_loss_input(call, facts)
        if found is None:
            continue
        kind, predictions, label = found
        source = source_of(predictions, call.scope, facts)
        if source is None or (kind, source.kind) not in _KERAS_VERDICTS:
            continue
        where = source.label if source.via is None else f"`{source.via}` = {source.label}"
        line = facts.line(source.node)
        where += f" in line {line}" if line != facts.line(call.node) else ""
        yield finding(
            facts, "GL402", call.node,
            f"{label} receives a {source.kind} output ({where}): {_KERAS_VERDICTS[(kind, source.kind)]}; "
            f"{_keras_remedy(source.kind, 'from_logits' in label or 'tf.nn.' not in label)}",
        )
    reported = set()
    for compile_call, model, kind, construction in compiled_losses(facts):
        source = model_output(model, compile_call.scope, facts)
        if source is None or (kind, source.kind) not in _KERAS_VERDICTS or id(construction) in reported:
            continue
        reported.add(id(construction))
        yield finding(
            facts, "GL402", construction,
            f"{code_of(facts, construction, 80)} is compiled (line {facts.line(compile_call.node)}) with `{model}`, "
            f"whose output is already a {source.kind} ({source.label}, line {facts.line(source.node)}): "
            f"{_KERAS_VERDICTS[(kind, source.kind)]}; {_keras_remedy(source.kind, True)}",
            also=(compile_call.node,),
        )
