"""Value resolution the way a reader does it: literals, arithmetic, constants, argparse defaults,
dict look-ups, dataclass defaults and parameter defaults. What cannot be known stays None."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import libcst as cst

from gradlint.facts.names import Scope

if TYPE_CHECKING:
    from gradlint.facts.model import ModuleFacts

Number = Union[int, float]

_BINARY = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Power: operator.pow,
}
_DATACLASS_DECORATORS = {"dataclasses.dataclass", "dataclass", "attr.s", "attrs.define", "attr.dataclass"}
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Value:
    value: object
    origin: str  # "" for a literal at the use site, else e.g. "--lr default", "constant LR"
    node: cst.CSTNode  # where the value is written


def resolve(expr: cst.BaseExpression, scope: Scope, facts: "ModuleFacts", depth: int = 0) -> Value | None:
    if depth > _MAX_DEPTH:
        return None
    value = _literal(expr)
    if value is not None:
        return Value(value, "", expr)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        inner = resolve(expr.expression, scope, facts, depth + 1)
        if inner is None or not _is_number(inner.value):
            return None
        sign = -1 if isinstance(expr.operator, cst.Minus) else 1
        return Value(sign * inner.value, inner.origin, inner.node if inner.origin else expr)
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) in _BINARY:
        left = resolve(expr.left, scope, facts, depth + 1)
        right = resolve(expr.right, scope, facts, depth + 1)
        if left is None or right is None or not (_is_number(left.value) and _is_number(right.value)):
            return None
        try:
            if isinstance(expr.operator, cst.Power) and abs(right.value) > 64:
                # `10 ** 10 ** 10` as an exact integer takes minutes and gigabytes; as a float it overflows at once
                result = float(left.value) ** float(right.value)
            else:
                result = _BINARY[type(expr.operator)](left.value, right.value)
        except (ArithmeticError, ValueError):
            return None
        if _too_big(result):
            return None
        named = left if left.origin else right
        return Value(result, named.origin, named.node if named.origin else expr)
    if isinstance(expr, cst.Name):
        return _name(expr.value, scope, facts, depth)
    if isinstance(expr, cst.Attribute):
        return _attribute(expr, scope, facts, depth)
    if isinstance(expr, cst.Subscript):
        return _subscript(expr, scope, facts, depth)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("float", "int"):
        if len(expr.args) == 1:
            return resolve(expr.args[0].value, scope, facts, depth + 1)
    return None


def _too_big(value: object) -> bool:
    """An integer past float range: every check compares values with float limits, and none is that large."""
    return isinstance(value, int) and value.bit_length() > 1000


def _literal(expr: cst.BaseExpression) -> object | None:
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            value = expr.evaluated_value
        except (ValueError, SyntaxError):  # a literal of more than 4,300 digits (int_max_str_digits)
            return None
        return None if _too_big(value) else value
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _name(name: str, scope: Scope, facts: "ModuleFacts", depth: int) -> Value | None:
    holder: Scope | None = scope
    while holder is not None:
        if name in holder.assigns:
            values = holder.assigns[name]
            if len(values) != 1:
                return _same_everywhere(name, values, holder, facts, depth)
            found = resolve(values[0], holder, facts, depth + 1)
            if found is None:
                return None
            if found.origin and _is_reference(values[0]):
                return found  # `lr = args.lr`: the value still comes from where args.lr does
            origin = f"constant {name}" if holder.kind == "module" else f"{name} ="
            return Value(found.value, origin, values[0])
        if name in holder.params:
            default = holder.params[name]
            found = resolve(default, holder.parent or holder, facts, depth + 1) if default is not None else None
            if found is None:
                return None
            return Value(found.value, found.origin or f"default of parameter {name}", found.node if found.origin else default)
        holder = holder.parent
        while holder is not None and holder.kind == "class":
            holder = holder.parent
    return None


def _same_everywhere(name: str, values: list, holder: Scope, facts: "ModuleFacts", depth: int) -> Value | None:
    """A name bound several times to the same literal (a notebook that repeats `input_dim = 2` in three
    cells) holds that value whichever binding runs; anything else stays unknown."""
    if len(values) > 8 or not all(isinstance(v, (cst.Integer, cst.Float, cst.SimpleString)) for v in values):
        return None
    found = {(type(v), _literal(v)) for v in values}
    if len(found) != 1 or _literal(values[0]) is None:
        return None
    origin = f"constant {name}" if holder.kind == "module" else f"{name} ="
    return Value(_literal(values[0]), origin, values[0])


def _attribute(expr: cst.Attribute, scope: Scope, facts: "ModuleFacts", depth: int) -> Value | None:
    attr = expr.attr.value
    if not isinstance(expr.value, cst.Name) or expr.value.value in ("self", "cls"):
        return None
    base = scope.binding(expr.value.value)
    if base is not None and isinstance(base, cst.Call):
        # cfg = Config(...) → cfg.lr: the call's keyword, else the dataclass field default.
        cls = facts.classes.get(base.func.value) if isinstance(base.func, cst.Name) else None
        if cls is not None and set(cls.decorators) & _DATACLASS_DECORATORS:
            for arg in base.args:
                if arg.keyword is not None and arg.keyword.value == attr:
                    return resolve(arg.value, scope, facts, depth + 1)
            default = cls.fields.get(attr)
            found = resolve(default, cls.scope, facts, depth + 1) if default is not None else None
            if found is None:
                return None
            return Value(found.value, found.origin or f"{cls.name}.{attr} default", found.node if found.origin else default)
    if base is not None and not _is_parse_args(base, facts):
        return None
    option = facts.arguments.get(attr)
    if option is None:
        return None
    found = resolve(option.default, option.scope, facts, depth + 1)
    if found is None:
        return None
    return Value(found.value, f"{option.flag} default", option.default)


_PARSE_METHODS = ("parse_args", "parse_known_args")


def _is_parse_args(expr: cst.BaseExpression, facts: "ModuleFacts") -> bool:
    """`parser.parse_args()`, or a call to this file's own helper that calls it (`args = get_args()`)."""
    if isinstance(expr, cst.Subscript):
        expr = expr.value
    if not isinstance(expr, cst.Call):
        return False
    if isinstance(expr.func, cst.Attribute):
        return expr.func.attr.value in _PARSE_METHODS
    if isinstance(expr.func, cst.Name):
        return any(
            fn.name == expr.func.value and fn.class_name is None and any(c.method in _PARSE_METHODS for c in fn.calls)
            for fn in facts.functions
        )
    return False


def _is_reference(expr: cst.BaseExpression) -> bool:
    """A binding that only names another value (`lr = args.lr`, `lr = float(cfg["lr"])`)."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("float", "int"):
        return len(expr.args) == 1 and _is_reference(expr.args[0].value)
    return isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript))


def _subscript(expr: cst.Subscript, scope: Scope, facts: "ModuleFacts", depth: int) -> Value | None:
    if not isinstance(expr.value, cst.Name) or len(expr.slice) != 1:
        return None
    index = expr.slice[0].slice
    if not isinstance(index, cst.Index) or not isinstance(index.value, cst.SimpleString):
        return None
    key = index.value.evaluated_value
    table = scope.binding(expr.value.value)
    if not isinstance(table, cst.Dict):
        return None
    for element in table.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            if element.key.evaluated_value == key:
                found = resolve(element.value, scope, facts, depth + 1)
                if found is None:
                    return None
                origin = found.origin or f"{expr.value.value}[{key!r}]"
                return Value(found.value, origin, found.node if found.origin else element.value)
    return None
