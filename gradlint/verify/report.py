"""Verify results as text (verdict line, per-layer log-scale bar chart, norm sparkline) or JSON."""

from __future__ import annotations

import json
import math

from gradlint.verify.runner import Outcome

BAR_WIDTH = 30
MAX_LAYERS = 30  # longer models show their first and last 15 layers
_SPARKS = {True: "▁▂▃▄▅▆▇█", False: "_.-~=+*#"}
_BAR = {True: "█", False: "#"}


def render_json(outcomes: list[Outcome]) -> str:
    return json.dumps([_record(o) for o in outcomes], indent=2, allow_nan=False) + "\n"


def _record(o: Outcome) -> dict:
    spec, n = o.spec, o.numbers
    record = {
        "filename": spec.filename, "model": spec.model, "device": o.device, "verdict": o.verdict, "reason": o.reason,
        "constructor": spec.build, "optimizer": spec.optimizer, "lr": spec.lr,
        "optimizer_kwargs": spec.optimizer_kwargs, "optimizer_origin": spec.optimizer_origin, "notes": spec.notes,
        "twin": "keras" if spec.twin is not None else None,
    }
    if spec.twin:
        record["keras_layers"] = [layer["label"] for layer in spec.twin["layers"]]
    if n:
        steps = n["steps"]
        record.update(
            input=n["input"], loss_function=n["loss_function"], parameter_count=n["parameter_count"],
            loss_initial=steps[0]["loss"], loss_final=steps[-1]["loss"],
            grad_norm_initial=steps[0]["grad_norm"], grad_norm_final=steps[-1]["grad_norm"],
            grad_norm_max=max(s["grad_norm"] for s in steps), layer_ratio=n["layer_ratio"],
            non_finite=n["non_finite"], layers=n["layers"],
            parameters=[{"name": k, "grad_norm": v} for k, v in n["parameters"].items()],
            unused_parameters=n["unused_parameters"], steps=steps, seconds=n.get("seconds"),
            partial=bool(n.get("partial")),  # a later step timed out: the steps that finished
        )
    return _finite(record)


def _finite(value):
    """JSON has no NaN or infinity: they are written as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def render_text(outcomes: list[Outcome], unicode: bool = True) -> str:
    lines = []
    for o in outcomes:
        where = f" on {o.device}" if o.device else ""
        twin = " (keras twin)" if o.spec.twin is not None and o.verdict != "skipped" else ""
        lines.append(f"{o.spec.filename}::{o.spec.model}  {o.verdict.upper()}{where}{twin}")
        lines.append(f"  {o.reason}")
        if o.numbers:
            lines.extend(_details(o, unicode))
        lines.extend(f"  note: {note}" for note in o.spec.notes)
        lines.append("")
    lines.append(summary(outcomes))
    return "\n".join(lines) + "\n"


def summary(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    noun = "model" if len(outcomes) == 1 else "models"
    return f"{len(outcomes)} {noun}: {parts}" if outcomes else "no models found"


def _details(o: Outcome, unicode: bool) -> list[str]:
    n, spec = o.numbers, o.spec
    steps = n["steps"]
    out = [f"  input {n['input']}; loss {n['loss_function']}; {spec.optimizer_origin}"]
    if spec.twin:
        out.append(f"  measured on a PyTorch twin of the {spec.twin['what']}: Keras shapes, activations and initializers")
    layers = n["layers"]
    shown = layers if len(layers) <= MAX_LAYERS else [*layers[:15], None, *layers[-15:]]
    width = max([len("layer"), *(len(layer["name"]) for layer in layers)])
    lo, hi = _log_range([layer["grad_norm"] for layer in layers])
    out.append(f"  {'layer'.ljust(width)}  gradient norm (log scale, {10 ** lo:.1e} .. {10 ** hi:.1e})")
    for layer in shown:
        if layer is None:
            out.append(f"  {'...'.ljust(width)}  {len(layers) - 30} more layers")
            continue
        out.append(f"  {layer['name'].ljust(width)}  {_bar(layer['grad_norm'], lo, hi, unicode)}  {layer['grad_norm']:.2e}")
    norms = [s["grad_norm"] for s in steps]
    out.append(f"  grad norm over {len(steps)} steps  {sparkline(norms, unicode)}  {norms[0]:.2e} -> {norms[-1]:.2e}")
    ratio = steps[-1]["update_ratio"]
    out.append(f"  loss {steps[0]['loss']:.4g} -> {steps[-1]['loss']:.4g}; update/weight ratio {ratio:.1e} at the last step")
    return out


def _bar(norm: float, lo: float, hi: float, unicode: bool) -> str:
    if not math.isfinite(norm):
        return "!" * BAR_WIDTH
    if norm <= 0:
        return " " * BAR_WIDTH
    length = BAR_WIDTH if hi == lo else 1 + round((math.log10(norm) - lo) / (hi - lo) * (BAR_WIDTH - 1))
    return (_BAR[unicode] * length).ljust(BAR_WIDTH)


def sparkline(values: list[float], unicode: bool = True) -> str:
    """One character per step on a log scale; `!` marks a non-finite value, a space a zero."""
    chars = _SPARKS[unicode]
    lo, hi = _log_range(values)
    line = []
    for v in values:
        if not math.isfinite(v):
            line.append("!")
        elif v <= 0:
            line.append(" ")
        else:
            level = 0 if hi == lo else round((math.log10(v) - lo) / (hi - lo) * (len(chars) - 1))
            line.append(chars[level])
    return "".join(line)


def _log_range(values: list[float]) -> tuple[float, float]:
    """log10 range of the positive finite values, at least one decade wide so that noise looks flat."""
    logs = [math.log10(v) for v in values if 0 < v < math.inf]
    if not logs:
        return 0.0, 0.0
    hi = max(logs)
    return min(min(logs), hi - 1.0), hi
