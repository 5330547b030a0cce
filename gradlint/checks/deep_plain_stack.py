"""GL102 — a deep stack of weight layers with no normalization and no residual connection."""

from __future__ import annotations

from collections import Counter

from gradlint.checks import MESSAGE_LIMIT, finding, listing

_RESETS = {"norm", "opaque", "recurrent", "attention"}


def plain_runs(layers):
    runs, current = [], []
    for layer in layers:
        if layer.kind in _RESETS:
            runs.append(current)
            current = []
        elif layer.kind == "weight":
            current.append(layer)
    runs.append(current)
    return [r for r in runs if r]


def check(facts, settings):
    limit = settings.thresholds.plain_stack
    for chain in facts.chains:
        if chain.residual:
            continue
        for run in plain_runs(chain.layers):
            if len(run) < limit:
                continue
            own = run[0].container is chain.node
            if not own and run[0].container is not None and len({id(l.container) for l in run}) == 1:
                continue  # reported at the nn.Sequential itself
            labels = [f"{label} ×{n}" if n > 1 else label for label, n in Counter(l.label for l in run).items()]
            anchor = chain.node if own else run[0].node
            head = f"{len(run)} weight layers in {chain.where} with no normalization or residual connection ("
            tail = "); add BatchNorm/LayerNorm or residual connections"
            yield finding(
                facts, "GL102", anchor,
                head + listing(labels, MESSAGE_LIMIT - len(head) - len(tail)) + tail,
                also=(run[0].node,),
            )
