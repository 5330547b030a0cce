"""GL101 — sigmoid/tanh-family activations chained with no normalization between them."""

from __future__ import annotations

from collections import Counter

from gradlint.checks import finding
from gradlint.facts.layers import LayerUse

# What ends a run: a normalization re-centres activations; a block we cannot see into might.
_RESETS = {"norm", "opaque", "recurrent", "attention"}


def saturating_runs(layers: tuple[LayerUse, ...]) -> list[list[LayerUse]]:
    runs: list[list[LayerUse]] = []
    current: list[LayerUse] = []
    for layer in layers:
        if layer.kind in _RESETS:
            if current:
                runs.append(current)
            current = []
        elif layer.kind == "saturating":
            current.append(layer)
    if current:
        runs.append(current)
    return runs


def check(facts, settings):
    limit = settings.thresholds.activation_stack
    for chain in facts.chains:
        for run in saturating_runs(chain.layers):
            if len(run) < limit:
                continue
            containers = {id(layer.container) for layer in run}
            if chain.where != "nn.Sequential" and len(containers) == 1 and run[0].container is not None:
                continue  # the same run lies inside one nn.Sequential, reported there
            names = ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in Counter(l.label for l in run).items())
            anchor = chain.node if chain.where == "nn.Sequential" else run[0].node
            yield finding(
                facts, "GL101", anchor,
                f"{len(run)} saturating activations chained in {chain.where} with no normalization between "
                f"({names}): each sigmoid scales gradients by at most 0.25, so they vanish through the stack; "
                "use ReLU/GELU, or put BatchNorm/LayerNorm between them",
                also=tuple(layer.node for layer in run),
            )
