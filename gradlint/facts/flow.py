"""Parameters bound at the file's own call sites: `def train(model, ...)` called as `train(Net(), ...)`.

Bounded and honest: a parameter stands for a value only when the file calls its function, every call
site passes it, and every passed value resolves (in the caller's scope) to the same kind of thing the
asking rule wants; otherwise it stays unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from gradlint.facts.names import Scope

if TYPE_CHECKING:
    from gradlint.facts.model import FunctionInfo, ModuleFacts


def argument_values(scope: Scope, name: str, facts: "ModuleFacts") -> list[tuple[cst.BaseExpression, Scope]] | None:
    """What every call site of the function owning `scope` passes for its parameter `name`, each with the
    caller's scope; None when the function is not a module-level def, is never called, or a call site
    does not pass it (its default then applies: the caller is left unknown)."""
    fn = _function(scope, facts)
    if fn is None or name not in scope.params or not isinstance(fn.node, cst.FunctionDef):
        return None
    positional = positional_names(fn.node)
    found = []
    for call in facts.calls_by_name.get(fn.name, ()):
        value = _passed(call.node, name, positional)
        if value is None:
            return None
        found.append((value, call.scope))
    return found or None


def positional_names(node: cst.FunctionDef) -> list[str]:
    """A def's parameters that a call can pass by position, in order."""
    return [p.name.value for p in (*node.params.posonly_params, *node.params.params)]


def _function(scope: Scope, facts: "ModuleFacts") -> "FunctionInfo | None":
    return facts.module_functions.get(id(scope))


def _passed(call: cst.Call, name: str, positional: list[str]) -> cst.BaseExpression | None:
    index = positional.index(name) if name in positional else None
    plain = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args):
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    if index is not None and index < len(plain):
        return plain[index].value
    return None
