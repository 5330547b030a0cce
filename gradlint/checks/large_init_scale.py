"""GL301 — weights drawn with a spread of 1 or more: activations and gradients grow layer by layer."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding
from gradlint.facts.context import never_trains, probe_weight
from gradlint.facts import vocab_keras as K
from gradlint.facts.init import creations, fan_in, init_calls, restored_by_checkpoint
from gradlint.facts.names import walk
from gradlint.facts.tensors import code_of

_LIMIT = 1.0
# A draw whose s·√fan_in stays at most this (s its root mean square: fan_in ≤ 16 at std 1, ≤ 48 for U(0, 1))
# is within about 3x of He's √2 gain: a small hand-written layer (TextRNN's 5-unit output projection, a
# 2-input linear classifier), not an exploding stack.
_SMALL_GAIN = 4.0
# The remedy in a few words; which initialiser suits which activation is the rule page's.
_REMEDY = "use nn.init.kaiming_normal_ or xavier_normal_"
_UNIFORM_REMEDY = "use nn.init.kaiming_uniform_ or xavier_uniform_"
_KERAS_REMEDY = "keep the default glorot_uniform or use \"he_normal\""


def _where(facts, value) -> str:
    if value.origin == "default":
        return " (the default)"
    return f" ({value.origin} in line {facts.line(value.node)})" if value.origin else ""


def _frozen(call) -> bool:
    """nn.Parameter(..., requires_grad=False): a fixed tensor, never updated and never a gradient path."""
    flag = call.kwarg("requires_grad") if call is not None else None
    return isinstance(flag, cst.Name) and flag.value == "False"


_LOADS = ("load_state_dict", "load_checkpoint", "from_pretrained")


def _loaded_after(facts, call) -> bool:
    """A checkpoint is loaded over the weight after it is made: later in the function that creates it, or
    into the object where another function of the file builds the class (`self.proj = Proj()` …
    `self.proj.load_state_dict(ckpt["proj"])`)."""
    from gradlint.facts.tensors import function_of

    fn = function_of(call.scope, facts)
    calls = fn.calls
    after = calls[next((i for i, c in enumerate(calls) if c is call), 0):]
    if any(c.method in _LOADS for c in after):
        return True
    return fn.class_name is not None and fn.name == "__init__" and _built_then_loaded(facts, fn.class_name)


def _built_then_loaded(facts, class_name: str) -> bool:
    for other in facts.functions:
        loads = [(i, c.receiver) for i, c in enumerate(other.calls) if c.method in _LOADS]
        if not loads:  # most functions load nothing: their calls' trees are not walked
            continue
        for i, built in enumerate(other.calls):
            if not built.target or not any(j > i and receiver == built.target for j, receiver in loads):
                continue
            if any(isinstance(n, cst.Name) and n.value == class_name for n in walk(built.node)):
                return True
    return False


def _small_gain(made, facts) -> bool:
    """Random weights over an input size the code fixes, with s·√fan_in ≤ _SMALL_GAIN (s: the draw's root
    mean square, which for U(0, 1) counts its mean as well as its spread)."""
    size = fan_in(made, facts) if made.scale is not None else None
    return size is not None and made.scale * size ** 0.5 <= _SMALL_GAIN


def check(facts, settings):
    if never_trains(facts):
        return
    for init in init_calls(facts):
        if init.role != "weight" or probe_weight(init.target_text, init.call.scope, facts):
            continue
        remedy = _KERAS_REMEDY if init.keras else _REMEDY
        if init.kind in ("normal", "trunc_normal"):
            std = init.parameter(facts, "std")
            if std is None or abs(std.value) < _LIMIT:
                continue
            yield finding(
                facts, "GL301", init.node,
                f"`{code_of(facts, init.call.node)}` draws weights with std={std.value:g}{_where(facts, std)}; "
                f"{remedy}",
            )
        elif init.kind == "uniform":
            low, high = init.parameter(facts, "a"), init.parameter(facts, "b")
            if low is None or high is None or max(abs(low.value), abs(high.value)) < _LIMIT:
                continue
            origin = _where(facts, high) if abs(high.value) >= abs(low.value) else _where(facts, low)
            yield finding(
                facts, "GL301", init.node,
                f"`{code_of(facts, init.call.node)}` draws weights from U({low.value:g}, {high.value:g})"
                f"{origin}; {_KERAS_REMEDY if init.keras else _UNIFORM_REMEDY}",
            )
    for made in creations(facts, {"torch.randn", "torch.rand", *K.RANDOM_TENSORS}):
        if _frozen(made.call) or _loaded_after(facts, made.call) or restored_by_checkpoint(made, facts) \
                or _small_gain(made, facts):
            continue
        spread = made.spread or ("N(0, 1)" if made.maker_name == "torch.randn" else "U(0, 1)")
        if made.spread:  # TensorFlow: tf.Variable(tf.random.normal([m, n]))
            remedy = "pass stddev=(2 / fan_in) ** 0.5 or use tf.keras.initializers.HeNormal()(shape)"
        else:
            remedy = "multiply by (2 / fan_in) ** 0.5 or init it with nn.init.kaiming_normal_"
        maker = made.maker_name.replace("tensorflow.", "tf.")
        yield finding(
            facts, "GL301", made.call.node,
            f"{made.target_text} is created from {maker}(...) unscaled, so its weights are {spread}; {remedy}",
        )
