"""GL302 — weights set to one non-zero constant: every unit computes and learns the same thing."""

from __future__ import annotations

from gradlint.checks import call_name, finding
from gradlint.facts.context import never_trains, probe_weight
from gradlint.facts import vocab_keras as K
from gradlint.facts.init import creations, init_calls, initialised_layer, restored_by_checkpoint, sole_weight
from gradlint.facts.tensors import code_of

# Why one value breaks training, and which initialiser suits which activation, is the rule page's.
_REMEDY = "use a random init: nn.init.kaiming_normal_"
_KERAS_REMEDY = "keep the default glorot_uniform or use \"he_normal\""


def _frozen(facts) -> set[str]:
    """Tensors frozen with `w.requires_grad_(False)`: a fixed filter (a box blur) is constant on purpose."""
    frozen = set()
    for call in facts.all_calls:
        if call.method == "requires_grad_" and call.node.args:
            flag = facts.resolve(call.node.args[0].value, call.scope)
            if flag is not None and flag.value is False:
                frozen.add((call.receiver or "").removesuffix(".data"))
    return frozen


def check(facts, settings):
    if never_trains(facts):
        return
    frozen = None
    for init in init_calls(facts):
        if init.role != "weight" or probe_weight(init.target_text, init.call.scope, facts):
            continue
        frozen = _frozen(facts) if frozen is None else frozen
        if init.target_text in frozen:
            continue
        if init.kind == "constant":
            value = init.parameter(facts, "val")
            if value is None or value.value == 0:
                continue  # zero init of a last layer (ReZero, Fixup) is a deliberate, different idea
            origin = f", {value.origin} in line {facts.line(value.node)}" if value.origin and value.origin != "default" else ""
            what = f"`{code_of(facts, init.call.node)}` (value {value.value:g}{origin})"
        elif init.kind == "ones":
            what = f"`{code_of(facts, init.call.node)}`"
        else:
            continue
        layer = initialised_layer(init, facts)
        if layer is not None and sole_weight(layer, facts):
            continue  # the model's only layer: no hidden layer follows, the targets tell its units apart
        if init.keras:
            what += f" in {call_name(facts, init.target)}" if init.anchor is None else ""
        remedy = _KERAS_REMEDY if init.keras else _REMEDY
        yield finding(facts, "GL302", init.node, f"{what} sets all weights to one value; {remedy}")
    for made in creations(facts, {"torch.ones", "torch.full", *K.CONSTANT_TENSORS}):
        if made.maker_name in ("torch.full", "tensorflow.fill"):
            fill = made.maker.args[1].value if len(made.maker.args) > 1 else None
            value = facts.resolve(fill, made.call.scope)
            if value is None or isinstance(value.value, bool) or value.value == 0:
                continue
        if sole_weight(made.call, facts) or restored_by_checkpoint(made, facts):
            continue  # a one-layer model (softmax regression): no hidden layer follows this weight
        tf = made.maker_name.startswith("tensorflow.")
        remedy = "create it with tf.keras.initializers.GlorotUniform()(shape)" if tf else _REMEDY
        maker = made.maker_name.replace("tensorflow.", "tf.")
        yield finding(
            facts, "GL302", made.call.node,
            f"{made.target_text} is created from {maker}(...), a constant weight matrix; {remedy}",
        )
