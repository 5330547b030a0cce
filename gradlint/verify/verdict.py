"""The verdict on one model's numbers: non-finite, exploding, vanishing or healthy (first that applies).

- non-finite: the loss or a gradient norm is NaN or inf at any measured step.
- exploding: the global gradient norm reaches `exploding-norm` (1e3) at any step; or it grows by
  `growth` (100x) from step 1 to its peak; or the first/last layer gradient-norm ratio is at
  least `exploding-ratio` (1e3: gradients grow on their way back to the input).
- vanishing: the global gradient norm is below `vanishing-norm` (1e-7), or the first/last layer ratio
  below `vanishing-ratio` (1e-3: the first layer learns a thousand times slower), at step 1 *and* still
  at the last step. Judged over the steps: a zero-initialised layer (a zero-init head) blocks every
  gradient upstream of it at step 1 only; by step 2 it has moved and the model trains.
Parameters that got no gradient at any step (a decoder or value head the synthetic loss does not
reach) are named in the reason: the verdict is about the rest of the model.
All thresholds live in [tool.gradlint.verify.thresholds]; the numbers are deterministic for a seed.
"""

from __future__ import annotations

import math

from gradlint.verify.settings import Thresholds


def judge(numbers: dict, t: Thresholds) -> tuple[str, str]:
    verdict, reason = _judge(numbers, t)
    unreached = no_gradient(numbers)
    return verdict, f"{reason}; {unreached}" if unreached else reason


def no_gradient(numbers: dict) -> str:
    """"no gradient reached 4 of 10 parameter tensors (decoder: 4)", or "" when every one got some."""
    unused = numbers.get("unused_parameters") or []
    if not unused:
        return ""
    groups: dict[str, int] = {}  # by top-level submodule: "decoder: 12"
    for name in unused:
        group = name.split(".")[0]
        groups[group] = groups.get(group, 0) + 1
    shown = ", ".join(f"{g}: {n}" for g, n in list(groups.items())[:4]) + (", ..." if len(groups) > 4 else "")
    measured = numbers.get("parameters") or {}  # step 1's, without those outside the graph (no .grad at all)
    total = len(measured) + sum(1 for name in unused if name not in measured)
    return f"no gradient reached {len(unused)} of {total} parameter tensors ({shown}) at any step"


def _ratio(step: dict) -> float | None:
    return step.get("layer_ratio")


def _judge(numbers: dict, t: Thresholds) -> tuple[str, str]:
    steps = numbers["steps"]
    for s in steps:
        for what in ("loss", "grad_norm"):
            if not math.isfinite(s[what]):
                return "non-finite", f"{what.replace('_', ' ')} became {s[what]} at step {s['step']} of {len(steps)}"
    bad = [name for name, norm in numbers["parameters"].items() if not math.isfinite(norm)]
    if bad:
        return "non-finite", f"gradient of {bad[0]} is not finite"
    norms = [s["grad_norm"] for s in steps]
    ratio = numbers.get("layer_ratio")
    # Growth is counted from the first step at which the first layer gets a gradient at all: behind a
    # zero-initialised layer, step 1's norm is only that layer's own.
    base = next((i for i, s in enumerate(steps) if (_ratio(s) or 0) > 0), 0)
    first, peak = norms[base], max(norms)
    at = norms.index(peak) + 1
    if peak >= t.exploding_norm:
        return "exploding", f"global gradient norm reached {peak:.3g} at step {at} (>= {t.exploding_norm:g})"
    if first > 0 and peak / first >= t.growth and at > base + 1:
        return "exploding", (f"global gradient norm grew {peak / first:.3g}x, from {first:.3g} at step {base + 1} "
                             f"to {peak:.3g} at step {at}")
    if ratio is not None and ratio >= t.exploding_ratio:
        return "exploding", f"first/last layer gradient-norm ratio {ratio:.3g} (>= {t.exploding_ratio:g})"
    last = steps[-1]
    if norms[0] < t.vanishing_norm and last["grad_norm"] < t.vanishing_norm:
        still = f", still {last['grad_norm']:.3g} at step {last['step']}" if len(steps) > 1 else ""
        return "vanishing", f"global gradient norm {norms[0]:.3g} at step 1{still} (< {t.vanishing_norm:g})"
    per_step = "layer_ratio" in last  # older results: the ratio of step 1 only
    last_ratio = _ratio(last) if per_step else ratio
    if ratio is not None and ratio < t.vanishing_ratio and (last_ratio is None or last_ratio < t.vanishing_ratio):
        still = f" at step 1, still {last_ratio:.3g} at step {last['step']}" if per_step and len(steps) > 1 else ""
        return "vanishing", (f"first/last layer gradient-norm ratio {ratio:.3g}{still} "
                             f"(< {t.vanishing_ratio:g}): the first layer barely learns")
    recovered = ""
    if ratio is not None and ratio < t.vanishing_ratio:
        recovered = (f"; the first/last layer ratio {ratio:.3g} at step 1 is {last_ratio:.3g} by step {last['step']} "
                     f"(a zero-initialised layer blocks gradients at step 1 only)")
    elif norms[0] < t.vanishing_norm:
        recovered = f"; the global norm {norms[0]:.3g} at step 1 recovers (a zero-initialised layer)"
    return "healthy", (f"global gradient norm {norms[0]:.3g} -> {norms[-1]:.3g}, loss {steps[0]['loss']:.4g} -> "
                       f"{steps[-1]['loss']:.4g} over {len(steps)} steps{recovered}")
