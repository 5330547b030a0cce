"""GL206 — float16 training (autocast or model.half()) with no GradScaler. bfloat16 is fine."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.facts.precision import float16_uses, uses_grad_scaler


def check(facts, settings):
    if not any(e.kind == "backward" for events in facts.events.values() for e in events):
        return  # inference in half precision needs no loss scaling
    if uses_grad_scaler(facts):
        return
    for use in float16_uses(facts):
        yield finding(
            facts, "GL206", use.call.node,
            f"{use.how} in a script that trains, with no GradScaler: float16 gradients below ~6e-8 flush to zero "
            "and large ones overflow to inf; wrap the loss with torch.amp.GradScaler (scaler.scale(loss).backward(), "
            "scaler.step(optimizer), scaler.update()) or use dtype=torch.bfloat16",
        )
