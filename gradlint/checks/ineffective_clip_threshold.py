"""GL208 — a clip threshold so large (≥ 1000, inf) that it never clips."""

from __future__ import annotations

import math

import libcst as cst

from gradlint.checks import finding
from gradlint.facts import vocab

_INFINITIES = {"math.inf", "torch.inf", "numpy.inf", "np.inf", "float.inf"}


def threshold(facts, call) -> tuple[float, object] | None:
    """The resolved max_norm / clip_value of a clipping call, with its Value (None if unknown)."""
    kind = vocab.CLIP_FUNCTIONS.get(call.qualname or "") or vocab.CLIP_METHODS.get(call.method or "")
    if kind is None:
        return None
    expr = call.argument("clip_value" if kind == "value" else "max_norm", 1)
    if expr is None and call.method == "clip_gradients":
        expr = call.kwarg("gradient_clip_val") or call.kwarg("max_norm") or call.kwarg("clip_val")
    if expr is None:
        return None
    if call.scope.qualify(expr) in _INFINITIES:
        return math.inf, None
    value = facts.resolve(expr, call.scope)
    if value is None:
        return None
    raw = value.value
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    return float(raw), value


def never_clips(facts, call, settings) -> bool:
    found = threshold(facts, call)
    return found is not None and found[0] >= settings.thresholds.clip_norm


def check(facts, settings):
    for call in facts.all_calls:
        found = threshold(facts, call)
        if found is None or found[0] < settings.thresholds.clip_norm:
            continue
        if not call.standalone:
            continue  # `norm = clip_grad_norm_(params, inf)` measures the norm on purpose
        limit, value = found
        origin = f" ({value.origin} in line {facts.line(value.node)})" if value is not None and value.origin else ""
        shown = "inf" if math.isinf(limit) else f"{limit:g}"
        yield finding(
            facts, "GL208", call.node,
            f"clip threshold {shown}{origin} is so large that it never clips: healthy gradient norms are around "
            f"1–10, and an exploding step passes through untouched; use max_norm=1.0 (or measure typical norms first)",
        )
