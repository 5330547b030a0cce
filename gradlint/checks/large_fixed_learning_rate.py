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
        schedules = "keras.optimizers.schedules" if keras else "torch.optim.lr_scheduler"
        yield finding(
            facts, "GL202", opt.call.node,
            f"{opt.kind} lr={value:g}{f' ({origin})' if origin else ''} exceeds {opt.kind}'s safe limit of {limit:g} "
            f"with no scheduler; lower it or add warm-up/decay ({schedules})",
        )
