"""GL401 — log(softmax(x)) / log(sigmoid(x)): the probability underflows to 0 before the log sees it."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding
from gradlint.facts.context import without_gradient
from gradlint.facts import vocab
from gradlint.facts import vocab_keras as K
from gradlint.facts.names import dotted, walk
from gradlint.facts.tensors import Source, source_of
from gradlint.finding import Edit, Fix

_PROBABILITIES = ("softmax", "sigmoid")
_LOGS = {**vocab.LOG_FUNCTIONS, **K.LOG_FUNCTIONS}
_NATURAL_LOGS = {"torch.log", "tf.math.log", "keras.ops.log", "keras.backend.log"}


def log_argument(call) -> tuple[str, cst.BaseExpression, bool] | None:
    """`torch.log(p)` → ("torch.log", p, True); `p.log2()` → ("p.log2()", p, False); else None."""
    if call.qualname in _LOGS:
        argument = call.argument("input", 0) or call.kwarg("x")
        name = _LOGS[call.qualname]
        return (name, argument, name in _NATURAL_LOGS) if argument is not None else None
    if call.qualname is None and call.method in vocab.LOG_METHODS and not call.node.args:
        receiver = call.node.func.value
        label = f"{dotted(receiver)}.{call.method}()" if dotted(receiver) else f".{call.method}()"
        return label, receiver, call.method == "log"
    return None


def check(facts, settings):
    for call in facts.all_calls:
        found = log_argument(call)
        if found is None:
            continue
        log_name, argument, natural = found
        source = source_of(argument, call.scope, facts)
        complement = False
        if source is None:
            source, complement = _one_minus_sigmoid(argument, call, facts), True
        if source is None or source.kind not in _PROBABILITIES:
            continue
        if without_gradient(call, facts):
            continue  # no backward through it: at worst a -inf in an evaluation metric, not a NaN gradient
        yield finding(
            facts, "GL401", call.node, _message(facts, log_name, source, complement, call.qualname in K.LOG_FUNCTIONS),
            fix=_fix(facts, call, argument, source) if natural and not complement else None,
        )


def _one_minus_sigmoid(argument, call, facts) -> Source | None:
    """`torch.log(1 - torch.sigmoid(x))`: the other half of a hand-written binary cross-entropy."""
    if isinstance(argument, cst.BinaryOperation) and isinstance(argument.operator, cst.Subtract):
        one = facts.resolve(argument.left, call.scope)
        if one is not None and one.value == 1:
            inner = source_of(argument.right, call.scope, facts)
            if inner is not None and inner.kind == "sigmoid":
                return inner
    return None


def _message(facts, log_name: str, source: Source, complement: bool, tf_log: bool = False) -> str:
    """What is logged and the stable form to use, in the framework of the log (`tf.math.log` of a helper's
    sigmoid gets TensorFlow's spelling); why the probability underflows is the rule page's."""
    where = f"`{source.via}` = {source.label} in line {facts.line(source.node)}" if source.via else source.label
    if complement:
        stable = "tf.math.log_sigmoid(-logits)" if tf_log or _is_tensorflow(facts, source) else "F.logsigmoid(-logits)"
        return f"{log_name} of 1 - {where} is -inf once the sigmoid rounds to 1; use {stable}"
    default = "F.log_softmax(logits, dim=...)" if source.kind == "softmax" else "F.logsigmoid(logits)"
    stable = _suggestion(facts, source, tf_log) or default
    return f"{log_name} of {where} is -inf once the {source.kind} underflows to 0; use {stable}"


def _suggestion(facts, source: Source, tf_log: bool = False) -> str | None:
    tf_form = _tf_replacement(facts, source)
    if tf_form is not None or tf_log or _is_tensorflow(facts, source):
        return _shown(facts, tf_form) if tf_form is not None else (
            "tf.nn.log_softmax(logits)" if source.kind == "softmax" else "tf.math.log_sigmoid(logits)")
    if not _is_function_call(facts, source):
        return None
    if source.kind == "softmax":
        replacement = _softmax_replacement(facts, source.node)
    else:
        replacement = _sigmoid_replacement(facts, source.node, source)
    return _shown(facts, replacement) if replacement is not None else None


def _shown(facts, call: cst.Call, limit: int = 48) -> str:
    """The suggested call for a message: whole when short, else with its first argument elided, which
    keeps what matters (`F.log_softmax(…, dim=1)`)."""
    code = " ".join(facts.module.code_for_node(call).split())
    if len(code) <= limit:
        return code
    func = facts.module.code_for_node(call.func)
    rest = ", ".join(" ".join(facts.module.code_for_node(a).split()).rstrip(",") for a in call.args[1:])
    short = f"{func}(…, {rest})" if rest else f"{func}(…)"
    return short if len(short) <= limit else f"{func}(…)"


def _fix(facts, call, argument, source: Source) -> Fix | None:
    """The natural log of the call itself (`torch.log(F.softmax(x, dim=1))`, `x.softmax(1).log()`), or of
    a variable assigned it in the same function (`p = F.softmax(x, -1)` … `torch.log(p)`, see _fix_via)."""
    if source.node is not argument:
        return _fix_via(facts, call, argument, source)
    if not (_is_function_call(facts, source) or _tf_replacement(facts, source)):
        return None
    inner: cst.Call = source.node
    replacement = _tf_replacement(facts, source) or (
        _softmax_replacement(facts, inner) if source.kind == "softmax" else _sigmoid_replacement(facts, inner, source))
    if replacement is None:
        return None
    span = facts.span(call.node)
    code = facts.module.code_for_node(replacement)
    return Fix(
        "safe", f"Replace with `{code}`" if len(code) < 60 else "Replace with the stable log-space function",
        edits=(Edit(code, (span.row, span.column), (span.end_row, span.end_column)),),
    )


def _replacement(facts, source: Source) -> cst.Call | None:
    if not (_is_function_call(facts, source) or _tf_replacement(facts, source)):
        return None
    return _tf_replacement(facts, source) or (
        _softmax_replacement(facts, source.node) if source.kind == "softmax"
        else _sigmoid_replacement(facts, source.node, source))


def _fix_via(facts, call, argument, source: Source) -> Fix | None:
    """`probs = F.softmax(logits, -1)` … `torch.log(probs)` → `F.log_softmax(logits, -1)` in place of the log.

    Offered only when `probs` is bound once, in the log's own function and block, and nothing the softmax
    reads (`logits`) is rebound or changed in place between the two lines: then the log-space call
    computes the same value. Safe when `probs` has no other use (its assignment, now dead, is removed);
    unsafe when it has (the softmax stays for them; review that the two still agree)."""
    via = source.via
    scope = call.scope
    if via is None or not isinstance(argument, cst.Name) or argument.value != via or via in scope.params:
        return None
    values = scope.assigns.get(via)
    if values is None or len(values) != 1 or values[0] is not source.node:
        return None
    replacement = _replacement(facts, source)
    function = next((f for f in (facts.top, *facts.functions) if f.scope is scope), None)
    producer = next((c for c in function.calls if c.node is source.node), None) if function else None
    if replacement is None or producer is None or not _same_blocks(producer.blocks, call.blocks):
        return None
    made, used = facts.span(source.node), facts.span(call.node)
    if made.end_row >= used.row:
        return None
    read = {node.value for node in walk(*source.node.args) if isinstance(node, cst.Name)}
    if _changed_between(facts, function.node, read, made.end_row, used.row):
        return None
    code = facts.module.code_for_node(replacement)
    edits = [Edit(code, (used.row, used.column), (used.end_row, used.end_column))]
    uses = sum(1 for node in walk(function.node) if isinstance(node, cst.Name) and node.value == via)
    if uses > 2:  # the assignment's target, the log's argument, and more: the softmax is still needed
        return Fix("unsafe", f"Replace with `{code}` (`{via}` is used elsewhere too)"[:120], edits=tuple(edits))
    removal = _assignment_removal(facts, via, made)
    label = f"Replace with `{code}`" if len(code) < 60 else "Replace with the stable log-space function"
    return Fix("safe", label + (f" and remove the `{via}` assignment" if removal else ""),
               edits=tuple([removal, *edits] if removal else edits))


def _same_blocks(a, b) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _changed_between(facts, function_node, names: set[str], after_row: int, before_row: int) -> bool:
    """Whether a line in (after_row, before_row] rebinds one of `names` (an assignment of any form, a loop
    or `with` target, a walrus) or changes it in place (`logits.add_(1)`, `logits[0] = 0`)."""
    for node in walk(function_node):
        targets = ()
        if isinstance(node, cst.Assign):
            targets = tuple(t.target for t in node.targets)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For, cst.CompFor)):
            targets = (node.target,)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = (node.asname.name,)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value.endswith("_"):
            targets = (node.func.value,)
        for target in targets:
            for part in walk(target):
                if isinstance(part, cst.Name) and part.value in names:
                    if after_row < facts.span(part).row <= before_row:
                        return True
    return False


def _assignment_removal(facts, via: str, made) -> Edit | None:
    """The edit deleting `via = <softmax call>` when it is a statement of its own lines, else None."""
    import re

    from gradlint.engine import LINE_BREAK

    lines = LINE_BREAK.split(facts.module.code)
    first, last = lines[made.row - 1], lines[made.end_row - 1]
    head = re.fullmatch(rf"[ \t]*{re.escape(via)}[ \t]*=[ \t]*", first[: made.column - 1])
    tail = last[made.end_column - 1:].strip()
    if head is None or (tail and not tail.startswith("#")):
        return None
    return Edit("", (made.row, 1), (made.end_row + 1, 1))


def _is_tensorflow(facts, source: Source) -> bool:
    """A probability TensorFlow/Keras produced: a tf/keras function, or a Keras layer's activation."""
    node = source.node
    qualname = facts.scope.qualify(node.func) if isinstance(node, cst.Call) else None
    return bool(qualname and qualname.startswith(("tensorflow.", "keras.")))


def _tf_replacement(facts, source: Source) -> cst.Call | None:
    """tf.nn.softmax(x) → tf.nn.log_softmax(x); tf.sigmoid(x) → tf.math.log_sigmoid(x) (one argument only)."""
    node = source.node
    if not isinstance(node, cst.Call) or source.operand is None:
        return None
    qualname = facts.scope.qualify(node.func)
    if qualname == "tensorflow.nn.softmax" and isinstance(node.func, cst.Attribute):
        return node.with_changes(func=node.func.with_changes(attr=cst.Name("log_softmax")))
    if qualname in ("tensorflow.sigmoid", "tensorflow.nn.sigmoid") and len(node.args) == 1 and not node.args[0].keyword:
        local = next((name for name, full in facts.scope.imports.items() if full == "tensorflow"), None)
        return cst.Call(func=cst.parse_expression(f"{local}.math.log_sigmoid"), args=[cst.Arg(source.operand)]) if local else None
    return None


def _is_function_call(facts, source: Source) -> bool:
    """`F.softmax(x, 1)` / `x.softmax(1)` / `torch.sigmoid(x)`: a call that can be rewritten (not a module's)."""
    node = source.node
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == source.kind and facts.scope.qualify(func) is None:
        return True  # the tensor method x.softmax(dim) / x.sigmoid()
    qualified = facts.scope.qualify(func)
    return qualified in (vocab.SOFTMAX_FUNCTIONS if source.kind == "softmax" else vocab.SIGMOID_FUNCTIONS)


def _softmax_replacement(facts, inner: cst.Call) -> cst.Call | None:
    func = inner.func
    if isinstance(func, cst.Attribute):  # torch.softmax / F.softmax / x.softmax → the log_softmax beside it
        return inner.with_changes(func=func.with_changes(attr=cst.Name("log_softmax")))
    spelled = _spelling(facts, "log_softmax")
    return inner.with_changes(func=cst.parse_expression(spelled)) if spelled else None


def _sigmoid_replacement(facts, inner: cst.Call, source: Source) -> cst.Call | None:
    if source.operand is None or any(a.keyword is not None or a.star for a in inner.args) or len(inner.args) > 1:
        return None
    spelled = _spelling(facts, "logsigmoid", functional_only=True)
    if spelled is None:
        return None
    return cst.Call(func=cst.parse_expression(spelled), args=[cst.Arg(source.operand)])


def _spelling(facts, name: str, functional_only: bool = False) -> str | None:
    """How this file can write torch.nn.functional.<name>: `F.<name>` when it imports F, else via torch."""
    imports = facts.scope.imports
    for local, qualified in imports.items():
        if qualified == "torch.nn.functional":
            return f"{local}.{name}"
    for local, qualified in imports.items():
        if qualified == "torch.nn":
            return f"{local}.functional.{name}"
    for local, qualified in imports.items():
        if qualified == "torch":
            return f"{local}.{name}" if not functional_only else f"{local}.nn.functional.{name}"
    return None
