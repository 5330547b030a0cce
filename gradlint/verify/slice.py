"""Cut a script down to what defines its models: imports, functions, classes, constant assignments.

Everything else at the top level (the training loop, `if __name__ == "__main__":`, calls that
load data or write files) is dropped, so importing the slice never runs training code. What the
models still read of that run-time context is rebuilt from definitions (context.py): `args =
parser.parse_args()` becomes a Namespace of the parser's defaults, `device = torch.device(...)` the
verify device, `n_class = len(vocab)` a small placeholder. An import that fails here (a package the
environment lacks) binds a stand-in that raises only when a model uses it.
"""

from __future__ import annotations

import builtins
import sys

import libcst as cst

from gradlint.facts.model import ModuleFacts
from gradlint.facts.names import Scope
from gradlint.verify import context

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
        if isinstance(new, list):
            kept.extend(new)
        elif new is not None:
            kept.append(new)
    return kept


def _block(suite, facts: ModuleFacts, defined: set[str]):
    """A sliced indented block or one-line suite (`try: import x`), never empty."""
    if isinstance(suite, cst.SimpleStatementSuite):
        suite = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=list(suite.body))])
    inner = _slice_body(suite.body, facts, defined) or [cst.SimpleStatementLine([cst.Pass()])]
    return suite.with_changes(body=inner)


def _slice_statement(statement, facts: ModuleFacts, defined: set[str]):
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        disarmed = disarm_definition_time(statement, facts, defined)  # before its name counts as the file's
        defined.add(statement.name.value)
        defined.add(_USER + statement.name.value)
        return disarmed
    if isinstance(statement, cst.Try):
        return _slice_try(statement, facts, defined)
    if isinstance(statement, cst.If):
        if _is_main_guard(statement.test):
            return _context_of_main(statement, facts, defined)
        if not _is_pure(statement.test, facts.scope, defined):
            return None
        body = _block(statement.body, facts, defined)
        orelse = statement.orelse
        if isinstance(orelse, cst.Else):
            orelse = orelse.with_changes(body=_block(orelse.body, facts, defined))
        elif isinstance(orelse, cst.If):
            orelse = _slice_statement(orelse, facts, defined)
            if isinstance(orelse, list) or orelse is None:  # an `elif` that cannot be kept: drop the whole chain
                return None
        return statement.with_changes(body=body, orelse=orelse)
    if isinstance(statement, cst.SimpleStatementLine):
        out, small = [], []
        for item in statement.body:
            if isinstance(item, (cst.Import, cst.ImportFrom)) and _guarded(item) and _IN_TRY not in defined:
                if small:
                    out.append(statement.with_changes(body=small))
                    small = []
                out.append(_guard_import(item, defined))
                continue
            new = _slice_small(item, facts, defined)
            if new is not None:
                small.append(new)
        if small:
            out.append(statement.with_changes(body=small))
        return out or None
    return None  # for, while, with, match...: run-time code


def _context_of_main(statement: cst.If, facts: ModuleFacts, defined: set[str]) -> list:
    """`if __name__ == "__main__":` runs nothing; what it binds at its top level that model code reads as
    globals is kept as at the top of a file: constants, imports, the rebuilt namespace and device."""
    kept = []
    body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else [
        cst.SimpleStatementLine(body=list(statement.body.body))]
    for line in body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        if all(isinstance(small, (cst.Assign, cst.AnnAssign, cst.Import, cst.ImportFrom)) for small in line.body):
            new = _slice_statement(line, facts, defined)  # constants (`n_hidden = 128`), imports, the context
            kept.extend(new or [])
    return kept


# Imports kept as written: the child needs torch itself (and reports its absence), and a failing
# `__future__` import cannot be caught.
_UNGUARDED = frozenset({"__future__", "torch", *getattr(sys, "stdlib_module_names", ())})


def _guarded(node: cst.Import | cst.ImportFrom) -> bool:
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return True
        module = cst.Module([]).code_for_node(node.module) if node.module is not None else ""
        return module.split(".")[0] not in _UNGUARDED
    return any(cst.Module([]).code_for_node(a.name).split(".")[0] not in _UNGUARDED for a in node.names)


def _guard_import(node: cst.Import | cst.ImportFrom, defined: set[str]) -> cst.Try:
    """`try: import numpy as np` / `except Exception as e: np = runtime.missing("numpy", e)`: a package that
    fails to import (absent, or a broken build) stops only the models that use it."""
    code = cst.Module([]).code_for_node
    if isinstance(node, cst.ImportFrom):
        module = "." * len(node.relative) + (code(node.module) if node.module is not None else "")
        if isinstance(node.names, cst.ImportStar):
            defined.add("*")
            bound = []
        else:
            bound = [(code(a.asname.name) if a.asname is not None else code(a.name), module, code(a.name))
                     for a in node.names]
    else:
        bound = [(code(a.asname.name) if a.asname is not None else code(a.name).split(".")[0], code(a.name), "")
                 for a in node.names]
    defined.update(name for name, _, _ in bound)
    fallback = [f"{name} = {context.RUNTIME}.missing({module!r}, _gradlint_error" + (f", {member!r})" if member else ")")
                for name, module, member in bound] or ["pass"]
    source = f"try:\n    {code(node)}\nexcept Exception as _gradlint_error:\n" + "".join(
        f"    {line}\n" for line in fallback)
    return cst.parse_statement(source)


def _rebuilt_context(small: cst.Assign, facts: ModuleFacts, defined: set[str]):
    """`args = parser.parse_args()` → a Namespace of its defaults, `device = torch.device(...)` → the verify
    device, `n_class = len(vocab)` → a placeholder; None for any other assignment."""
    targets = [t.target for t in small.targets]
    if len(targets) != 1:
        return None
    target = targets[0]
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements and isinstance(target.elements[0].value, cst.Name) \
            and context.is_parse_args(small.value, facts):
        target = target.elements[0].value  # args, unknown = parser.parse_known_args()
    if not isinstance(target, cst.Name):
        return None
    if context.literal_len(small.value, facts) and small.value.args[0].value.value in defined:
        defined.add(target.value)
        return small  # `n_classes = len(CLASSES)` of a tuple the slice keeps: the script's own number
    if context.is_parse_args(small.value, facts):
        value = context.namespace_source(facts)
    else:
        value = context.device_source(small.value, facts.scope) or context.environment_source(small.value, facts.scope)
        if value is None and target.value in context.data_placeholders(facts):
            value = str(context.PLACEHOLDER)
        if value is None:
            return None
    defined.add(target.value)
    return cst.Assign(targets=[cst.AssignTarget(target)], value=cst.parse_expression(value))


_IN_TRY = "\0try"  # in `defined` while slicing a try's body: its imports are the script's own guarded ones


def _slice_try(statement: cst.Try, facts: ModuleFacts, defined: set[str]) -> cst.Try:
    def block(suite):
        return _block(suite, facts, defined)

    inside = _IN_TRY in defined
    defined.add(_IN_TRY)
    body = block(statement.body)
    if not inside:
        defined.discard(_IN_TRY)

    handlers = [h.with_changes(body=block(h.body)) for h in statement.handlers]
    orelse = statement.orelse.with_changes(body=block(statement.orelse.body)) if statement.orelse else None
    final = statement.finalbody.with_changes(body=block(statement.finalbody.body)) if statement.finalbody else None
    return statement.with_changes(body=body, handlers=handlers, orelse=orelse, finalbody=final)


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
        if isinstance(small, cst.Assign):
            rebuilt = _rebuilt_context(small, facts, defined)
            if rebuilt is not None:
                return rebuilt
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


# --- definition-time code (owned by verify's runtime half; one entry point: disarm_definition_time) ---

# Calls allowed at definition time (decorators, default arguments, class attributes, annotations, bases):
# library constructors that run none of the user's code, with arguments that are themselves pure.
_PURE_BUILTIN_CALLS = frozenset({"int", "float", "str", "bool", "bytes", "complex", "tuple", "list", "dict", "set",
                                 "frozenset", "range", "slice", "object", "len", "min", "max", "abs", "round", "sum",
                                 "staticmethod", "classmethod", "property"})
_PURE_PREFIXES = ("torch.", "math.", "typing.", "typing_extensions.", "numpy.", "abc.", "enum.", "dataclasses.",
                  "functools.", "collections.", "operator.", "itertools.", "types.", "numbers.")
_IMPURE_LIBRARY = ("torch.hub.", "torch.load", "torch.save", "torch.jit.load", "torch.jit.save", "torch.package.",
                   "torch.utils.cpp_extension.", "torch.ops.load_library", "torch.library.", "numpy.load", "numpy.save",
                   "numpy.fromfile", "numpy.genfromtxt", "numpy.loadtxt")
# Calls that hold a user function or class without calling it.
_HOLDERS = ("dataclasses.field", "functools.partial", "functools.wraps", "typing.TypeVar", "typing.cast")
_STUB = "__gradlint_stub__"  # child.py puts verify's DefinitionTimeStub under this name in builtins


def disarm_definition_time(statement: cst.FunctionDef | cst.ClassDef, facts: ModuleFacts,
                           defined: set[str]) -> cst.BaseStatement:
    """A def or class with no definition-time code of the user's left in it.

    What Python evaluates when the statement runs (not when it is called): decorators (and their call on
    the function or class), default arguments, annotations (unless `from __future__ import annotations`),
    base-class and keyword expressions, class bodies. An expression there that calls anything but a
    known-pure library constructor, or operates on a class of the file (a metaclass hook), is replaced:
    a decorator is dropped; a default, a class attribute and a class are replaced by a stub that raises
    when the model uses it (the child turns that into `skipped`, naming the expression); an annotation
    becomes a string; a statement in a class body that is not a definition or an assignment is dropped;
    `__init_subclass__` is dropped (it would run when a subclass is defined); a class whose metaclass is
    the file's own is replaced by a stub as a whole."""
    scope = facts.scope
    lazy_annotations = any(
        isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and small.module.value == "__future__"
        and not isinstance(small.names, cst.ImportStar) and any(a.name.value == "annotations" for a in small.names)
        for line in facts.module.body if isinstance(line, cst.SimpleStatementLine) for small in line.body)
    code = facts.module.code_for_node
    hooked = "\0stubbed:"  # a class of the file replaced by a stub: its subclasses are stubs too
    plain_record = "\0record:"  # a dataclass of the file that may be built at definition time

    def allowed_call(func: cst.BaseExpression) -> str | None:
        """The qualified name when calling `func` runs no user code, else None."""
        name = scope.qualify(func)
        if name is None and isinstance(func, cst.Name) and func.value in _PURE_BUILTIN_CALLS \
                and _USER + func.value not in defined:
            return func.value
        if name is not None and name.startswith(_PURE_PREFIXES) and not name.startswith(_IMPURE_LIBRARY):
            return name
        if isinstance(func, cst.Name) and plain_record + func.value in defined:
            return func.value  # a dataclass or NamedTuple of the file: its generated __init__ runs none of its code
        return None

    def impure(expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return False
        bad = False

        class _Visit(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> bool:
                nonlocal bad
                name = allowed_call(node.func)
                if name is None:
                    bad = True
                elif not name.startswith(_HOLDERS) and any(
                        isinstance(a.value, cst.Name) and _USER + a.value.value in defined for a in node.args):
                    bad = True  # a library call handed a class or function of the file may call it
                return True

            def visit_Lambda(self, node: cst.Lambda) -> bool:
                return False  # evaluated only when called

            def visit_Await(self, node: cst.Await) -> bool:
                nonlocal bad
                bad = True
                return False

        expr.visit(_Visit())
        return bad or _operates_on_user_code(expr, defined)

    def stub(expr: cst.BaseExpression, what: str) -> cst.BaseExpression:
        source = " ".join(code(expr).split())
        source = source if len(source) <= 80 else source[:77] + "..."
        where = f"{what}, {facts.path}:{facts.line(expr)}"
        return cst.Call(cst.Name(_STUB), [cst.Arg(cst.SimpleString(repr(source))), cst.Arg(cst.SimpleString(repr(where)))])

    def annotation(ann: cst.Annotation | None) -> cst.Annotation | None:
        if ann is None or lazy_annotations or not impure(ann.annotation):
            return ann
        return ann.with_changes(annotation=cst.SimpleString(repr(" ".join(code(ann.annotation).split()))))

    def pure_decorator(decorator: cst.Decorator, methods: set[str]) -> bool:
        expr = decorator.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value in methods \
                and target.attr.value in ("setter", "getter", "deleter"):
            return not impure(expr) if isinstance(expr, cst.Call) else True  # @prop.setter of a property above
        if allowed_call(target) is None:
            return False
        return not isinstance(expr, cst.Call) or not impure(expr)

    def decorators(node, methods: set[str]):
        kept, dropped = [], []
        for decorator in node.decorators:
            (kept if pure_decorator(decorator, methods) else dropped).append(decorator)
        if not dropped:
            return node.decorators, node.leading_lines
        notes = [cst.EmptyLine(comment=cst.Comment(f"# gradlint verify: decorator @{' '.join(code(d.decorator).split())[:60]}"
                                                  f" not run (definition-time code)")) for d in dropped]
        return kept, [*node.leading_lines, *notes]

    def function(node: cst.FunctionDef, methods: set[str], owner: str) -> cst.FunctionDef:
        where = f"{owner}{node.name.value}"

        def param(p: cst.Param) -> cst.Param:
            default = p.default
            if default is not None and impure(default):
                default = stub(default, f"default of {p.name.value} in {where}")
            return p.with_changes(default=default, annotation=annotation(p.annotation))

        params = node.params
        star_arg = params.star_arg
        params = params.with_changes(
            params=[param(p) for p in params.params], posonly_params=[param(p) for p in params.posonly_params],
            kwonly_params=[param(p) for p in params.kwonly_params],
            star_arg=param(star_arg) if isinstance(star_arg, cst.Param) else star_arg,
            star_kwarg=param(params.star_kwarg) if params.star_kwarg is not None else None)
        kept, leading = decorators(node, methods)
        return node.with_changes(params=params, returns=annotation(node.returns), decorators=kept, leading_lines=leading)

    def class_body(statements, name: str) -> list:
        methods: set[str] = set()
        out = []
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                if statement.name.value == "__init_subclass__":
                    continue  # would run when a subclass is defined
                out.append(function(statement, methods, f"{name}."))
                methods.add(statement.name.value)
            elif isinstance(statement, cst.ClassDef):
                out.append(klass(statement, f"{name}."))
            elif isinstance(statement, cst.SimpleStatementLine):
                small = [s for s in (class_small(s, name) for s in statement.body) if s is not None]
                if small:
                    out.append(statement.with_changes(body=small))
            elif isinstance(statement, cst.If) and not impure(statement.test):
                orelse = statement.orelse
                if isinstance(orelse, cst.Else):
                    orelse = orelse.with_changes(body=orelse.body.with_changes(body=class_body(orelse.body.body, name)))
                elif orelse is not None:
                    orelse = None  # elif chains: dropped with their tests
                out.append(statement.with_changes(body=statement.body.with_changes(
                    body=class_body(statement.body.body, name)), orelse=orelse))
            elif isinstance(statement, cst.Try):
                def block(suite):
                    return suite.with_changes(body=class_body(suite.body, name))
                out.append(statement.with_changes(
                    body=block(statement.body), handlers=[h.with_changes(body=block(h.body)) for h in statement.handlers],
                    orelse=statement.orelse.with_changes(body=block(statement.orelse.body)) if statement.orelse else None,
                    finalbody=statement.finalbody.with_changes(body=block(statement.finalbody.body))
                    if statement.finalbody else None))
            # for, while, with, match, elif with an impure test: run-time code in a class body, dropped
        return out or [cst.SimpleStatementLine([cst.Pass()])]

    def class_small(small, name: str):
        if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            value = small.value
            if value is not None and impure(value):
                value = stub(value, f"class attribute of {name}")
            if isinstance(small, cst.AnnAssign):
                return small.with_changes(value=value, annotation=annotation(small.annotation))
            return small.with_changes(value=value)
        if isinstance(small, cst.Expr):
            return small if isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)) else None
        if isinstance(small, (cst.Pass, cst.Import, cst.ImportFrom, cst.Nonlocal, cst.Global)):
            return small
        return None  # a call statement, del, raise, assert...: definition-time code

    def klass(node: cst.ClassDef, owner: str = ""):
        name = f"{owner}{node.name.value}"
        for arg in [*node.bases, *node.keywords]:
            value = arg.value
            meta = arg.keyword is not None and arg.keyword.value == "metaclass" and isinstance(value, cst.Name) \
                and _USER + value.value in defined
            stubbed_base = isinstance(value, cst.Name) and hooked + value.value in defined
            if impure(value) or meta or stubbed_base:
                why = ("its metaclass is the file's own code" if meta else f"its base {code(value)} was not run"
                       if stubbed_base else "a base-class expression")
                if not owner:
                    defined.add(hooked + node.name.value)  # its subclasses are stubs too
                line = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(node.name.value))],
                                                           stub(value, f"class {name}: {why}"))])
                return line.with_changes(leading_lines=node.leading_lines)
        kept, leading = decorators(node, set())
        body = class_body(node.body.body, name)
        if not owner and is_plain_record(node, kept, body):
            defined.add(plain_record + node.name.value)
        return node.with_changes(body=node.body.with_changes(body=body), decorators=kept, leading_lines=leading)

    def is_plain_record(node: cst.ClassDef, kept: list, body: list) -> bool:
        """A @dataclass or NamedTuple whose construction runs only generated code: fields with pure
        defaults (already disarmed: no stub), no __init__/__post_init__/__new__ of its own, no base of the file."""
        record = any((scope.qualify(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "")
                     == "dataclasses.dataclass" for d in kept) and not node.bases
        record = record or (len(node.bases) == 1 and scope.qualify(node.bases[0].value) == "typing.NamedTuple")
        if not record or node.keywords:
            return False
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in ("__init__", "__post_init__", "__new__"):
                return False
            if isinstance(statement, cst.SimpleStatementLine) and _STUB in code(statement):
                return False
            if not isinstance(statement, (cst.FunctionDef, cst.SimpleStatementLine)):
                return False
        return True

    if isinstance(statement, cst.FunctionDef):
        return function(statement, set(), "")
    return klass(statement)
