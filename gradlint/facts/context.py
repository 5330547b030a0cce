"""Where a call runs: whether gradients flow there, and whether the file is test code.

Rules ask the context instead of guessing. Gradient mode follows PyTorch's own semantics:
`with torch.no_grad()` / `inference_mode()` / `set_grad_enabled(False)` and the matching decorators
switch gradients off, `enable_grad()` / `set_grad_enabled(True)` back on (the innermost block wins),
and a function of the file whose every call site in the file runs without gradients runs without
them too (a helper only ever called from an `@torch.no_grad()` sampling loop).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts

_NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
            "torch.autograd.grad_mode.inference_mode"}
_ENABLE_GRAD = {"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"}
_SET_GRAD = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}


def _switch(expr: cst.BaseExpression, scope) -> bool | None:
    """False where `expr` (a with-item or decorator) turns gradients off, True where on, None otherwise."""
    head = expr.func if isinstance(expr, cst.Call) else expr
    name = scope.qualify(head) if scope is not None else None
    if name in _NO_GRAD:
        if isinstance(expr, cst.Call) and name.endswith("inference_mode") and expr.args:
            mode = expr.args[0].value
            if isinstance(mode, cst.Name) and mode.value == "False":
                return None
        return False
    if name in _ENABLE_GRAD:
        return True
    if name in _SET_GRAD and isinstance(expr, cst.Call) and expr.args:
        mode = expr.args[0].value
        if isinstance(mode, cst.Name) and mode.value in ("True", "False"):
            return mode.value == "True"
    return None


def block_mode(call: "CallInfo") -> bool | None:
    """Gradient mode set by the call's own enclosing `with` blocks (innermost first), None if none sets it."""
    for block in reversed(call.blocks):
        if block.kind == "with" and isinstance(block.node, cst.With):
            for item in block.node.items:
                mode = _switch(item.item, call.scope)
                if mode is not None:
                    return mode
    return None


def decorated_mode(fn: "FunctionInfo") -> bool | None:
    if not isinstance(fn.node, cst.FunctionDef) or fn.scope.parent is None:
        return None
    for decorator in fn.node.decorators:
        mode = _switch(decorator.decorator, fn.scope.parent)
        if mode is not None:
            return mode
    return None


def gradient_free_functions(facts: "ModuleFacts") -> frozenset:
    """Functions that run without gradients: decorated so, or called in this file only from places
    that do (a fixed point over the file's own call graph: module functions by name, methods via self)."""
    by_name = {fn.name: fn for fn in facts.functions if fn.class_name is None and fn.scope.parent is facts.scope}
    callers: dict[int, list[tuple["CallInfo", "FunctionInfo"]]] = {}
    for fn in (facts.top, *facts.functions):
        for call in fn.calls:
            target = _callee(call, fn, by_name, facts)
            if target is not None and target is not fn:
                callers.setdefault(id(target), []).append((call, fn))
    free: set[int] = set()
    decided = {id(fn): False if _lightning_evaluation(fn, facts) else decorated_mode(fn) for fn in facts.functions}
    free.update(key for key, mode in decided.items() if mode is False)
    if _inference_only(facts, free):
        # An inference pipeline never computes a gradient: a helper its module never calls is a copy kept
        # beside the pipeline (diffusers' community pipelines), not training code.
        free.update(id(fn) for fn in facts.functions
                    if not callers.get(id(fn)) and decided[id(fn)] is not True and fn.class_name is None)
    changed = True
    while changed:
        changed = False
        for fn in facts.functions:
            key = id(fn)
            if key in free or decided[key] is True or not callers.get(key):
                continue
            if all(_site_free(call, caller, free) for call, caller in callers[key]):
                free.add(key)
                changed = True
    return frozenset(fn for fn in facts.functions if id(fn) in free)


_EVALUATION_HOOKS = ("validation_step", "test_step", "predict_step", "on_validation_", "on_test_", "on_predict_")
_LIGHTNING = ("pytorch_lightning.", "lightning.", "lightning_fabric.")


def _lightning_evaluation(fn: "FunctionInfo", facts: "ModuleFacts") -> bool:
    """Lightning runs its evaluation hooks (validation_step, on_validation_batch_end, …) of a LightningModule
    or a Callback with gradients off."""
    cls = facts.classes.get(fn.class_name) if fn.class_name else None
    if cls is None or not fn.name.startswith(_EVALUATION_HOOKS):
        return False
    return any(base.startswith(_LIGHTNING) for base in cls.bases)


def _inference_only(facts: "ModuleFacts", free: set[int]) -> bool:
    """An inference pipeline module: a class whose `__call__` runs with gradients off, and nothing in the
    file computes a gradient (no backward, no autograd.grad, no optimizer)."""
    entry = any(id(cls.methods["__call__"]) in free for cls in facts.classes.values() if "__call__" in cls.methods)
    if not entry:
        return False
    if facts.optimizers:
        return False
    return not any(c.method in ("backward", "manual_backward") or (c.qualname or "").endswith("autograd.grad")
                   for c in facts.all_calls)


def _site_free(call: "CallInfo", caller: "FunctionInfo", free: set[int]) -> bool:
    mode = block_mode(call)
    if mode is not None:
        return mode is False
    return id(caller) in free


def _callee(call: "CallInfo", fn: "FunctionInfo", by_name: dict, facts: "ModuleFacts"):
    func = call.node.func
    if isinstance(func, cst.Name) and isinstance(call.scope.binding(func.value), cst.Ellipsis):  # a def
        target = by_name.get(func.value)
        if target is not None and call.scope.qualify(func) in (None, func.value):
            return target
        return None
    if call.receiver == "self" and fn.class_name is not None:
        cls = facts.classes.get(fn.class_name)
        return cls.methods.get(call.method) if cls is not None else None
    return None


def without_gradient(call: "CallInfo", facts: "ModuleFacts") -> bool:
    """No autograd graph is recorded where this call runs."""
    mode = block_mode(call)
    if mode is not None:
        return mode is False
    from gradlint.facts.tensors import function_of

    return function_of(call.scope, facts) in facts.gradient_free_functions


# -- values that only reach a report -----------------------------------------------------------------
_REPORTING_METHODS = {"item", "info", "debug", "warning", "add_scalar", "add_scalars", "format"}


def only_reported(call: "CallInfo", facts: "ModuleFacts") -> bool:
    """The call's value goes straight into a report and nowhere else: an argument of print() or of a logger,
    `.item()` taken on the spot (`total += criterion(p, y).item()`), or a name bound to it that only
    reports read before it is bound again (`loss = F.bce(a, y)`, `print(loss)`, and a later notebook
    cell's `loss = ...; loss.backward()`): no backward() ever reaches it."""
    return id(call.node) in facts.reported_calls or _bound_for_report(call, facts)


def _bound_for_report(call: "CallInfo", facts: "ModuleFacts") -> bool:
    """`name = call` as a statement of a module or function body (not in a loop or branch, where a later
    iteration could read it): every read of `name` until the next `name = ...` is inside a report."""
    from gradlint.facts.names import walk
    from gradlint.facts.tensors import function_of

    name = call.target
    if call.blocks or name is None or "." in name:
        return False
    node = function_of(call.scope, facts).node
    body = node.body if isinstance(node, cst.Module) else getattr(node.body, "body", ())
    index = next((i for i, statement in enumerate(body) if _assigns_value(statement, call.node)), None)
    if index is None:
        return False
    reads = 0
    for statement in body[index + 1:]:
        rebinding = _rebinding(statement, name)
        parts = [rebinding] if rebinding is not None else [statement]
        reported = {id(n) for part in parts for c in walk(part) if isinstance(c, cst.Call)
                    for n in _reported_parts(c)}
        for found in (n for part in parts for n in walk(part)):
            if isinstance(found, cst.Name) and found.value == name:
                if id(found) not in reported:
                    return False
                reads += 1
        if rebinding is not None:
            break
    return reads > 0


def _assigns_value(statement: cst.CSTNode, value: cst.Call) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Assign) and small.value is value for small in statement.body)


def _rebinding(statement: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """The value of a statement `name = value`, else None."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
            return small.value
    return None


def _reported_parts(call: cst.Call):
    """The nodes whose value this call only reports: print()'s and a logger's arguments, `x.item()`'s x."""
    from gradlint.facts.names import walk

    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "item":
        return walk(func.value)
    if (isinstance(func, cst.Name) and func.value == "print") or (
            isinstance(func, cst.Attribute) and func.attr.value in _REPORTING_METHODS):
        return walk(*(arg.value for arg in call.args))
    return ()


def reported_calls(facts: "ModuleFacts") -> frozenset[int]:
    """ids of the call nodes whose value only reaches a report (see only_reported)."""
    from gradlint.facts.names import walk

    found = set()
    for call in facts.all_calls:
        func = call.node.func
        if call.method == "item" and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            found.add(id(func.value))
        elif (isinstance(func, cst.Name) and func.value == "print" and call.qualname is None) \
                or call.method in _REPORTING_METHODS:
            found.update(id(node) for arg in call.node.args for node in walk(arg.value) if isinstance(node, cst.Call))
    return frozenset(found)


# -- test code --------------------------------------------------------------------------------------
_TEST_DIRS = {"test", "tests", "testing", "unit_tests", "unittests"}


def is_test_file(path: str) -> bool:
    """pytest's and unittest's conventions: test_*.py, *_test.py, conftest.py, or a tests/ folder."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts:
        return False
    name = parts[-1]
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(part in _TEST_DIRS for part in parts[:-1]))


def never_trains(facts: "ModuleFacts") -> bool:
    """A notebook that builds tensors and modules but never trains anything (no optimizer, no backward,
    no fit): a forward-only illustration, whose init cannot hurt a gradient. A .py file may be imported by
    a training script, so only notebooks, which run on their own, are judged so."""
    if not facts.path.endswith(".ipynb"):
        return False
    if facts.optimizers:
        return False
    return not any(c.method in ("backward", "manual_backward", "fit", "train_on_batch") or
                   (c.qualname or "").endswith("autograd.grad") for c in facts.all_calls)


def really_trains(facts: "ModuleFacts") -> bool:
    """A training loop over data: a step inside a loop that draws batches (not a fixed `range` demo of a
    unit test that runs one backward or checks a scheduler's arithmetic)."""
    from gradlint.facts.steps import fixed_batch

    return any(not fixed_batch(loop) for loop in facts.training_loops)


# Rule bands whose findings need code that really trains: a unit test builds a layer with a constant
# init, runs one backward or constructs an optimizer with an odd lr to test it.
TRAINING_BANDS = ("GL2", "GL3")


def quiet_in_tests(facts: "ModuleFacts") -> bool:
    """Test code (a test file) that never really trains: its GL2xx/GL3xx findings are not reported."""
    return is_test_file(facts.path) and not really_trains(facts)


def probe_weight(target: str, scope, facts: "ModuleFacts") -> bool:
    """`conv.weight` set at the top level, where `conv` is a layer object only called and inspected (GL301/302)."""
    root = target.partition(".")[0]
    return scope is facts.scope and root != target and only_probed(root, facts)


_TRAINING_USES = {"parameters", "named_parameters", "train", "state_dict", "load_state_dict", "requires_grad_"}


def only_probed(name: str, facts: "ModuleFacts") -> bool:
    """A module-level layer object the code only calls and pokes at (`conv(img)`, `conv.weight.data.fill_(1)`):
    never handed to an optimizer, a trainer or any function, never stored elsewhere, its parameters never
    taken — a probe built to look at (a receptive-field plot), not a model that trains."""
    if not name or "." in name or name not in facts.scope.assigns:
        return False
    from gradlint.facts.names import walk

    deleted = {id(n.target) for n in walk(facts.module) if isinstance(n, cst.Del)}  # `del conv, img` frees it
    for node in walk(facts.module):
        if id(node) in deleted:
            continue
        if isinstance(node, cst.Call):
            for arg in node.args:
                if _mentions(arg.value, name):
                    return False  # passed on: an optimizer, Trainer.fit, a helper could train it
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == name:
            if node.attr.value in _TRAINING_USES:
                return False
        elif isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.Return, cst.Yield)):
            if any(isinstance(n, cst.Name) and n.value == name for n in _children(node)):
                return False
        elif isinstance(node, (cst.Assign, cst.AnnAssign)) and isinstance(node.value, cst.Name) and node.value.value == name:
            return False  # an alias
    return True


def _mentions(expr: cst.BaseExpression, name: str) -> bool:
    from gradlint.facts.names import walk

    return any(isinstance(n, cst.Name) and n.value == name for n in walk(expr))


def _children(node: cst.CSTNode):
    if isinstance(node, cst.Dict):
        return [e.value for e in node.elements] + [getattr(e, "key", None) for e in node.elements]
    if isinstance(node, (cst.Return, cst.Yield)):
        return [node.value]
    return [e.value for e in node.elements]
