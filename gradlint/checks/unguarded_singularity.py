"""GL403 — x / x.norm(), sqrt of a sum of squares, log of something that can be 0: no eps in sight."""

from __future__ import annotations

import re

import libcst as cst

from gradlint.checks import finding
from gradlint.checks.log_of_softmax import log_argument
from gradlint.facts import vocab
from gradlint.facts import vocab_keras as K
from gradlint.facts.names import dotted
from gradlint.facts.context import never_trains, without_gradient
from gradlint.facts.tensors import Division, divisions, source_of

_SQRT_OF = {"sum_of_squares": "a sum of squares", "variance": "a variance"}
_LOG_OF = {"relu": "a ReLU output", "norm": "a norm", "variance": "a variance", "std": "a standard deviation",
           "sum_of_squares": "a sum of squares"}
_DIVIDE_BY = {"norm": "a norm", "std": "a standard deviation"}
# The remedies in a few words; where the zero comes from and why it turns into NaN is the rule page's.
_DIVIDE_FIX = {
    "norm": "use F.normalize(x, eps=1e-12) or norm.clamp(min=eps)",
    "std": "divide by (x.std() + 1e-8)",
}
# The same remedies in TensorFlow's spelling, for code that computes the quantity with tf/keras.
_TF_DIVIDE_FIX = {
    "norm": "use tf.math.l2_normalize(x, epsilon=1e-12) or tf.maximum(norm, eps)",
    "std": "divide by (tf.math.reduce_std(x) + 1e-8)",
}
_SQRT_FIX = "use {} or {}"


# Frameworks whose tensors carry gradients; NumPy standardisation of a fixed dataset is never differentiated.
_DIFFERENTIABLE = {"torch", "tensorflow", "keras", "jax", "flax", "lightning", "pytorch_lightning", "transformers"}


def check(facts, settings):
    if not facts.imported_roots & _DIFFERENTIABLE or never_trains(facts):
        return
    calls_by_node = {id(c.node): c for c in facts.all_calls}
    for call in facts.all_calls:
        yield from _sqrt_or_log(facts, call)
    for fn in (facts.top, *facts.functions):
        found, compared = divisions(fn)
        for division in (*found, *_division_calls(fn)):
            yield from _division(facts, fn, division, compared, calls_by_node)


def _where(facts, source, anchor) -> str:
    text = f"`{source.via}` = {source.label}" if source.via else source.label
    line = facts.line(source.node)
    return text + (f" in line {line}" if line != facts.line(anchor) else "")


def _sqrt_or_log(facts, call):
    if call.qualname in vocab.SQRT_FUNCTIONS:
        operation, argument, table = "torch.sqrt", call.argument("input", 0), _SQRT_OF
    elif call.qualname in K.SQRT_FUNCTIONS:
        operation, argument, table = call.qualname.replace("tensorflow.", "tf."), call.argument("x", 0), _SQRT_OF
    elif call.qualname is None and call.method == "sqrt" and not call.node.args:
        operation, argument, table = ".sqrt()", call.node.func.value, _SQRT_OF
    else:
        found = log_argument(call)
        if found is None:
            return
        operation, argument, _ = found
        table = _LOG_OF
    source = source_of(argument, call.scope, facts)
    if source is None or source.kind not in table or _gradient_free(facts, call, source):
        return
    tf = _tensorflow(call, source)
    if table is _SQRT_OF:
        remedy = _SQRT_FIX.format("tf.sqrt(s + 1e-12)", "tf.norm") if tf else _SQRT_FIX.format(
            "torch.sqrt(s + 1e-12)", "torch.linalg.vector_norm")
    else:
        remedy = "use tf.math.log(u + 1e-8) or tf.maximum(u, eps)" if tf else "use torch.log(u + 1e-8) or u.clamp(min=eps)"
    yield finding(facts, "GL403", call.node, f"{operation} of {table[source.kind]} ({_where(facts, source, call.node)}) "
                  f"with no eps; {remedy}")


def _division_calls(fn):
    """`x.div(n)`, `x.div_(n)`, `torch.div(x, n)`: divisions spelled as calls."""
    for call in fn.calls:
        if call.qualname in ("torch.div", "torch.true_divide", *K.DIVIDE_FUNCTIONS) and len(call.node.args) >= 2:
            yield Division(call.node, call.node.args[0].value, call.node.args[1].value)
        elif call.qualname is None and call.method in ("div", "div_", "true_divide") and len(call.node.args) == 1:
            yield Division(call.node, call.node.func.value, call.node.args[0].value)


def _division(facts, fn, division, compared, calls_by_node):
    source = source_of(division.denominator, fn.scope, facts)
    if source is None or source.kind not in _DIVIDE_BY:
        return
    guards = {dotted(division.denominator), dotted(getattr(getattr(source.node, "func", None), "value", None) or source.node)}
    if source.via:
        guards.add(source.via)
    if compared & (guards - {None}):
        return  # `if n > 0`, `n[n == 0] = 1`, `torch.where(n > 0, …)`: the zero case is handled
    producer = calls_by_node.get(id(source.node))
    if producer is None or _gradient_free(facts, producer, source) or _learned_output(source, fn.scope, division.node):
        return
    yield finding(
        facts, "GL403", division.node,
        f"division by {_DIVIDE_BY[source.kind]} ({_where(facts, source, division.node)}) with no eps; "
        f"{(_TF_DIVIDE_FIX if _tensorflow(producer, source) else _DIVIDE_FIX)[source.kind]}",
    )


def _gradient_free(facts, call, source) -> bool:
    """No gradient flows: torch.no_grad()/inference_mode, or the operand is a `.grad` tensor (norm logging)."""
    operand = dotted(source.operand) if source.operand is not None else None
    text = facts.module.code_for_node(source.operand) if source.operand is not None and operand is None else operand or ""
    if without_gradient(call, facts) or any(m in text for m in (".grad", "detach()", "stop_gradient(", ".data")):
        return True
    root = operand.split(".")[0] if operand else None
    bound = call.scope.binding(root) if root else None
    # TensorFlow: gradients from `tape.gradient(...)` are plain values (clipping or logging them by hand).
    if isinstance(bound, cst.Call) and isinstance(bound.func, cst.Attribute) and bound.func.attr.value == "gradient":
        return True
    # A NumPy array or pandas frame (`df = pd.read_csv(...)`, `x = np.array(...)`) is data, never differentiated.
    made_by = call.scope.qualify(bound.func) if isinstance(bound, cst.Call) else None
    return bool(made_by) and made_by.startswith(("numpy.", "pandas.", "sklearn.", "scipy."))


def _tensorflow(call, source) -> bool:
    """The quantity is computed with TensorFlow/Keras: the remedy is spelled in tf."""
    names = (call.qualname, call.scope.qualify(source.node.func) if isinstance(source.node, cst.Call) else None)
    return any(n and n.startswith(("tensorflow.", "keras.")) for n in names)


# Methods that hand a tensor back unchanged in what it can be (dtype, device, layout).
_PASS_THROUGH = {"float", "half", "double", "to", "cuda", "cpu", "contiguous", "detach", "clone", "squeeze",
                 "unsqueeze", "view", "reshape", "flatten"}
_LEARNED = re.compile(r"(?i)encode|embed|proj|feature|head|pool")


def _learned_output(source, scope, anchor) -> bool:
    """The normalised vector is what a learned module returned (`model.encode_image(x)`,
    `self.clip_model.get_image_features(...)`, `self.projector(h)`): an embedding is all-zero with
    probability zero, unlike a ReLU map, a difference or padding (the reviewed corpus rates these noise)."""
    operand = source.operand
    if isinstance(operand, cst.Name):
        values = scope.assigns.get(operand.value, [])
        at = next((i for i, v in enumerate(values) if v is anchor), None)
        if len(values) == 1 and at is None:
            operand = values[0]
        elif at:  # `x = x / x.norm()`: the x before this assignment
            operand = values[at - 1]
        else:
            return False
    while isinstance(operand, cst.Call) and isinstance(operand.func, cst.Attribute) and \
            operand.func.attr.value in _PASS_THROUGH:
        operand = operand.func.value
    if not isinstance(operand, cst.Call) or not isinstance(operand.func, cst.Attribute):
        return False
    receiver = dotted(operand.func.value) or ""
    return bool(_LEARNED.search(operand.func.attr.value)) or (
        receiver.startswith("self.") and bool(_LEARNED.search(receiver.rpartition(".")[2])))
