"""GL209 — an optimizer run at the top of its safe range with no schedule, on a model that is not small."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.checks.large_fixed_learning_rate import origin_text
from gradlint.facts.optim import high_fixed_lr


def check(facts, settings):
    for opt in facts.optimizers:
        limit = high_fixed_lr(opt, facts, settings.thresholds.lr_limits)
        if limit is None:
            continue
        origin = origin_text(facts, opt.lr)
        yield finding(
            facts, "GL209", opt.call.node,
            f"{opt.kind} lr={opt.lr_number:g}{f' ({origin})' if origin else ''} with no schedule, near {opt.kind}'s "
            f"limit {limit:g}, on a model that is not small; add warm-up/decay or lower it",
        )
