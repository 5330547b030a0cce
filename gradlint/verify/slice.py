"""Cut a script down to what defines its models: imports, functions, classes, constant assignments.

Everything else at the top level (the training loop, `if __name__ == "__main__":`, calls that
load data or write files) is dropped, so importing the slice never runs training code.
"""

from __future__ import annotations

import builtins

import libcst as cst

from gradlint.facts.model import ModuleFacts
from gradlint.facts.names import Scope

# Calls that are safe and commonly needed at module level by model code.
_SAFE_CALLS = {"torch.device", "logging.getLogger", "collections.namedtuple", "typing.TypeVar", "typing.NamedTuple"}
_BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__"}


def slice_module(facts: ModuleFacts) -> str:
    """The source of the sliced module."""
    defined: set[str] = set(_BUILTINS)
    body = _slice_body(facts.module.body, facts, defined)
    return facts.module.with_changes(body=body).code


def _slice_body(statements, facts: ModuleFacts, defined: set[str]) -> list:
    kept = []
    for statement in statements:
        new = _slice_statement(statement, facts, defined)
        if new is not None:
            kept.append(new)
    return kept


def _slice_statement(statement, facts: ModuleFacts, defined: set[str]):
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        defined.add(statement.name.value)
        defined.add(_USER + statement.name.value)
        return statement
    if isinstance(statement, cst.Try):
        return _slice_try(statement, facts, defined)
    if isinstance(statement, cst.If):
        if _is_main_guard(statement.test) or not _is_pure(statement.test, facts.scope, defined):
            return None
        body = _slice_body(statement.body.body, facts, defined) or [cst.SimpleStatementLine([cst.Pass()])]
        orelse = statement.orelse
        if isinstance(orelse, cst.Else):
            inner = _slice_body(orelse.body.body, facts, defined) or [cst.SimpleStatementLine([cst.Pass()])]
            orelse = orelse.with_changes(body=orelse.body.with_changes(body=inner))
        elif isinstance(orelse, cst.If):
            orelse = _slice_statement(orelse, facts, defined)
        return statement.with_changes(body=statement.body.with_changes(body=body), orelse=orelse)
    if isinstance(statement, cst.SimpleStatementLine):
        small = [s for s in (_slice_small(s, facts, defined) for s in statement.body) if s is not None]
        return statement.with_changes(body=small) if small else None
    return None  # for, while, with, match...: run-time code


def _slice_try(statement: cst.Try, facts: ModuleFacts, defined: set[str]) -> cst.Try:
    def block(suite):
        inner = _slice_body(suite.body, facts, defined) or [cst.SimpleStatementLine([cst.Pass()])]
        return suite.with_changes(body=inner)

    handlers = [h.with_changes(body=block(h.body)) for h in statement.handlers]
    orelse = statement.orelse.with_changes(body=block(statement.orelse.body)) if statement.orelse else None
    final = statement.finalbody.with_changes(body=block(statement.finalbody.body)) if statement.finalbody else None
    return statement.with_changes(body=block(statement.body), handlers=handlers, orelse=orelse, finalbody=final)


def _slice_small(small, facts: ModuleFacts, defined: set[str]):
    if isinstance(small, (cst.Import, cst.ImportFrom)):
        for alias in small.names if not isinstance(small.names, cst.ImportStar) else ():
            local = alias.asname.name if alias.asname is not None else alias.name
            while isinstance(local, cst.Attribute):
                local = local.value
            if isinstance(local, cst.Name):
                defined.add(local.value)
        if isinstance(small.names, cst.ImportStar):
            defined.add("*")  # names we cannot list: trust them from now on
        return small
    if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
        return small  # docstring
    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        names = [_target_names(t) for t in targets]
        if any(n is None for n in names):
            return None  # attributes, subscripts: run-time state
        value = small.value
        if not _is_pure(value, facts.scope, defined):
            single = len(targets) == 1 and isinstance(targets[0], cst.Name)
            resolved = facts.resolve(value, facts.scope) if single else None
            literal = literal_expression(resolved.value) if resolved is not None else None
            if literal is None:
                return None
            value = literal  # e.g. HIDDEN = args.hidden → its argparse default
        defined.update(name for group in names for name in group)
        return small.with_changes(value=value)
    if isinstance(small, (cst.Pass, cst.Global)):
        return small
    return None


def _target_names(target: cst.BaseExpression) -> list[str] | None:
    """`a` or `a, b = ...`: the names bound; None for any other target."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)) and all(isinstance(e.value, cst.Name) for e in target.elements):
        return [e.value.value for e in target.elements]
    return None


def literal_expression(value: object) -> cst.BaseExpression | None:
    if isinstance(value, (bool, int, float, str, type(None))) and not (isinstance(value, float) and value != value):
        text = repr(value)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            text = f'float("{value}")'
        return cst.parse_expression(text)
    return None


def _is_pure(expr: cst.BaseExpression, scope: Scope, defined: set[str]) -> bool:
    """No calls (but a few safe constructors) and only names that the slice defines."""
    pure = True

    class _Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> bool:
            nonlocal pure
            if scope.qualify(node.func) not in _SAFE_CALLS:
                pure = False
            return True

        def visit_Name(self, node: cst.Name) -> bool:
            nonlocal pure
            if node.value not in defined and "*" not in defined:
                pure = False
            return False

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False  # the attribute's own name is not a free name

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False  # evaluated only when called

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False  # keyword names are not free names

    expr.visit(_Visitor())
    return pure and not _operates_on_user_code(expr, defined)


# Marks a name the file itself defines (a class or function) in the slice's `defined` set.
_USER = "\0user:"
# Expressions that call hooks of their operands: a metaclass's __getattr__, __getitem__, __add__,
# __format__, __eq__, __bool__ run user code even in an assignment without a call.
_OPERATIONS = (cst.Attribute, cst.Subscript, cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation,
               cst.Comparison, cst.FormattedStringExpression)


def _operates_on_user_code(expr: cst.BaseExpression, defined: set[str]) -> bool:
    """A class or function of the file used as an operand (`T[0]`, `T + 1`, `f"{T}"`, `T.attr`): the slice
    keeps only values that run no user code (a bare reference in a registry dict is fine)."""
    stack = [(expr, False)]
    while stack:
        node, inside = stack.pop()
        if isinstance(node, cst.Name):
            if inside and _USER + node.value in defined:
                return True
            continue
        if isinstance(node, cst.Attribute):
            stack.append((node.value, True))  # the attribute's own name is not an operand
            continue
        inside = inside or isinstance(node, _OPERATIONS)
        stack.extend((child, inside) for child in node.children)
    return False


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = {cst.Module([]).code_for_node(test.left), cst.Module([]).code_for_node(test.comparisons[0].comparator)}
    return "__name__" in sides and bool(sides & {'"__main__"', "'__main__'"})


def substitute_constants(expr: cst.BaseExpression, facts: ModuleFacts, scope: Scope) -> cst.BaseExpression:
    """Replace names inside `expr` that resolve statically (args.hidden, HIDDEN) with their literal value."""

    class _Replace(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.BaseExpression) -> cst.BaseExpression:
            return _literal_for(original, updated)

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
            return _literal_for(original, updated.with_changes(attr=original.attr))  # `.attr` is no free name

        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(keyword=original.keyword)  # never replace keyword names

    def _literal_for(original, updated):
        if scope.qualify(original) is not None:
            return updated  # an imported name (nn.Linear), not a value
        found = facts.resolve(original, scope)
        literal = literal_expression(found.value) if found is not None else None
        return literal if literal is not None else updated

    return expr.visit(_Replace())
