"""Chains of layers: nn.Sequential(...) (literal, *list, OrderedDict) and forward() bodies.

A chain is the order in which a model applies its layers; checks count what stands between.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import Block, CallInfo, ClassInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope, dotted

_MAX_REPEAT = 64


@dataclass(frozen=True)
class LayerUse:
    kind: str  # "saturating" | "norm" | "weight" | "recurrent" | "attention" | "opaque" | "other"
    label: str  # as a reader would name it: "nn.Sigmoid", "torch.sigmoid", "x.tanh()"
    node: cst.CSTNode
    container: cst.CSTNode | None = None  # the nn.Sequential call it came from, if any


# Layer kinds that end a run of saturating activations: a normalization re-centres activations;
# a block gradlint cannot see into (or a recurrent/attention block) might.
RESETTING_KINDS = frozenset({"norm", "opaque", "recurrent", "attention"})


@dataclass(frozen=True)
class Chain:
    layers: tuple[LayerUse, ...]
    where: str  # "nn.Sequential" or "Net.forward"
    node: cst.CSTNode
    residual: bool = False  # the forward adds tensors (skip connections)
    # forward() only: the runs of saturating activations along the data flow (each feeding the next),
    # so parallel gates (an LSTM cell), x * sigmoid(x) and residual blocks are not one chain.
    runs: tuple[tuple[LayerUse, ...], ...] | None = None


def classify_module(qualname: str | None, label: str, node: cst.CSTNode, facts: ModuleFacts) -> LayerUse:
    if qualname in vocab.SATURATING_MODULES:
        return LayerUse("saturating", label, node)
    if qualname in vocab.NORM_MODULES:
        return LayerUse("norm", label, node)
    if qualname in vocab.WEIGHT_MODULES:
        return LayerUse("weight", label, node)
    if qualname in vocab.RECURRENT_MODULES:
        return LayerUse("recurrent", label, node)
    if qualname in vocab.ATTENTION_MODULES:
        return LayerUse("attention", label, node)
    if qualname is None or not qualname.startswith("torch."):
        return LayerUse("opaque", label, node)  # a project block: what it holds is not known here
    return LayerUse("other", label, node)


def _short(qualname: str) -> str:
    return qualname.replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.")


def find_chains(facts: ModuleFacts) -> list[Chain]:
    chains = []
    for call in facts.all_calls:
        if call.qualname == f"{vocab.NN}.Sequential":
            layers = tuple(_sequential_layers(call.node, call.scope, facts, _function_of(call, facts)))
            chains.append(Chain(layers, "nn.Sequential", call.node))
    for cls in facts.classes.values():
        forward = cls.methods.get("forward")
        if forward is not None:
            layers = tuple(_unroll(forward.calls, 0, cls, facts))
            saturating = sum(1 for layer in layers if layer.kind == "saturating")
            runs = _ForwardFlow(forward, cls, facts).runs() if saturating >= 2 else ()
            chains.append(
                Chain(layers, f"{cls.name}.forward", forward.node, residual=_has_skips(forward), runs=runs)
            )
    from gradlint.facts.keras import keras_chains

    return chains + keras_chains(facts)


_CONCATENATIONS = {"torch.cat", "torch.concat", "torch.concatenate"}


def _has_skips(forward: FunctionInfo) -> bool:
    """Skip connections: added (`x + block(x)`, ResNet) or concatenated (`torch.cat([x, up])`, U-Net, DenseNet)."""
    return forward.tensor_adds > 0 or any(call.qualname in _CONCATENATIONS for call in forward.calls)


def _function_of(call: CallInfo, facts: ModuleFacts) -> FunctionInfo:
    for fn in (facts.top, *facts.functions):
        if fn.scope is call.scope.function() or (fn is facts.top and call.scope.function() is None):
            return fn
    return facts.top


def _sequential_layers(node: cst.Call, scope: Scope, facts: ModuleFacts, fn: FunctionInfo):
    for arg in node.args:
        if arg.star == "*":
            for element in _list_elements(arg.value, scope, facts, fn):
                yield from _layer_from_expr(element, scope, facts, fn, node)
        elif arg.keyword is None:
            yield from _layer_from_expr(arg.value, scope, facts, fn, node)


def _layer_from_expr(expr, scope: Scope, facts: ModuleFacts, fn: FunctionInfo, container: cst.Call):
    if isinstance(expr, cst.Call):
        qualname = scope.qualify(expr.func)
        if qualname == "collections.OrderedDict" and expr.args:
            for element in _list_elements(expr.args[0].value, scope, facts, fn):
                if isinstance(element, cst.Tuple) and len(element.elements) == 2:
                    yield from _layer_from_expr(element.elements[1].value, scope, facts, fn, container)
            return
        if qualname == f"{vocab.NN}.Sequential":
            yield from _sequential_layers(expr, scope, facts, fn)
            return
        use = classify_module(qualname, _short(qualname or dotted(expr.func) or "?"), expr, facts)
        yield LayerUse(use.kind, use.label, use.node, container)
    elif isinstance(expr, cst.Name):
        bound = scope.binding(expr.value)
        if isinstance(bound, cst.Call):
            yield from _layer_from_expr(bound, scope, facts, fn, container)
        else:
            yield LayerUse("opaque", expr.value, expr, container)
    else:
        yield LayerUse("opaque", "?", expr, container)


def _list_elements(expr, scope: Scope, facts: ModuleFacts, fn: FunctionInfo) -> list[cst.BaseExpression]:
    """The elements of a list literal, or of a list variable grown by append/extend/+= (loops unrolled)."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [e.value for e in expr.elements if not isinstance(e, cst.StarredElement)]
    if not isinstance(expr, cst.Name):
        return []
    name = expr.value
    bound = scope.binding(name)
    elements = [e.value for e in bound.elements] if isinstance(bound, (cst.List, cst.Tuple)) else []
    growth: list[tuple[tuple[Block, ...], list[cst.BaseExpression]]] = []
    for call in fn.calls:
        if call.receiver == name and call.method in ("append", "extend") and call.node.args:
            value = call.node.args[0].value
            items = [value] if call.method == "append" else _list_elements(value, scope, facts, fn)
            growth.append((call.blocks, items))
    for target, value, blocks in fn.list_extends:
        if target == name:
            growth.append((blocks, [e.value for e in value.elements]))
    # Appends happen in evaluation order already; a loop repeats its own appends together.
    return elements + _repeat_grouped(growth, 0, scope, facts)


def _repeat_grouped(growth, depth: int, scope: Scope, facts: ModuleFacts) -> list:
    out: list = []
    i = 0
    while i < len(growth):
        blocks, items = growth[i]
        loop = _loop_at(blocks, depth)
        if loop is None:
            out.extend(items)
            i += 1
            continue
        j = i
        while j < len(growth) and _loop_at(growth[j][0], depth) is loop:
            j += 1
        body = _repeat_grouped(growth[i:j], depth + 1, scope, facts)
        out.extend(body * loop_count(loop, scope, facts))
        i = j
    return out


def _loop_at(blocks: tuple[Block, ...], depth: int) -> Block | None:
    loops = [b for b in blocks if b.kind in ("for", "while")]
    return loops[depth] if depth < len(loops) else None


def loop_count(loop: Block, scope: Scope, facts: ModuleFacts, cls: ClassInfo | None = None) -> int:
    """How many times a `for _ in range(n)` loop runs, when n is known; otherwise once (precision first)."""
    if not isinstance(loop.node, cst.For):
        return 1
    iterable = loop.node.iter
    if isinstance(iterable, cst.Call) and dotted(iterable.func) == "range" and 1 <= len(iterable.args) <= 3:
        bounds = [facts.resolve(a.value, scope) for a in iterable.args[:2]]
        if all(b is not None and isinstance(b.value, int) for b in bounds):
            start, stop = (0, bounds[0].value) if len(bounds) == 1 else (bounds[0].value, bounds[1].value)
            return max(1, min(_MAX_REPEAT, stop - start))
        return 1
    if cls is not None and isinstance(iterable, cst.Attribute) and dotted(iterable.value) == "self":
        return max(1, min(_MAX_REPEAT, len(_module_list_items(cls, iterable.attr.value, facts)) or 1))
    return 1


def _module_list_items(cls: ClassInfo, attr: str, facts: ModuleFacts) -> list[cst.BaseExpression]:
    value = cls.attrs.get(attr)
    if isinstance(value, cst.Call) and value.args and cls.scope.qualify(value.func) == f"{vocab.NN}.ModuleList":
        first = value.args[0].value
        if isinstance(first, (cst.List, cst.Tuple)):
            return [e.value for e in first.elements]
        if isinstance(first, cst.ListComp) and first.for_in.inner_for_in is None:
            block = Block("for", cst.For(target=first.for_in.target, iter=first.for_in.iter, body=cst.IndentedBlock([])))
            return [first.elt] * loop_count(block, cls.scope, facts)
    return []


def _unroll(calls: list[CallInfo], depth: int, cls: ClassInfo, facts: ModuleFacts) -> list[LayerUse]:
    out: list[LayerUse] = []
    i = 0
    while i < len(calls):
        loop = _loop_at(calls[i].blocks, depth)
        if loop is None:
            out.extend(_applied_layers(calls[i], cls, facts))
            i += 1
            continue
        j = i
        while j < len(calls) and _loop_at(calls[j].blocks, depth) is loop:
            j += 1
        body = _unroll(calls[i:j], depth + 1, cls, facts)
        out.extend(body * loop_count(loop, calls[i].scope, facts, cls))
        i = j
    return out


def _applied_layers(call: CallInfo, cls: ClassInfo, facts: ModuleFacts) -> list[LayerUse]:
    """What one call in forward() applies to the activations flowing through it."""
    qualname = call.qualname
    if qualname in vocab.SATURATING_FUNCTIONS:
        return [LayerUse("saturating", _short(qualname), call.node)]
    if qualname in vocab.NORM_FUNCTIONS:
        return [LayerUse("norm", _short(qualname), call.node)]
    if qualname is None and call.method in vocab.SATURATING_METHODS and not call.node.args:
        return [LayerUse("saturating", f"{call.receiver or 'Tensor'}.{call.method}()", call.node)]
    if call.receiver == "self" and call.method is not None:
        value = cls.attrs.get(call.method)
        if isinstance(value, cst.Call):
            attr_qualname = cls.scope.qualify(value.func)
            if attr_qualname == f"{vocab.NN}.Sequential":
                fn = cls.methods.get("__init__") or facts.top
                return list(_sequential_layers(value, fn.scope, facts, fn))
            if attr_qualname in (f"{vocab.NN}.ModuleList", f"{vocab.NN}.ModuleDict"):
                return []
            return [classify_module(attr_qualname, f"self.{call.method}", call.node, facts)]
    return []


Run = tuple[LayerUse, ...]


class _ForwardFlow:
    """Follows activations through one forward() body: which saturating layers feed which.

    Each variable carries the run of saturating activations its value has passed through since the
    last reset. A layer call extends the longest run among its inputs; `a * b` and `a + b` keep the
    shortest (the gradient takes the best path: a residual or a gate bypasses the activation).
    Only forward() bodies with two or more saturating activations get here, so the walk is rare.
    """

    def __init__(self, forward: FunctionInfo, cls: ClassInfo, facts: ModuleFacts, applied=None):
        self.forward, self.cls, self.facts = forward, cls, facts
        self.applied = applied or _applied_layers  # what one call applies (the Keras front-end passes its own)
        self.calls = {id(call.node): call for call in forward.calls}
        self.init = cls.methods.get("__init__") or facts.top
        self.env: dict[str, Run] = {}
        self.modules: dict[str, cst.BaseExpression] = {}  # loop variable → the ModuleList element it holds
        self.longest: dict[int, Run] = {}  # id of a run's first layer → the longest run from it

    def runs(self) -> tuple[Run, ...]:
        body = self.forward.node.body
        if isinstance(body, cst.IndentedBlock):
            self.statements(body.body)
        return tuple(self.longest.values())

    # -- statements -----------------------------------------------------------------------------
    def statements(self, statements) -> None:
        for statement in statements:
            if isinstance(statement, cst.BaseSmallStatement):
                self.small(statement)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.small(small)
            elif isinstance(statement, cst.For):
                self.loop(statement)
            elif isinstance(statement, cst.If):
                self.branches(statement)
            elif isinstance(statement, (cst.While, cst.With, cst.Try)):
                self.statements(_body(statement.body))

    def small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Assign):
            run = self.value(node.value)
            for target in node.targets:
                self.bind(target.target, run)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self.bind(node.target, self.value(node.value))
        elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            old = self.env.get(node.target.value, ())
            self.env[node.target.value] = min(old, self.value(node.value), key=len)
        elif isinstance(node, (cst.Return, cst.Expr)) and node.value is not None:
            self.value(node.value)

    def bind(self, target: cst.BaseExpression, run: Run) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = run
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind(element.value, run)

    def loop(self, node: cst.For) -> None:
        items: list[cst.BaseExpression] = []
        if isinstance(node.iter, cst.Attribute) and dotted(node.iter.value) == "self":
            items = _module_list_items(self.cls, node.iter.attr.value, self.facts)
        count = loop_count(Block("for", node), self.forward.scope, self.facts, self.cls)
        for i in range(count):
            if items and isinstance(node.target, cst.Name):
                self.modules[node.target.value] = items[i % len(items)]
            self.statements(_body(node.body))
        if isinstance(node.target, cst.Name):
            self.modules.pop(node.target.value, None)

    def branches(self, node: cst.If) -> None:
        before = dict(self.env)
        self.statements(_body(node.body))
        taken = self.env
        self.env = dict(before)
        if isinstance(node.orelse, cst.If):
            self.branches(node.orelse)
        elif node.orelse is not None:
            self.statements(_body(node.orelse.body))
        # After the if, a variable carries the shorter of the two runs (precision first).
        for name in set(taken) | set(self.env):
            self.env[name] = min(taken.get(name, ()), self.env.get(name, ()), key=len)

    # -- expressions ----------------------------------------------------------------------------
    def value(self, expr: cst.BaseExpression) -> Run:
        if isinstance(expr, cst.Name):
            return self.env.get(expr.value, ())
        if isinstance(expr, cst.Call):
            return self.call(expr)
        if isinstance(expr, cst.BinaryOperation):
            sides = [self.value(side) for side in (expr.left, expr.right) if not _is_constant(side)]
            return min(sides, key=len) if sides else ()
        if isinstance(expr, cst.UnaryOperation):
            return self.value(expr.expression)
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            return self.value(expr.value)
        if isinstance(expr, (cst.Tuple, cst.List)):
            return max((self.value(e.value) for e in expr.elements), key=len, default=())
        if isinstance(expr, cst.IfExp):
            return min(self.value(expr.body), self.value(expr.orelse), key=len)
        return ()

    def call(self, node: cst.Call) -> Run:
        inputs = [self.value(arg.value) for arg in node.args]
        func = node.func
        if isinstance(func, cst.Attribute) and dotted(func.value) != "self":
            inputs.append(self.value(func.value))  # x.sigmoid(), x.view(...): the receiver flows through
        run = max(inputs, key=len, default=())
        info = self.calls.get(id(node))
        if isinstance(func, cst.Name) and func.value in self.modules:
            layers = list(_layer_from_expr(self.modules[func.value], self.init.scope, self.facts, self.init, None))
        elif info is not None:
            layers = self.applied(info, self.cls, self.facts)
        else:
            layers = []
        for layer in layers:
            if layer.kind == "saturating":
                run = (*run, layer)
                first = id(run[0])
                if len(run) > len(self.longest.get(first, ())):
                    self.longest[first] = run
            elif layer.kind in RESETTING_KINDS:
                run = ()
        return run


def _body(block) -> list:
    """The statements of an indented block, or the small statements of `if x: y = 1`."""
    return list(block.body) if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []


def _is_constant(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation):
        expr = expr.expression
    return isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary))
