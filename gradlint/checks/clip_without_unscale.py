"""GL205 — clipping gradients that a GradScaler has scaled, without scaler.unscale_(optimizer) first."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.facts import vocab
from gradlint.facts.steps import exclusive
from gradlint.finding import Edit, Fix


def check(facts, settings):
    for loop in facts.training_loops:
        for i, event in enumerate(loop.events):
            if event.kind != "clip" or event.call is None or event.call.qualname not in vocab.CLIP_FUNCTIONS:
                continue  # Accelerate and Fabric unscale inside their own clip methods
            # The scaler step this clip precedes, on the same path (not the fp32 `else` branch of an AMP switch);
            # a clip after scaler.step() sees unscaled gradients: that is GL204's business.
            scaler_step = next((e for e in loop.events[i + 1:] if e.kind == "scaler_step" and not exclusive(e, event)),
                               None)
            if scaler_step is None or any(e.kind == "unscale" and not exclusive(e, event) for e in loop.events[:i]):
                continue
            scaler = scaler_step.call.receiver
            optimizer = scaler_step.call.node.args[0].value if scaler_step.call.node.args else None
            optimizer_text = facts.module.code_for_node(optimizer) if optimizer is not None else "optimizer"
            yield finding(
                facts, "GL205", event.node,
                f"clipping gradients that {scaler} has scaled by the loss scale (up to 65536); "
                f"call {scaler}.unscale_({optimizer_text}) before clipping",
                fix=_insert_unscale(facts, event, scaler, optimizer_text),
            )


def _insert_unscale(facts, event, scaler, optimizer_text):
    if not event.call.standalone or event.via is not None:
        return None
    span = facts.span(event.node)
    indent = " " * (span.column - 1)
    line = f"{scaler}.unscale_({optimizer_text})\n{indent}"
    return Fix("safe", f"Insert `{scaler}.unscale_({optimizer_text})` before clipping",
               (Edit(line, (span.row, span.column), (span.row, span.column)),))

