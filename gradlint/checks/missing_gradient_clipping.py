"""GL201 — a training loop with no gradient clipping, where the risk of a blow-up is real."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import call_name, finding
from gradlint.facts.clip_risk import modest_adaptive_optimizers, unclipped_steps
from gradlint.facts.keras_steps import fitted_optimizers, model_risk, risky_layer, tape_steps
from gradlint.facts.names import dotted
from gradlint.facts.steps import optimizer_name
from gradlint.finding import Fix
from gradlint.fix.edits import insert_before, source, torch_spelling

CLIP_ADVICE = "add clip_grad_norm_ before step()"


def check(facts, settings):
    yield from _keras(facts)
    modest = modest_adaptive_optimizers(facts)
    for found in unclipped_steps(facts, settings):
        if modest and found.gated_recurrent_only:
            continue  # an LSTM/GRU under Adam at a modest lr: GL210's weaker signal, off by default
        yield _with_needs(
            finding(
                facts, "GL201", found.step.node,
                f"no clipping in {found.loop.where(facts)}, while {found.evidence or '{evidence}'}; {CLIP_ADVICE}",
                fix=clip_before_step(facts, found.step),
            ),
            found.imported,
        )


def clip_before_step(facts, step):
    """Unsafe: clip the parameters the stepped optimizer was built with, just before the step."""
    clip = torch_spelling(facts, "clip_grad_norm_")
    name = optimizer_name(step)
    if clip is None or name is None or step.via is not None or step.call is None or not step.call.standalone:
        return None
    built = next((o for o in facts.optimizers if o.call.target == name), None)
    params = built.call.argument("params", 0) if built is not None else None
    if params is None or not isinstance(params, cst.Call):  # a generator or list variable may be spent
        return None
    statements = [f"{clip}({source(facts, params)}, max_norm=1.0)"]
    if step.kind == "scaler_step":
        statements.insert(0, f"{step.call.receiver}.unscale_({name})")
    return Fix("unsafe", "Clip the gradient norm to 1.0 before the optimizer step",
               tuple(insert_before(facts, step.node, s) for s in statements))


def _with_needs(found, needs):
    from dataclasses import replace

    return replace(found, needs=needs) if needs else found


def _keras(facts):
    """Keras/TF: a GradientTape step or a fit() whose optimizer never clips, on a recurrent/attention model.

    The model is the one whose trainable_variables the tape differentiates, or the one fit() trains; when
    it cannot be tied to its layers, a recurrent/attention layer anywhere in the file is the evidence.
    Only the model's layers count (a large fixed lr is GL202's to report); an optimizer gradlint cannot
    see (a parameter, an import) counts as clipping (precision first).
    """
    layer = risky_layer(facts)
    if layer is None:
        return
    for call, fn, clipped in tape_steps(facts):
        evidence = _evidence(facts, layer, _differentiated(fn, call), call.scope) if clipped is False else None
        if evidence:
            yield finding(
                facts, "GL201", call.node,
                f"apply_gradients with no clipping in {fn.name if fn is not facts.top else 'the script'}, while "
                f"{evidence}; clip with tf.clip_by_global_norm or set global_clipnorm=1.0",
            )
    for compile_call, given, clipped in fitted_optimizers(facts):
        evidence = None if clipped else _evidence(facts, layer, compile_call.receiver, compile_call.scope)
        if not evidence:
            continue
        shown = "the default optimizer" if given is compile_call.node else call_name(facts, given)
        yield finding(
            facts, "GL201", given,
            f"{shown} trains `{compile_call.receiver}` in fit() unclipped, while {evidence}; add global_clipnorm=1.0",
            also=(compile_call.node,),
        )


def _differentiated(fn, step) -> str | None:
    """`model` in tape.gradient(loss, model.trainable_variables) before this apply_gradients."""
    gradients = [c for c in fn.calls if c.method == "gradient" and len(c.node.args) >= 2]
    target = dotted(gradients[-1].node.args[1].value) if gradients else None
    return target.rpartition(".")[0] or None if target and target.endswith(("trainable_variables", "trainable_weights")) else None


def _evidence(facts, layer, model: str | None, scope) -> str | None:
    """The trained model's recurrent/attention layer. When the model cannot be tied to its layers, a layer
    elsewhere in the file is evidence only for a helper's model parameter, or if the file builds one model."""
    known, use = model_risk(model, scope, facts) if model else (False, None)
    if known:
        return f"`{model}` uses keras {use.label} (line {facts.line(use.node)})" if use is not None else None
    # A training helper's parameter (`def run_experiment(model)`) gets the file's model; a name bound to
    # several models (notebooks rebind `model`) could be any of them.
    parameter = model is not None and model in scope.params and model not in scope.assigns
    if not parameter and len({id(chain.node) for chain in facts.chains}) > 1:
        return None
    return f"the model uses keras {layer.qualname.rpartition('.')[2]} (line {facts.line(layer.node)})"
