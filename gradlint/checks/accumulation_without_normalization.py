"""GL207 — gradient accumulation where the loss is not divided by the number of micro-batches."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding


def _loss_expression(event) -> cst.BaseExpression | None:
    """The loss a backward call differentiates: `loss` in loss.backward() and scaler.scale(loss).backward()."""
    call = event.call
    if call is None or call.method != "backward" or call.node.args:
        return None  # accelerator.backward(loss) normalises on its own; manual_backward is Lightning's
    owner = call.node.func.value
    if isinstance(owner, cst.Call) and isinstance(owner.func, cst.Attribute) and owner.func.attr.value == "scale":
        return owner.args[0].value if owner.args else None
    return owner


def _is_normalised(expr, event, facts) -> bool | None:
    """True if divided, False if visibly not, None if it cannot be told (a helper computes it)."""
    if isinstance(expr, cst.BinaryOperation):
        return isinstance(expr.operator, (cst.Divide, cst.Multiply))
    if not isinstance(expr, cst.Name):
        return None
    fn = next((f for f in facts.events if f.scope is event.call.scope), None)
    if fn is None:
        return None
    if expr.value in fn.divided:
        return True
    values = fn.scope.assigns.get(expr.value, [])
    if not values:
        return None
    for value in values:
        if isinstance(value, cst.Call) and (
            isinstance(value.func, cst.Name) and value.func.value in {f.name for f in facts.functions}
            or isinstance(value.func, cst.Attribute) and isinstance(value.func.value, cst.Name)
            and value.func.value.value == "self"
        ):
            return None  # computed by a helper we do not follow here
        if isinstance(value, cst.Ellipsis):
            return None
    return False


def check(facts, settings):
    for loop in facts.training_loops:
        steps = [e for e in loop.events if e.steps_optimizer]
        if not steps or not all(e.guarded for e in steps):
            continue
        guard = next(b for b in steps[0].blocks if b.kind == "if")
        for backward in loop.of("backward"):
            if backward.guarded:
                continue
            loss = _loss_expression(backward)
            if loss is None or _is_normalised(loss, backward, facts) is not False:
                continue
            yield finding(
                facts, "GL207", backward.node,
                f"gradients accumulate over micro-batches (step guarded by `{facts.module.code_for_node(guard.test)}` "
                f"at line {facts.line(guard.node)}) but the loss is not divided by the number of micro-batches, so "
                "each update is that many times too large; divide the loss by the accumulation steps before backward()",
            )
