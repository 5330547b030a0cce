"""GL208 — a clip threshold so large (≥ 1000, inf) that it never clips."""

from __future__ import annotations

import math

from gradlint.checks import finding
from gradlint.facts import vocab
from gradlint.facts import vocab_keras as K
from gradlint.facts.keras_steps import gradient_clips, optimizer_clips
from gradlint.facts.precision import optimizer_clipping

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
    return number(facts, expr, call.scope)


def number(facts, expr, scope) -> tuple[float, object] | None:
    """A threshold as a float (inf included) with the Value it came from."""
    if scope.qualify(expr) in _INFINITIES:
        return math.inf, None
    value = facts.resolve(expr, scope)
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
    yield from _keras(facts, settings)
    if optimizer_clipping(facts):
        return  # the optimizer clips inside step() (apex FusedLAMB): an outer clip that never clips costs nothing
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
            f"clip threshold {shown}{origin} is too large to ever clip; use max_norm=1.0 (or measure typical norms first)",
        )


def _message(facts, what: str, limit: float, value, remedy: str) -> str:
    origin = f" ({value.origin} in line {facts.line(value.node)})" if value is not None and value.origin else ""
    shown = "inf" if math.isinf(limit) else f"{limit:g}"
    return f"{what}={shown}{origin} is too large to ever clip; {remedy} (or measure typical norms first)"


def _keras(facts, settings):
    """clipnorm/clipvalue/global_clipnorm on a Keras optimizer; tf.clip_by_* on the gradients of a tape."""
    for call, keyword in optimizer_clips(facts):
        found = number(facts, call.kwarg(keyword), call.scope)
        if found is not None and found[0] >= settings.thresholds.clip_norm:
            yield finding(facts, "GL208", call.kwarg(keyword), _message(facts, keyword, *found, f"use {keyword}=1.0"),
                          also=(call.node,))
    for call in gradient_clips(facts):
        thresholds = [number(facts, call.argument(k, i), call.scope) for k, i in K.TF_CLIPS[call.qualname]]
        if not thresholds or any(t is None for t in thresholds):
            continue
        limit, value = min(((abs(t[0]), t[1]) for t in thresholds), key=lambda t: t[0])
        if limit >= settings.thresholds.clip_norm:
            name = call.qualname.replace("tensorflow.", "tf.")
            yield finding(facts, "GL208", call.node, _message(facts, f"{name}(…) threshold", limit, value,
                                                              "clip at about 1.0"))
