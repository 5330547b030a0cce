"""The facts of one file: plain records gathered in one pass over the tree (see builder.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from gradlint.facts.names import Scope

if TYPE_CHECKING:
    from gradlint.facts.layers import Chain
    from gradlint.facts.optim import Optimizer
    from gradlint.facts.values import Value


@dataclass(frozen=True, eq=False)
class Block:
    """A compound statement that encloses calls: a loop, a branch of an `if`, a `with`."""

    kind: str  # "for" | "while" | "if" | "else" | "with" | "try"
    node: cst.CSTNode
    test: cst.BaseExpression | None = None  # the condition of an if/else/while


@dataclass(frozen=True, eq=False)
class CallInfo:
    node: cst.Call
    scope: Scope
    qualname: str | None  # resolved through imports: "torch.nn.Sigmoid"
    receiver: str | None  # for `a.b.m(...)`: "a.b"
    method: str | None  # for `a.b.m(...)`: "m"
    blocks: tuple[Block, ...]  # enclosing blocks within the function, outermost first
    target: str | None  # `x = call(...)` → "x", `self.fc = call(...)` → "self.fc"
    standalone: bool = False  # the whole expression statement: its result is discarded

    def kwarg(self, name: str) -> cst.BaseExpression | None:
        for arg in self.node.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        return None

    def positional(self, index: int) -> cst.BaseExpression | None:
        args = [a for a in self.node.args if a.keyword is None and not a.star]
        return args[index].value if index < len(args) else None

    def argument(self, name: str, index: int) -> cst.BaseExpression | None:
        return self.kwarg(name) or self.positional(index)


@dataclass(eq=False)
class FunctionInfo:
    name: str
    node: cst.FunctionDef | cst.Module
    scope: Scope
    class_name: str | None = None
    calls: list[CallInfo] = field(default_factory=list)  # in evaluation order
    # `xs += [...]` on a name, with its enclosing blocks: lists of layers grown in loops.
    list_extends: list[tuple[str, cst.BaseExpression, tuple[Block, ...]]] = field(default_factory=list)
    tensor_adds: int = 0  # `a + b` / `a += b` on non-literals: in a forward(), a skip connection
    # `p.grad = None`: a way to zero gradients, with its enclosing blocks.
    # (node, blocks, number of calls recorded before it: its place in the call order)
    grad_resets: list[tuple[cst.CSTNode, tuple[Block, ...], int]] = field(default_factory=list)
    divided: set[str] = field(default_factory=set)  # names assigned a division (`loss = loss / k`, `loss /= k`)
    # (node, numerator, denominator) of every `a / b` and `a /= b`, in source order
    divisions: list[tuple[cst.CSTNode, cst.BaseExpression, cst.BaseExpression]] = field(default_factory=list)
    compared: set[str] = field(default_factory=set)  # dotted names a comparison mentions (`if n > 0`)


@dataclass(eq=False)
class ClassInfo:
    name: str
    node: cst.ClassDef
    scope: Scope
    bases: tuple[str, ...]  # qualified where imported, else as written
    decorators: tuple[str, ...]
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    attrs: dict[str, cst.BaseExpression] = field(default_factory=dict)  # self.x = value
    fields: dict[str, cst.BaseExpression] = field(default_factory=dict)  # class-body `x: T = value`
    # `module.x = value` on a method's parameter (a callback setting up the module it is given), by "module.x",
    # with the method's scope (its local imports)
    param_attrs: dict[str, tuple[cst.BaseExpression, Scope]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Argument:
    """An argparse option: `parser.add_argument("--lr", default=0.1)`."""

    flag: str
    default: cst.BaseExpression
    scope: Scope


@dataclass(eq=False)
class ModuleFacts:
    path: str
    module: cst.Module
    scope: Scope
    top: FunctionInfo  # the module's top-level code
    functions: list[FunctionInfo] = field(default_factory=list)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    arguments: dict[str, Argument | None] = field(default_factory=dict)  # dest → option (None: ambiguous)
    lr_item_assignments: int = 0  # `group["lr"] = ...`: a hand-written learning-rate schedule
    layouts: dict | None = None  # positions of statements laid out already (a reparse of an edited file)

    @cached_property
    def all_calls(self) -> list[CallInfo]:
        return [call for fn in (self.top, *self.functions) for call in fn.calls]

    @cached_property
    def calls_by_name(self) -> dict[str, list[CallInfo]]:
        """Calls of a plain, unimported name (`train(...)`: the file's own functions), by that name."""
        found: dict[str, list[CallInfo]] = {}
        for call in self.all_calls:
            if isinstance(call.node.func, cst.Name) and call.qualname is None:
                found.setdefault(call.node.func.value, []).append(call)
        return found

    @cached_property
    def calls_by_method(self) -> dict[str, list[CallInfo]]:
        """Method calls of unimported receivers (`model.add_module(...)`), by method name."""
        found: dict[str, list[CallInfo]] = {}
        for call in self.all_calls:
            if call.method is not None and call.qualname is None:
                found.setdefault(call.method, []).append(call)
        return found

    @cached_property
    def module_functions(self) -> dict[int, "FunctionInfo"]:
        """The module-level defs, by id of their scope."""
        return {id(fn.scope): fn for fn in self.functions if fn.class_name is None and fn.scope.parent is self.scope}

    @cached_property
    def chains(self) -> list["Chain"]:
        from gradlint.facts.layers import find_chains

        return find_chains(self)

    @cached_property
    def optimizers(self) -> list["Optimizer"]:
        from gradlint.facts.optim import find_optimizers

        return find_optimizers(self)

    @cached_property
    def imported_roots(self) -> frozenset[str]:
        """Top-level packages the file imports anywhere (`torch`, `tensorflow`, `numpy`, ...)."""
        scopes = [self.scope, *(fn.scope for fn in self.functions), *(cls.scope for cls in self.classes.values())]
        roots = {name.split(".")[0] for scope in scopes for name in (*scope.imports.values(), *scope.star_modules)}
        return frozenset(roots)

    @cached_property
    def events(self) -> dict:
        """FunctionInfo → its training-step events, helpers inlined (see steps.py)."""
        from gradlint.facts.steps import function_events

        return function_events(self)

    @cached_property
    def gradient_free_functions(self) -> frozenset:
        """Functions that run with autograd off (see context.py)."""
        from gradlint.facts.context import gradient_free_functions

        return gradient_free_functions(self)

    @cached_property
    def reported_calls(self) -> frozenset[int]:
        """Calls whose value only reaches print()/a logger/.item() (see context.py)."""
        from gradlint.facts.context import reported_calls

        return reported_calls(self)

    @cached_property
    def training_loops(self) -> list:
        from gradlint.facts.steps import find_training_loops

        return find_training_loops(self)

    @cached_property
    def step_functions(self) -> list:
        """Training steps without a loop of their own that zero some gradients (see steps.step_functions)."""
        from gradlint.facts.steps import step_functions

        return step_functions(self)

    def resolve(self, expr: cst.BaseExpression | None, scope: Scope) -> "Value | None":
        from gradlint.facts.values import resolve

        return resolve(expr, scope, self) if expr is not None else None

    # Positions are computed only for files that produce a finding (most files of a real code base have
    # none), by facts.positions: PositionProvider's ranges at about a quarter of its cost.
    @cached_property
    def _positions(self):
        from gradlint.facts.positions import Positions

        return Positions(self.module, self.layouts)

    def span(self, node: cst.CSTNode):
        from gradlint.finding import Span

        where = self._positions[node]
        return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    def line(self, node: cst.CSTNode) -> int:
        return self._positions[node].start.line
