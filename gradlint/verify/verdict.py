"""The verdict on one model's numbers: non-finite, exploding, vanishing or healthy (first that applies).

- non-finite: the loss or a gradient norm is NaN or inf at any measured step.
- exploding: the global gradient norm reaches `exploding-norm` (1e3) at any step; or it grows by
  `growth` (100x) from step 1 to its peak; or the first/last layer gradient-norm ratio is at
  least `exploding-ratio` (1e3: gradients grow on their way back to the input).
- vanishing: the global gradient norm at step 1 is below `vanishing-norm` (1e-7); or the first/last
  layer ratio is below `vanishing-ratio` (1e-3: the first layer learns a thousand times slower).
All thresholds live in [tool.gradlint.verify.thresholds]; the numbers are deterministic for a seed.
"""

from __future__ import annotations

import math

from gradlint.verify.settings import Thresholds


def judge(numbers: dict, t: Thresholds) -> tuple[str, str]:
    steps = numbers["steps"]
    for s in steps:
        for what in ("loss", "grad_norm"):
            if not math.isfinite(s[what]):
                return "non-finite", f"{what.replace('_', ' ')} became {s[what]} at step {s['step']} of {len(steps)}"
    bad = [name for name, norm in numbers["parameters"].items() if not math.isfinite(norm)]
    if bad:
        return "non-finite", f"gradient of {bad[0]} is not finite"
    norms = [s["grad_norm"] for s in steps]
    first, peak = norms[0], max(norms)
    at = norms.index(peak) + 1
    ratio = numbers.get("layer_ratio")
    if peak >= t.exploding_norm:
        return "exploding", f"global gradient norm reached {peak:.3g} at step {at} (>= {t.exploding_norm:g})"
    if first > 0 and peak / first >= t.growth:
        return "exploding", f"global gradient norm grew {peak / first:.3g}x, from {first:.3g} to {peak:.3g} at step {at}"
    if ratio is not None and ratio >= t.exploding_ratio:
        return "exploding", f"first/last layer gradient-norm ratio {ratio:.3g} (>= {t.exploding_ratio:g})"
    if first < t.vanishing_norm:
        return "vanishing", f"global gradient norm {first:.3g} at step 1 (< {t.vanishing_norm:g})"
    if ratio is not None and ratio < t.vanishing_ratio:
        return "vanishing", (f"first/last layer gradient-norm ratio {ratio:.3g} (< {t.vanishing_ratio:g}): "
                             f"the first layer barely learns")
    return "healthy", (f"global gradient norm {first:.3g} -> {norms[-1]:.3g}, loss {steps[0]['loss']:.4g} -> "
                       f"{steps[-1]['loss']:.4g} over {len(steps)} steps")
