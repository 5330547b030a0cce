"""GL201 — a training loop with no gradient clipping, where the risk of a blow-up is real."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import call_name, finding
from gradlint.facts.clip_risk import modest_adaptive_optimizers, unclipped_steps
from gradlint.facts.keras_steps import unclipped_fits, unclipped_tape_steps
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
    see (a parameter, an import) counts as clipping. Which steps are at risk: keras_steps.py.
    """
    yield from keras_unclipped(facts, "GL201", gated_modest=False)


def keras_unclipped(facts, code: str, gated_modest: bool):
    """The unclipped GradientTape steps and fit() calls of one risk class: an LSTM/GRU under an adaptive
    optimizer at a modest lr (`gated_modest`: GL210's weaker signal, off by default) or the rest (GL201)."""
    for call, fn, risk in unclipped_tape_steps(facts):
        if risk.gated_modest == gated_modest:
            yield finding(
                facts, code, call.node,
                f"apply_gradients with no clipping in {fn.name if fn is not facts.top else 'the script'}, while "
                f"{risk.evidence}; clip with tf.clip_by_global_norm or set global_clipnorm=1.0",
            )
    for compile_call, given, risk in unclipped_fits(facts):
        if risk.gated_modest == gated_modest:
            shown = "the default optimizer" if given is compile_call.node else call_name(facts, given)
            yield finding(
                facts, code, given,
                f"{shown} trains `{compile_call.receiver}` in fit() unclipped, while {risk.evidence}; "
                "add global_clipnorm=1.0",
                also=(compile_call.node,),
            )
