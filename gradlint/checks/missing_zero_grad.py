"""GL203 — a training loop that calls backward() and step() but never zeroes the gradients."""

from __future__ import annotations

from gradlint.checks import finding


def check(facts, settings):
    for loop in facts.training_loops:
        if loop.of("zero_grad", "engine_step"):
            continue  # a DeepSpeed engine's step() zeroes the gradients itself
        backward = loop.of("backward")[0]
        step = next(e for e in loop.events if e.steps_optimizer)
        yield finding(
            facts, "GL203", step.node,
            f"{loop.where(facts)} calls backward() (line {facts.line(backward.node)}) and "
            "step() but never zeroes the gradients, so every step adds this batch's gradients to all earlier ones "
            "and the updates grow without bound; call optimizer.zero_grad(set_to_none=True) once per step",
        )
