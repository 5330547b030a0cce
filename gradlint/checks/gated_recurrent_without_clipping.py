"""GL210 — an LSTM/GRU trained with no gradient clipping under an adaptive optimizer at a modest lr."""

from __future__ import annotations

from gradlint.checks import call_name, finding
from gradlint.checks.missing_gradient_clipping import CLIP_ADVICE, clip_before_step
from gradlint.facts.clip_risk import modest_adaptive_optimizers, unclipped_steps
from gradlint.facts.keras_steps import unclipped_fits, unclipped_tape_steps


def check(facts, settings):
    yield from _keras(facts)
    if not modest_adaptive_optimizers(facts):
        return  # otherwise GL201 reports the loop (or nothing is at risk)
    for found in unclipped_steps(facts, settings):
        if not found.gated_recurrent_only:
            continue
        yield finding(
            facts, "GL210", found.step.node,
            f"no clipping in {found.loop.where(facts)}, while {found.evidence}; {CLIP_ADVICE}",
            fix=clip_before_step(facts, found.step),
        )


def _keras(facts):
    """Keras/TF: the GradientTape steps and fit() calls GL201 leaves to this rule (keras_steps.Risk.gated_modest)."""
    for call, fn, risk in unclipped_tape_steps(facts):
        if risk.gated_modest:
            yield finding(
                facts, "GL210", call.node,
                f"apply_gradients with no clipping in {fn.name if fn is not facts.top else 'the script'}, while "
                f"{risk.evidence}; clip with tf.clip_by_global_norm or set global_clipnorm=1.0",
            )
    for compile_call, given, risk in unclipped_fits(facts):
        if risk.gated_modest:
            shown = "the default optimizer" if given is compile_call.node else call_name(facts, given)
            yield finding(
                facts, "GL210", given,
                f"{shown} trains `{compile_call.receiver}` in fit() unclipped, while {risk.evidence}; "
                "add global_clipnorm=1.0",
                also=(compile_call.node,),
            )
