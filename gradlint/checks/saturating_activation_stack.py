"""GL101 — sigmoid/tanh-family activations chained with no normalization between them."""

from __future__ import annotations

from collections import Counter

from gradlint.checks import MESSAGE_LIMIT, finding, listing
from gradlint.facts.layers import RESETTING_KINDS, LayerUse


def saturating_runs(layers: tuple[LayerUse, ...]) -> list[list[LayerUse]]:
    runs: list[list[LayerUse]] = []
    current: list[LayerUse] = []
    for layer in layers:
        if layer.kind in RESETTING_KINDS:
            if current:
                runs.append(current)
            current = []
        elif layer.kind == "saturating":
            current.append(layer)
    if current:
        runs.append(current)
    return runs


_TANH_FAMILY = ("tanh", "softsign")


def _weight(run: list[LayerUse]) -> float:
    """A tanh-family activation counts half a sigmoid: its derivative is 1 at 0 where sigmoid's is at most
    0.25, so a few tanh layers with a sane init train (LeNet-5 chains four); only saturation vanishes them."""
    return sum(0.5 if any(t in layer.label.lower() for t in _TANH_FAMILY) else 1.0 for layer in run)


def check(facts, settings):
    limit = settings.thresholds.activation_stack
    for chain in facts.chains:
        for run in chain.runs if chain.runs is not None else saturating_runs(chain.layers):
            if _weight(run) < limit:
                continue
            containers = {id(layer.container) for layer in run}
            own = run[0].container is chain.node
            if not own and len(containers) == 1 and run[0].container is not None:
                continue  # the same run lies inside one nn.Sequential, reported there
            labels = [f"{label} ×{n}" if n > 1 else label for label, n in Counter(l.label for l in run).items()]
            anchor = chain.node if own else run[0].node
            head = f"{len(run)} saturating activations in {chain.where} with no normalization between ("
            tail = "); use ReLU/GELU or add BatchNorm/LayerNorm"
            yield finding(
                facts, "GL101", anchor,
                head + listing(labels, MESSAGE_LIMIT - len(head) - len(tail)) + tail,
                also=tuple(layer.node for layer in run),
            )
