"""GL203 — a training loop that calls backward() and step() but never zeroes the gradients."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding
from gradlint.facts.steps import optimizer_name, unzeroed_steps
from gradlint.finding import Fix
from gradlint.fix.edits import insert_before


def check(facts, settings):
    for loop in facts.training_loops:
        if loop.of("engine_step"):
            continue  # a DeepSpeed engine's step() zeroes the gradients itself
        if loop.of("zero_grad"):
            yield from _unpaired(facts, loop)
            continue
        backward = loop.of("backward")[0]
        step = next(e for e in loop.events if e.steps_optimizer)
        outside = next((e for e in facts.events.get(loop.function, []) if e.kind == "zero_grad"), None)
        zeroing = (f"zeroes the gradients only outside it (line {facts.line(outside.at or outside.node)})"
                   if outside is not None else "never zeroes the gradients")
        yield finding(
            facts, "GL203", step.node,
            f"{loop.where(facts)} calls backward() (line {facts.line(backward.node)}) and step() but {zeroing}; "
            "call optimizer.zero_grad() once per step",
            fix=_zero_at_loop_start(facts, loop, step),
        )
    for function in facts.step_functions:
        yield from _unpaired(facts, function)


def _unpaired(facts, loop):
    what = "the function" if isinstance(loop.loop.node, cst.FunctionDef) and loop.function.name != "training_step" \
        else "the loop"
    for step in unzeroed_steps(loop, facts):
        name = optimizer_name(step) or "this optimizer"
        zeroed = ", ".join(dict.fromkeys(
            f"{z.call.receiver}.zero_grad() (line {facts.line(z.at or z.node)})" for z in loop.of("zero_grad") if z.call is not None))
        yield finding(
            facts, "GL203", step.node,
            f"{name}.step() in {loop.where(facts)} has no zero_grad() on its path ({what} has {zeroed}); "
            f"call {name}.zero_grad()",
        )


def _zero_at_loop_start(facts, loop, step):
    """Unsafe: `optimizer.zero_grad()` as the loop body's first statement (changes what the loop computes)."""
    name = optimizer_name(step)
    body = getattr(loop.loop.node, "body", None)
    if name is None or step.via is not None or not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    statement = f"{name}.zero_grad()"
    return Fix("unsafe", f"Insert `{statement}` at the start of the loop body",
               (insert_before(facts, body.body[0], statement),))
