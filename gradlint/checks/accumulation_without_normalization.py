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
    unpacked = [value for value, _ in fn.scope.unpacked.get(expr.value, ())]
    if values and len(unpacked) == len(values):
        values = unpacked  # `logits, loss = model(x, y)`: the loss is what the call returns
    if not values:
        return None
    helpers = {f.name for f in facts.functions}
    for value in values:
        if not isinstance(value, (cst.Call, cst.Attribute, cst.Subscript)):
            return None  # arithmetic on the loss: it is being scaled on purpose, somehow
        if any(_is_helper_call(c, helpers) for c in _calls_in(value)):
            return None  # computed by a helper we do not follow here
    return False


def _calls_in(expr):
    while isinstance(expr, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(expr, cst.Call):
            yield expr
            expr = expr.func
        else:
            expr = expr.value


def _is_helper_call(call: cst.Call, helpers: set[str]) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in helpers
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" \
        and func.attr.value != "model"


def _scales_gradients(loop) -> bool:
    """`scale_grads(model, 1 / n)`, fairseq's `optimizer.multiply_grads(1 / n)` or `p.grad.div_(n)` before the
    step normalises the sum itself."""
    for event_call in (c for fn in [loop.function] for c in fn.calls):
        name = event_call.method or (event_call.qualname or "").rsplit(".", 1)[-1]
        if "scale_grad" in name or "multiply_grads" in name \
                or (event_call.method in ("div_", "mul_") and ".grad" in (event_call.receiver or "")):
            return True
    return False


def _accumulation(facts, loop, backward) -> str | None:
    """How this backward accumulates: the step's `%` guard, or an inner micro-batch loop with no step in it."""
    steps = [e for e in loop.events if e.steps_optimizer]
    if steps and all(e.guarded for e in steps) and not backward.guarded:
        guard = next(b for b in steps[0].blocks if b.kind == "if")
        if _off_by_default(guard.test, backward.call.scope if backward.call else None, facts):
            return None
        return f"step guarded by `{facts.module.code_for_node(guard.test)}` at line {facts.line(guard.node)}"
    inner = backward.blocks[backward.blocks.index(loop.loop) + 1:] if loop.loop in backward.blocks else ()
    for block in inner:
        if block.kind in ("for", "while") and not any(block in e.blocks for e in steps):
            return f"backward() runs in the micro-batch loop at line {facts.line(block.node)}, the step after it"
    return None


def _off_by_default(test, scope, facts) -> bool:
    """`if not args.accum or (step + 1) % args.accum == 0:` with `--accum` defaulting to 0: by default the
    optimizer steps after every backward, and nothing accumulates."""
    if scope is None or not isinstance(test, cst.BooleanOperation) or not isinstance(test.operator, cst.Or):
        return False
    switch = test.left
    if not (isinstance(switch, cst.UnaryOperation) and isinstance(switch.operator, cst.Not)):
        return False
    value = facts.resolve(switch.expression, scope)
    return value is not None and value.value in (0, None, False)


def check(facts, settings):
    for loop in facts.training_loops:
        if _scales_gradients(loop):
            continue
        for backward in loop.of("backward"):
            how = _accumulation(facts, loop, backward)
            if how is None:
                continue
            loss = _loss_expression(backward)
            if loss is None or _is_normalised(loss, backward, facts) is not False:
                continue
            yield finding(
                facts, "GL207", backward.node,
                f"gradients accumulate over micro-batches ({how}) with an undivided loss; divide it by their number",
            )
