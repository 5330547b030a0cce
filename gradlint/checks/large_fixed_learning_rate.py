"""GL202 — an optimizer whose learning rate is too large to run without a schedule."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.facts.optim import large_fixed_lr


def origin_text(facts, value) -> str:
    """'--lr default in line 12', 'constant LR in line 3', or '' for a literal at the use site."""
    if not value.origin:
        return ""
    return f"{value.origin} in line {facts.line(value.node)}"


def check(facts, settings):
    for opt in facts.optimizers:
        limit = large_fixed_lr(opt, facts, settings.thresholds.lr_limits)
        if limit is None:
            continue
        value = opt.lr_number
        origin = origin_text(facts, opt.lr)
        keras = (opt.call.qualname or "").startswith("keras.")
        schedules = "a keras.optimizers.schedules object or callback" if keras else "torch.optim.lr_scheduler"
        yield finding(
            facts, "GL202", opt.call.node,
            f"{opt.kind} lr={value:g}{f' ({origin})' if origin else ''} with no scheduler or warm-up: "
            f"above {limit:g}, the safe ceiling for {opt.kind}, the first updates overshoot and the loss "
            f"diverges; lower it, or attach warm-up/decay ({schedules})",
        )
