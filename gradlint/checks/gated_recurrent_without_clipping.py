"""GL210 — an LSTM/GRU trained with no gradient clipping under an adaptive optimizer at a modest lr."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.checks.missing_gradient_clipping import CLIP_ADVICE, clip_before_step, keras_unclipped
from gradlint.facts.clip_risk import modest_adaptive_optimizers, unclipped_steps


def check(facts, settings):
    yield from keras_unclipped(facts, "GL210", gated_modest=True)
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
