"""One pass over a parsed module that records its facts: imports, bindings, classes, calls in order.

The walk is gradlint's own, not libcst's visitor: it skips whitespace and punctuation nodes
(most of a concrete syntax tree) and calls a handler only for the node types that carry facts.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from gradlint.facts.model import Argument, Block, CallInfo, ClassInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted, option_dest

# A binding whose value gradlint cannot know (tuple unpacking, loop targets, augmented assignment).
UNKNOWN = cst.Ellipsis()

_NOT_CHILDREN = {
    "lpar", "rpar", "comma", "semicolon", "equal", "colon", "dot", "operator", "leading_lines",
    "lines_after_decorators", "header", "footer", "newline", "trailing_whitespace", "lbrace", "rbrace",
    "lbracket", "rbracket", "asynchronous", "first_line", "whitespace", "star", "arrow", "lambda_",
    "to", "value_start",
}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(kind) if f.name not in _NOT_CHILDREN and "whitespace" not in f.name
        )
        _FIELDS[kind] = names
    return names


def build(module: cst.Module, path: str, package: str = "") -> ModuleFacts:
    return _Builder(module, path, package).facts


class _Builder:
    def __init__(self, module: cst.Module, path: str, package: str):
        scope = Scope("module", "<module>", package=package)
        top = FunctionInfo("<module>", module, scope)
        self.facts = ModuleFacts(path=path, module=module, scope=scope, top=top)
        self.scope = scope
        self.function = top
        self.cls: ClassInfo | None = None
        self.blocks: tuple[Block, ...] = ()
        self.targets: dict[int, str] = {}
        self.standalone: set[int] = set()
        self.handlers = {
            cst.Import: self.on_import,
            cst.ImportFrom: self.on_import,
            cst.ClassDef: self.on_class,
            cst.FunctionDef: self.on_function,
            cst.Assign: self.on_assign,
            cst.AnnAssign: self.on_ann_assign,
            cst.AugAssign: self.on_aug_assign,
            cst.For: self.on_for,
            cst.While: self.on_while,
            cst.If: self.on_if,
            cst.With: self.on_with,
            cst.Call: self.on_call,
            cst.Expr: self.on_expr,
            cst.BinaryOperation: self.on_binary,
            cst.Comparison: self.on_comparison,
            cst.Name: _leaf,
            cst.Integer: _leaf,
            cst.Float: _leaf,
            cst.SimpleString: _leaf,
            cst.Comment: _leaf,
            cst.EmptyLine: _leaf,
            cst.Newline: _leaf,
            cst.Pass: _leaf,
        }
        for statement in module.body:
            self.visit(statement)

    # -- the walk -------------------------------------------------------------------------------
    def visit(self, node: cst.CSTNode) -> None:
        handler = self.handlers.get(type(node))
        if handler is not None:
            handler(node)
            return
        for name in _fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.visit(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.visit(item)

    def visit_all(self, nodes) -> None:
        for node in nodes:
            self.visit(node)

    def in_block(self, block: Block, body: cst.CSTNode) -> None:
        saved = self.blocks
        self.blocks = (*saved, block)
        self.visit(body)
        self.blocks = saved

    # -- statements -----------------------------------------------------------------------------
    def on_import(self, node: cst.Import | cst.ImportFrom) -> None:
        self.scope.add_import(node)

    def on_class(self, node: cst.ClassDef) -> None:
        self.visit_all(d.decorator for d in node.decorators)
        self.visit_all(a.value for a in node.bases)
        bases = tuple(self.scope.qualify(a.value) or dotted(a.value) or "" for a in node.bases)
        decorators = tuple(
            self.scope.qualify(_callee(d.decorator)) or dotted(_callee(d.decorator)) or "" for d in node.decorators
        )
        self.bind(node.name.value, UNKNOWN)
        scope = Scope("class", node.name.value, parent=self.scope, package=self.scope.package)
        info = ClassInfo(node.name.value, node, scope, bases, decorators)
        self.facts.classes.setdefault(node.name.value, info)
        saved = self.scope, self.cls, self.blocks
        self.scope, self.cls, self.blocks = scope, info, ()
        self.visit(node.body)
        self.scope, self.cls, self.blocks = saved

    def on_function(self, node: cst.FunctionDef) -> None:
        self.visit_all(d.decorator for d in node.decorators)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self.visit(param.default)
        self.bind(node.name.value, UNKNOWN)
        scope = Scope("function", node.name.value, parent=self.scope, package=self.scope.package)
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.params[param.name.value] = param.default
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.params[star.name.value] = None
        owner = self.cls if self.scope.kind == "class" else None
        info = FunctionInfo(node.name.value, node, scope, class_name=owner.name if owner else None)
        self.facts.functions.append(info)
        if owner is not None:
            owner.methods.setdefault(node.name.value, info)
        saved = self.scope, self.function, self.blocks, self.cls
        self.scope, self.function, self.blocks = scope, info, ()
        if owner is None:
            self.cls = None
        self.visit(node.body)
        self.scope, self.function, self.blocks, self.cls = saved
        if owner is not None:
            self.cls = owner

    def on_assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.assign_target(target.target, node.value)
            if isinstance(target.target, cst.Name) and _contains_division(node.value):
                self.function.divided.add(target.target.value)
            if isinstance(target.target, cst.Attribute) and target.target.attr.value == "grad":
                if isinstance(node.value, cst.Name) and node.value.value == "None":
                    self.function.grad_resets.append((node, self.blocks, len(self.function.calls)))
        self.visit(node.value)
        for target in node.targets:
            if isinstance(target.target, cst.Subscript):
                self.visit(target.target)  # `m[m == 0] = 1`: the index is evaluated code too

    def on_expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.standalone.add(id(node.value))
        self.visit(node.value)

    def on_ann_assign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            if self.scope.kind == "class" and isinstance(node.target, cst.Name) and self.cls is not None:
                self.cls.fields[node.target.value] = node.value
            self.assign_target(node.target, node.value)
            self.visit(node.value)

    def on_aug_assign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, UNKNOWN)
            self.scope.augmented.setdefault(node.target.value, []).append((node.operator, node.value))
            if isinstance(node.operator, cst.DivideAssign):
                self.function.divided.add(node.target.value)
            if isinstance(node.operator, cst.AddAssign) and isinstance(node.value, (cst.List, cst.Tuple)):
                self.function.list_extends.append((node.target.value, node.value, self.blocks))
        if isinstance(node.operator, cst.AddAssign) and not _is_literal(node.value):
            self.function.tensor_adds += 1
        if isinstance(node.target, cst.Subscript):
            self.note_item_assignment(node.target)
        if isinstance(node.operator, cst.DivideAssign):
            self.function.divisions.append((node, node.target, node.value))
        self.visit(node.target)
        self.visit(node.value)

    def assign_target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        text = dotted(target)
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else ()
            pairwise = len(values) == len(target.elements) and not any(
                isinstance(e, cst.StarredElement) for e in (*values, *target.elements))
            for index, element in enumerate(target.elements):
                self.assign_target(element.value, values[index].value if pairwise else UNKNOWN)
                if not pairwise and value is not UNKNOWN and isinstance(element.value, cst.Name) \
                        and not any(isinstance(e, cst.StarredElement) for e in target.elements):
                    self.scope.unpacked.setdefault(element.value.value, []).append((value, index))
            return
        elif isinstance(target, cst.Subscript):
            self.note_item_assignment(target)
            if isinstance(target.value, cst.Name) and value is not UNKNOWN:
                self.scope.stores.setdefault(target.value.value, []).append(value)
        elif text and text.startswith("self.") and text.count(".") == 1:
            owner = self._method_owner()
            if owner is not None:
                owner.attrs.setdefault(text[5:], value)
        elif text and text.count(".") == 1 and text.partition(".")[0] in self.scope.params:
            owner = self._method_owner()  # a Lightning callback's `pl_module.evaluator = SSLEvaluator(...)`
            if owner is not None:
                owner.param_attrs.setdefault(text, (value, self.scope))
        if text and isinstance(value, cst.Call):
            self.targets[id(value)] = text

    def note_item_assignment(self, target: cst.Subscript) -> None:
        index = target.slice[0].slice if len(target.slice) == 1 else None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            if index.value.evaluated_value in ("lr", "learning_rate"):
                self.facts.lr_item_assignments += 1

    def bind(self, name: str, value: cst.BaseExpression) -> None:
        self.scope.assigns.setdefault(name, []).append(value)

    def _method_owner(self) -> ClassInfo | None:
        return self.facts.classes.get(self.function.class_name) if self.function.class_name else None

    def on_for(self, node: cst.For) -> None:
        self.visit(node.iter)
        self.assign_target(node.target, UNKNOWN)
        if isinstance(node.target, cst.Name):
            self.scope.iterated.setdefault(node.target.value, []).append(node.iter)
        self.in_block(Block("for", node), node.body)
        if node.orelse is not None:
            self.visit(node.orelse)

    def on_while(self, node: cst.While) -> None:
        self.visit(node.test)
        self.in_block(Block("while", node, node.test), node.body)
        if node.orelse is not None:
            self.visit(node.orelse)

    def on_if(self, node: cst.If) -> None:
        self.visit(node.test)
        self.in_block(Block("if", node, node.test), node.body)
        if node.orelse is not None:
            self.in_block(Block("else", node.orelse, node.test), node.orelse)

    def on_with(self, node: cst.With) -> None:
        for item in node.items:
            self.visit(item.item)
            if item.asname is not None:
                self.assign_target(item.asname.name, UNKNOWN)
        self.in_block(Block("with", node), node.body)

    # -- expressions ----------------------------------------------------------------------------
    def on_call(self, node: cst.Call) -> None:
        func = node.func
        receiver = method = None
        if isinstance(func, cst.Attribute):
            self.visit(func.value)
            receiver, method = dotted(func.value), func.attr.value
        elif not isinstance(func, cst.Name):
            self.visit(func)
        for arg in node.args:
            self.visit(arg.value)
        call = CallInfo(
            node=node,
            scope=self.scope,
            qualname=self.scope.qualify(func),
            receiver=receiver,
            method=method,
            blocks=self.blocks,
            target=self.targets.pop(id(node), None),
            standalone=id(node) in self.standalone,
        )
        self.function.calls.append(call)
        if method == "add_argument":
            self.record_argument(call)

    def on_binary(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Add) and not (_is_literal(node.left) or _is_literal(node.right)):
            self.function.tensor_adds += 1
        elif isinstance(node.operator, cst.Divide):
            self.function.divisions.append((node, node.left, node.right))
        self.visit(node.left)
        self.visit(node.right)

    def on_comparison(self, node: cst.Comparison) -> None:
        for operand in (node.left, *(c.comparator for c in node.comparisons)):
            self.function.compared.update(_mentioned(operand))
            self.visit(operand)

    def record_argument(self, call: CallInfo) -> None:
        option = option_dest(call)
        if option is None:
            return
        flags, dest = option
        default = call.kwarg("default")
        arguments = self.facts.arguments
        if default is None or (dest in arguments and arguments[dest] is not None):
            arguments[dest] = None  # no default, or defined twice: not a value we can trust
        else:
            arguments[dest] = Argument(next((f for f in flags if f.startswith("--")), flags[0]), default, self.scope)


def _mentioned(expr: cst.BaseExpression) -> set[str]:
    """Dotted names inside a comparison operand: `n`, `x.norm` in `x.norm(dim=1) > 0`."""
    names: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        text = dotted(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if text:
            names.add(text)
            if isinstance(node, cst.Name):
                continue
        if isinstance(node, cst.Attribute):
            stack.append(node.value)
        elif isinstance(node, cst.Call):
            stack.append(node.func)
            stack.extend(a.value for a in node.args)
        elif isinstance(node, cst.Subscript):
            stack.append(node.value)
            stack.extend(e.slice.value for e in node.slice if isinstance(e.slice, cst.Index))
        elif isinstance(node, cst.BinaryOperation):
            stack.extend((node.left, node.right))
        elif isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
    return names


def _contains_division(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, (cst.Divide, cst.FloorDivide)):
            return True
        if _contains_division(node.right):
            return True
        node = node.left
    return False


def _is_literal(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def _leaf(node: cst.CSTNode) -> None:
    return None


def _callee(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.func if isinstance(expr, cst.Call) else expr
