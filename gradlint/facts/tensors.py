"""Where a tensor came from: the value flow behind an expression, as far as a reader can follow it.

`source_of(expr, scope, facts)` answers "what produced this value?" for the questions GL401-GL403
ask: a probability (softmax/sigmoid), a log-probability, or a non-negative quantity that can be
exactly zero (relu, a norm, a variance, a sum of squares). It follows what a reader follows:
direct calls in every spelling (`F.softmax(x, 1)`, `x.softmax(-1)`, `nn.Softmax` modules, a model
whose forward() ends in a sigmoid), names bound once in the same function, indexing and dtype or
shape conversions that keep the property. Anything else — an `+ eps`, a clamp, a rebound name —
ends the trail, so a guarded expression is never traced (precision first).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst
from libcst._nodes.internal import CodegenState

from gradlint.facts import vocab
from gradlint.facts import vocab_keras as K
from gradlint.facts.names import Scope, dotted

if TYPE_CHECKING:
    from gradlint.facts.model import ClassInfo, FunctionInfo, ModuleFacts

_MAX_DEPTH = 8

# Tensor methods that keep what a value is (a probability stays a probability).
_PASSTHROUGH_METHODS = {
    "float", "double", "half", "bfloat16", "to", "type", "type_as", "contiguous", "view", "view_as", "reshape",
    "reshape_as", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "clone", "gather", "expand",
    "expand_as", "resize", "resize_as",
}
# Methods that are only ever the tensor spelling when called with a dim (or nothing).
_METHOD_KINDS = {"softmax": "softmax", "log_softmax": "log_softmax"}
_NO_ARG_METHOD_KINDS = {"sigmoid": "sigmoid", "relu": "relu", "abs": "abs", "square": "square"}

# Every framework's spelling of each producer (PyTorch's vocab, then TensorFlow/Keras's).
SOFTMAX = vocab.SOFTMAX_FUNCTIONS | K.SOFTMAX_FUNCTIONS
LOG_SOFTMAX = vocab.LOG_SOFTMAX_FUNCTIONS | K.LOG_SOFTMAX_FUNCTIONS
SIGMOID = vocab.SIGMOID_FUNCTIONS | K.SIGMOID_FUNCTIONS
_RELU = vocab.RELU_FUNCTIONS | K.RELU_FUNCTIONS
_ABS = vocab.ABS_FUNCTIONS | K.ABS_FUNCTIONS
_SQUARE = vocab.SQUARE_FUNCTIONS | K.SQUARE_FUNCTIONS
NORMS = vocab.TENSOR_NORM_FUNCTIONS | K.NORM_FUNCTIONS
_VARIANCE = {**vocab.VARIANCE_FUNCTIONS, **K.VARIANCE_FUNCTIONS}
_SUM = vocab.SUM_FUNCTIONS | K.SUM_FUNCTIONS


@dataclass(frozen=True)
class Source:
    """What produced a value: `kind` as the rules name it, `label` as a reader would write it."""

    kind: str  # softmax | log_softmax | sigmoid | relu | abs | square | sum_of_squares | norm | variance | std
    label: str  # the code that produced it: "F.softmax(x, dim=1)", "model(x) → nn.Sigmoid()"
    node: cst.CSTNode  # the producing call (or expression)
    operand: cst.BaseExpression | None = None  # its input: the logits of a softmax
    via: str | None = None  # the variable the value travelled through ("probs")
    ref: str | None = None  # kind "project": the output of this project class (`models.Net`), judged across files
    # kind "tuple" (`return realfake, classes`): what each element is (None: not known)
    elements: tuple["Source | None", ...] = ()


def source_of(expr: cst.BaseExpression | None, scope: Scope, facts: "ModuleFacts", depth: int = 0) -> Source | None:
    if expr is None or depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Name):
        bound = _bound(scope, expr.value, facts, expr)
        if isinstance(bound, cst.Ellipsis):
            bound = _iterated(scope, expr.value)  # `for out in probs:` rows of a probability tensor
        if bound is None or isinstance(bound, cst.Ellipsis):
            found = _unpacked(scope, expr.value, facts, depth)  # `realfake, classes = netD(x)`
            if found is None:
                found = _normalized_in_place(scope, expr.value, facts, depth)  # `p /= p.sum()` over exp(…)
            return replace(found, via=expr.value) if found is not None else None
        found = source_of(bound, scope, facts, depth + 1)
        if found is not None and found.via is None:
            return replace(found, via=expr.value)
        return found
    if isinstance(expr, cst.Subscript):
        found = source_of(expr.value, scope, facts, depth + 1)  # probs[:, 1] is still a probability
        if found is not None and found.kind in ("tuple", "project"):
            index = _integer_index(expr, scope, facts)  # outputs[1] of a model returning a tuple
            return _element(found, index) if index is not None else None
        return found
    if isinstance(expr, cst.Tuple) and depth <= _MAX_DEPTH:
        elements = tuple(None if isinstance(e, cst.StarredElement) else source_of(e.value, scope, facts, depth + 1)
                         for e in expr.elements)
        if not any(elements) or any(isinstance(e, cst.StarredElement) for e in expr.elements):
            return None
        return Source("tuple", code_of(facts, expr), expr, elements=elements)
    if isinstance(expr, cst.BinaryOperation):
        return _binary(expr, scope, facts, depth)
    if isinstance(expr, cst.Call):
        return _call(expr, scope, facts, depth)
    return None


def _unpacked(scope: Scope, name: str, facts: "ModuleFacts", depth: int) -> Source | None:
    """A name bound only by unpacking a call's value (`realfake, classes = netD(x)`, again for each batch with
    the same callee and position): that element of what the call returns, when it returns a tuple (or, kind
    "project", what another file's class returns at that index)."""
    owner = _binding_scope(scope, name)
    if owner is None:
        return None
    unpacked = owner.unpacked.get(name, ())
    if not unpacked or len(unpacked) != len(owner.assigns[name]):
        return None
    value, index = unpacked[0]
    if not isinstance(value, cst.Call) or any(
            i != index or not isinstance(v, cst.Call) or not _same(v.func, value.func) for v, i in unpacked[1:]):
        return None
    found = source_of(value, owner, facts, depth + 1)
    return _element(found, index) if found is not None else None


def _element(found: Source, index: int) -> Source | None:
    """Element `index` of a tuple-valued source; for another file's class, a ref the project index reads."""
    if found.kind == "tuple":
        inner = found.elements[index] if 0 <= index < len(found.elements) else None
        return replace(inner, label=f"{found.label} → [{index}] {inner.label}") if inner is not None else None
    if found.kind == "project" and found.ref and "@" not in found.ref and index >= 0:
        return replace(found, ref="|".join(f"{ref}@{index}" for ref in found.ref.split("|")))
    return None


def _integer_index(expr: cst.Subscript, scope: Scope, facts: "ModuleFacts") -> int | None:
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return None
    value = facts.resolve(expr.slice[0].slice.value, scope)
    number = value.value if value is not None else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _bound(scope: Scope, name: str, facts: "ModuleFacts | None" = None,
           use: cst.CSTNode | None = None) -> cst.BaseExpression | None:
    """The value a name is bound to: its single binding, or one of several calls of one callee, which
    produce the same kind of value (`output = model(x)` in the training loop, `output = model(x.cuda())`
    in the evaluation loop): the last one written before `use` (a notebook's later cell rebinds it), else
    the first."""
    bound = scope.binding(name)
    if bound is None and name not in scope.params:
        owner = _binding_scope(scope, name)
        values = owner.assigns[name] if owner is not None else ()
        if len(values) > 1 and all(isinstance(v, cst.Call) for v in values) \
                and all(_same(values[0].func, v.func) for v in values[1:]):
            if facts is not None and use is not None:
                before = [v for v in values if facts.line(v) <= facts.line(use)]
                return before[-1] if before else values[0]
            return values[0]
    return bound


def _iterated(scope: Scope, name: str) -> cst.BaseExpression | None:
    """The tensor a name iterates over when a single `for name in tensor:` is its only binding (a loop over
    a tensor yields its rows: the rows of a softmax are probabilities); a name, not range()/enumerate()."""
    values = scope.assigns.get(name, ())
    iterated = scope.iterated.get(name, ())
    if len(values) != 1 or len(iterated) != 1 or not isinstance(iterated[0], cst.Name):
        return None
    return iterated[0]


def _binding_scope(scope: Scope, name: str) -> Scope | None:
    """The nearest enclosing scope that binds `name` by assignment, or None (unbound, or a parameter there)."""
    owner = next((s for s in _enclosing(scope) if name in s.assigns or name in s.params), None)
    return owner if owner is not None and name not in owner.params else None


def _enclosing(scope: Scope):
    while scope is not None:
        yield scope
        scope = scope.parent
        while scope is not None and scope.kind == "class":
            scope = scope.parent


def _binary(expr: cst.BinaryOperation, scope: Scope, facts: "ModuleFacts", depth: int) -> Source | None:
    if isinstance(expr.operator, cst.Power):
        exponent = facts.resolve(expr.right, scope)
        if exponent is not None and exponent.value == 2:
            return Source("square", "** 2", expr, expr.left)
    if isinstance(expr.operator, cst.Multiply) and _same(expr.left, expr.right):
        return Source("square", "x * x", expr, expr.left)
    if isinstance(expr.operator, cst.Divide) and _sum_of(expr.right, expr.left, scope):
        exp = _exp_call(expr.left, scope, depth)  # exp(x) / exp(x).sum(dim, keepdim=True)
        if exp is not None:
            return Source("softmax", f"{code_of(facts, expr)}, a softmax by hand", expr, _exp_operand(exp, scope))
    return None


# -- softmax written by hand ------------------------------------------------------------------------
_ZEROS = ("torch.zeros", "torch.zeros_like")


def _sum_of(total: cst.BaseExpression, of: cst.BaseExpression, scope: Scope) -> bool:
    """`of.sum(…)` / `torch.sum(of, …)`: the sum of that very value (the denominator of a normalisation)."""
    if not isinstance(total, cst.Call):
        return False
    func = total.func
    if isinstance(func, cst.Attribute) and func.attr.value == "sum" and scope.qualify(func) is None:
        return _same(func.value, of)
    if scope.qualify(func) in _SUM and total.args and total.args[0].keyword is None:
        return _same(total.args[0].value, of)
    return False


def _exp_call(expr: cst.BaseExpression, scope: Scope, depth: int) -> cst.Call | None:
    """The `torch.exp(z)` / `z.exp()` a value is: directly, through a name bound once, or shape and device
    conversions of one (`.view(…)`, `.to(device)`)."""
    while expr is not None and depth <= _MAX_DEPTH:
        depth += 1
        if isinstance(expr, cst.Name):
            expr = scope.binding(expr.value)
            continue
        if not isinstance(expr, cst.Call):
            return None
        if scope.qualify(expr.func) in _EXP:
            return expr
        func = expr.func
        if not isinstance(func, cst.Attribute) or scope.qualify(func) is not None:
            return None
        if func.attr.value == "exp" and not expr.args:
            return expr
        if func.attr.value not in _PASSTHROUGH_METHODS:
            return None
        expr = func.value
    return None


def _exp_operand(exp: cst.Call, scope: Scope) -> cst.BaseExpression | None:
    if scope.qualify(exp.func) in _EXP:
        return exp.args[0].value if exp.args else None
    return exp.func.value if isinstance(exp.func, cst.Attribute) else None


def _normalized_in_place(scope: Scope, name: str, facts: "ModuleFacts", depth: int) -> Source | None:
    """A name whose only rebinding is `name /= name.sum()` (or `torch.sum(name)`) and whose values are exp(…):
    bound to one (`p = torch.exp(x)`), or to zeros filled item by item with exp(…) (`p[i] = torch.exp(m)`).
    A tensor of exponentials divided by its own sum is a softmax written by hand."""
    owner = _binding_scope(scope, name)
    if owner is None:
        return None
    values, augmented = owner.assigns[name], owner.augmented.get(name, ())
    if len(values) != 2 or len(augmented) != 1 or isinstance(values[0], cst.Ellipsis) \
            or not isinstance(values[1], cst.Ellipsis):
        return None
    operator, total = augmented[0]
    if not isinstance(operator, cst.DivideAssign) or not _sum_of(total, cst.Name(name), owner):
        return None
    exp = _exp_call(values[0], owner, depth)
    if exp is None:
        stores, zeros = owner.stores.get(name, ()), unmoved(values[0])  # torch.zeros(n).to(device)
        if not stores or not isinstance(zeros, cst.Call) or owner.qualify(zeros.func) not in _ZEROS:
            return None
        exps = [_exp_call(value, owner, depth) for value in stores]
        if any(e is None for e in exps):
            return None
        exp = exps[0]
    return Source("softmax", f"{code_of(facts, exp, 32)} / its sum, a softmax by hand", total, _exp_operand(exp, owner))


def _call(node: cst.Call, scope: Scope, facts: "ModuleFacts", depth: int) -> Source | None:
    qualname = scope.qualify(node.func)
    first = node.args[0].value if node.args and node.args[0].keyword is None else _kw(node, "input")
    if qualname is not None:
        return _functional(qualname, node, first, scope, facts, depth)
    func = node.func
    if isinstance(func, cst.Call):  # Keras's functional API: Dense(10, activation="softmax")(x)
        found = _constructed_output(func, scope, facts, depth)
        return Source(found.kind, code_of(facts, func), func, first) if found is not None else None
    if isinstance(func, cst.Attribute):
        found = _method(func.attr.value, func.value, node, scope, facts, depth)
        if found is not None:
            return found
    helper = _helper_called(func, scope, facts)
    if helper is not None:
        found = _function_output(helper, facts, depth)
        return replace(found, label=f"{code_of(facts, node, 32)} → {found.label}", node=node, via=None) if found else None
    return _module_output(node, scope, facts, depth)


def _helper_called(func: cst.BaseExpression, scope: Scope, facts: "ModuleFacts") -> "FunctionInfo | None":
    """The file's own function a call runs: `probs(logits)` (a module-level def), `self.head_probs(x)`
    (a method of the caller's class other than forward). Imported functions are not followed."""
    if isinstance(func, cst.Name) and isinstance(scope.binding(func.value), cst.Ellipsis) and scope.qualify(func) is None:
        return next((f for f in facts.functions if f.name == func.value and f.class_name is None
                     and f.scope.parent is facts.scope), None)
    if isinstance(func, cst.Attribute) and dotted(func.value) == "self" and func.attr.value != "forward":
        cls = class_of(scope, facts)
        return cls.methods.get(func.attr.value) if cls is not None else None
    return None


_FUNCTION_KINDS = ((SOFTMAX, "softmax"), (LOG_SOFTMAX, "log_softmax"), (SIGMOID, "sigmoid"), (_RELU, "relu"),
                   (_ABS, "abs"), (_SQUARE, "square"))
_POWERS = ("torch.pow", "tensorflow.pow", "keras.ops.power")


def _functional(qualname, node, first, scope, facts, depth) -> Source | None:
    """What a function call produces; its label is written only for a call that matters."""
    kind = next((k for names, k in _FUNCTION_KINDS if qualname in names), None)
    if kind is None and qualname in _POWERS and len(node.args) >= 2:
        exponent = facts.resolve(node.args[1].value, scope)
        if exponent is not None and exponent.value == 2:
            kind = "square"
    if kind is None and qualname in NORMS:
        kind = "norm"
    if kind is None and qualname in _VARIANCE:
        kind = "std" if qualname.endswith("std") else "variance"
    if kind is not None:
        return Source(kind, code_of(facts, node), node, first)
    if qualname in _EXP:
        return _exp_of(first, node, scope, facts, depth)
    if qualname in _SUM:
        inner = source_of(first, scope, facts, depth + 1)
        if inner is not None and inner.kind == "square":
            return Source("sum_of_squares", code_of(facts, node), node, inner.operand)
    return None


def _method(name, receiver, node, scope, facts, depth) -> Source | None:
    label = code_of(facts, node)
    if name in _METHOD_KINDS and _dim_only(node, scope, facts):
        return Source(_METHOD_KINDS[name], label, node, receiver)
    if name in _NO_ARG_METHOD_KINDS and not node.args:
        return Source(_NO_ARG_METHOD_KINDS[name], label, node, receiver)
    if name == "pow" and len(node.args) == 1:
        exponent = facts.resolve(node.args[0].value, scope)
        if exponent is not None and exponent.value == 2:
            return Source("square", label, node, receiver)
    if name == "norm" and _dim_only(node, scope, facts, allow=("p", "dim", "keepdim", "dtype")):
        return Source("norm", label, node, receiver)
    if name in vocab.VARIANCE_METHODS and _dim_only(node, scope, facts, allow=("dim", "keepdim", "unbiased", "correction")):
        return Source("std" if name == "std" else "variance", label, node, receiver)
    if name in ("sum", "mean"):
        inner = source_of(receiver, scope, facts, depth + 1)
        if inner is not None and inner.kind == "square":
            return Source("sum_of_squares", label, node, inner.operand)
        return None
    if name == "exp" and not node.args:
        return _exp_of(receiver, node, scope, facts, depth)
    if name in _PASSTHROUGH_METHODS:
        return source_of(receiver, scope, facts, depth + 1)
    return None


_EXP = ("torch.exp", "tensorflow.exp", "tensorflow.math.exp")
_EXP_OF_LOG = {"log_softmax": "softmax", "logsigmoid": "sigmoid"}


def _exp_of(operand, node, scope, facts, depth) -> Source | None:
    """`torch.exp(log_softmax(x))` is a softmax written by hand (and exp(logsigmoid(x)) a sigmoid)."""
    inner = source_of(operand, scope, facts, depth + 1) if operand is not None else None
    if inner is None or inner.kind not in _EXP_OF_LOG:
        return None
    return Source(_EXP_OF_LOG[inner.kind], code_of(facts, node), node, inner.operand)


def _dim_only(node: cst.Call, scope: Scope, facts, allow=("dim", "dtype")) -> bool:
    """`x.softmax(-1)` / `x.softmax(dim=1)`: a tensor method, not `self.softmax(x)` (a module)."""
    for arg in node.args:
        if arg.star:
            return False
        if arg.keyword is not None:
            if arg.keyword.value not in allow:
                return False
            continue
        value = facts.resolve(arg.value, scope)
        if value is None or not isinstance(value.value, (int, float)) or isinstance(value.value, bool):
            if not isinstance(arg.value, cst.Tuple):
                return False
    return True


def _kw(node: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


# -- modules and models -----------------------------------------------------------------------------
def _module_output(node: cst.Call, scope: Scope, facts: "ModuleFacts", depth: int) -> Source | None:
    """`sm(x)` with `sm = nn.Softmax(1)`, `self.act(x)`, `model(x)`, `self(x)`: what the module returns."""
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "forward":
        func = func.value  # model.forward(x) is model(x)
    text = dotted(func)
    if text is None:
        return None
    found = model_output(text, scope, facts, depth)
    if found is None:
        return None
    return replace(found, label=f"{code_of(facts, node, 32)} → {found.label}", node=node, via=None)


def model_output(text: str, scope: Scope, facts: "ModuleFacts", depth: int = 0) -> Source | None:
    """What the module or model a name holds outputs: `model` bound to keras.Sequential([..., Dense(10,
    activation="softmax")]), `self.head` bound to nn.Sigmoid(), `self` (the class's own forward/call)."""
    cls = class_of(scope, facts)
    if text == "self":
        return _forward_output(cls, facts, depth) if cls is not None else None
    if text.startswith("self.") and text.count(".") == 1:
        if cls is None:
            return None
        construction, where = cls.attrs.get(text[5:]), cls.scope
    elif "." not in text:
        construction, where = _bound(scope, text), scope
        if construction is None and text in scope.params:
            return _parameter_output(text, scope, facts, depth)
        if construction is None:
            return _alternatives_output(text, scope, facts, depth)
    elif text.count(".") == 1 and cls is not None and text.partition(".")[0] in scope.params:
        construction, where = cls.param_attrs.get(text, (None, None))  # set by another method on the same parameter
    else:
        return None
    if not isinstance(construction, cst.Call):
        return None
    return _constructed_output(construction, where, facts, depth)


def _alternatives_output(name: str, scope: Scope, facts: "ModuleFacts", depth: int) -> Source | None:
    """A model name bound to one of several constructions (`if opt.dataset == "imagenet": netD = _netD(…)`
    `else: netD = _netD_CIFAR10(…)`): what they output when every one of them agrees. Other files' classes
    are all named in one ref (`network._netD|network._netD_CIFAR10`), which the project index proves only if
    each of them outputs the same kind."""
    owner = _binding_scope(scope, name)
    values = owner.assigns[name] if owner is not None else ()
    if not 1 < len(values) <= 4 or not all(isinstance(v, cst.Call) for v in values) or depth > _MAX_DEPTH:
        return None
    outputs = [_constructed_output(v, owner, facts, depth + 1) for v in values]
    if any(o is None for o in outputs) or len({o.kind for o in outputs}) != 1:
        return None
    first = outputs[0]
    label = " or ".join(code_of(facts, v, 32) for v in values)
    if first.kind == "project":
        refs = [o.ref for o in outputs]
        if any(r is None or "|" in r for r in refs):
            return None
        return replace(first, label=label, ref="|".join(dict.fromkeys(refs)))
    if first.kind == "tuple":
        return None  # element by element agreement is not judged here
    return replace(first, label=f"{label}, each → {first.label}")


def module_output(expr: cst.BaseExpression, scope: Scope, facts: "ModuleFacts") -> Source | None:
    """What a module outputs, given as its class (`Net`, as skorch takes it) or as an instance (`Net()`)."""
    if isinstance(expr, cst.Name) and expr.value in facts.classes:
        return _forward_output(facts.classes[expr.value], facts, 0)
    if isinstance(expr, cst.Call):
        return _constructed_output(expr, scope, facts, 0)
    text = dotted(expr)
    return model_output(text, scope, facts) if text else None


def model_class(expr: cst.BaseExpression, scope: Scope, facts: "ModuleFacts") -> str | None:
    """The class a model value is built from (`Net()`, `m` bound to `models.Net().to(device)`), when it is the
    file's own class (its name) or an imported one that may be the project's (its qualified name)."""
    if isinstance(expr, cst.Name):
        expr = _bound(scope, expr.value)
    expr = unmoved(expr)
    if not isinstance(expr, cst.Call):
        return None
    func = expr.func
    if isinstance(func, cst.Name) and func.value in facts.classes and scope.qualify(func) is None:
        return func.value
    qualname = scope.qualify(func)
    return qualname if qualname is not None and _project_class(qualname) else None


def unmoved(expr, moves=None):
    """The construction under `.to(device)`/`.cuda()`/… calls: `nn.Sequential(...).to(device)` is that Sequential."""
    moves = _MOVES if moves is None else moves
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in moves \
            and isinstance(expr.func.value, cst.Call):
        expr = expr.func.value
    return expr


def _parameter_output(name: str, scope: Scope, facts: "ModuleFacts", depth: int) -> Source | None:
    """A model passed in as a parameter: what every call site's model outputs, when they all agree; for a
    module-level def the file never calls, what the run's other files pass decides (kind "param")."""
    from gradlint.facts.flow import argument_values

    passed = argument_values(scope, name, facts) if depth < _MAX_DEPTH else None
    if not passed:
        return _imported_parameter(name, scope, facts)
    outputs = []
    for value, caller in passed:
        text = dotted(value)
        if isinstance(value, cst.Call):  # train(Net().to(device), …)
            found = _constructed_output(value, caller, facts, depth + 1)
        else:
            found = model_output(text, caller, facts, depth + 1) if text else None
        if found is None:
            return None
        outputs.append(found)
    if len({(o.kind, o.ref) for o in outputs}) != 1:
        return None
    fn = facts.module_functions.get(id(scope.function()))
    call = f"{fn.name}({name}=…)" if fn is not None else name
    return replace(outputs[0], label=f"{call} in line {facts.line(passed[0][0])} → {outputs[0].label}")


def _imported_parameter(name: str, scope: Scope, facts: "ModuleFacts") -> Source | None:
    fn = facts.module_functions.get(id(scope.function())) if scope.function() is scope else None
    if fn is None or not isinstance(fn.node, cst.FunctionDef) or facts.calls_by_name.get(fn.name):
        return None  # not a module-level def, or one the file calls itself (argument_values decided)
    from gradlint.facts.flow import positional_names

    positional = positional_names(fn.node)
    position = positional.index(name) if name in positional else -1
    return Source("param", f"{fn.name}({name}=…)", fn.node, ref=f"{fn.name}:{position}:{name}")


_MOVES = frozenset({"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "requires_grad_"})


def _constructed_output(construction: cst.Call, scope: Scope, facts, depth) -> Source | None:
    construction = unmoved(construction)  # `nn.Sequential(...).to(device)`: the same module
    qualname = scope.qualify(construction.func)
    if qualname in vocab.SOFTMAX_MODULES:
        return Source("softmax", code_of(facts, construction), construction)
    if qualname in vocab.SIGMOID_MODULES:
        return Source("sigmoid", code_of(facts, construction), construction)
    if qualname in vocab.LOG_SOFTMAX_MODULES:
        return Source("log_softmax", code_of(facts, construction), construction)
    if qualname in vocab.LOG_SIGMOID_MODULES:
        return Source("logsigmoid", code_of(facts, construction), construction)
    if qualname == f"{vocab.NN}.Sequential":
        layers = [a.value for a in construction.args if a.keyword is None and not a.star]
        if not layers:
            layers = _added_modules(construction, facts)
        if layers and isinstance(layers[-1], cst.Call):
            return _constructed_output(layers[-1], scope, facts, depth + 1)
        return None
    if isinstance(construction.func, cst.Name) and qualname is None:
        cls = facts.classes.get(construction.func.value)
        if cls is not None:
            return _forward_output(cls, facts, depth + 1)
        builder = _helper_called(construction.func, scope, facts)
        if builder is not None:  # model = build_model(…): the module the file's own function returns
            return _returned_module(builder, facts, depth + 1)
    if qualname is not None and qualname.startswith("keras."):
        from gradlint.facts.keras import keras_output

        return keras_output(construction, qualname, scope, facts, depth)
    if qualname is not None and _project_class(qualname):
        return Source("project", code_of(facts, construction), construction, ref=qualname)
    return None


# Imported names under these prefixes are libraries, never a class or function of the project.
LIBRARIES = ("torch.", "torchvision.", "transformers.", "numpy.", "tensorflow.", "keras.", "timm.", "jax.", "flax.",
             "os.", "sys.", "logging.", "json.", "math.", "random.", "time.", "argparse.", "pandas.", "sklearn.")


def _project_class(qualname: str) -> bool:
    """An imported class that may be the project's own (`models.Net`, `network._netD`: a capital letter
    somewhere in the name); the project index decides."""
    return not qualname.startswith(LIBRARIES) and any(c.isupper() for c in qualname.rpartition(".")[2])


def _added_modules(construction: cst.Call, facts: "ModuleFacts") -> list[cst.BaseExpression]:
    """The modules `model.add_module("name", m)` appends to an empty `nn.Sequential()`, in call order
    (`model` bound once to it, or `self.fc` set to it in the class)."""
    added = []
    for call in facts.calls_by_method.get("add_module", ()):
        if call.receiver is None or len(call.node.args) < 2:
            continue
        if call.receiver.startswith("self.") and call.receiver.count(".") == 1:
            cls = class_of(call.scope, facts)
            bound = cls.attrs.get(call.receiver[5:]) if cls is not None else None
        else:
            bound = call.scope.binding(call.receiver) if "." not in call.receiver else None
        if bound is construction:
            added.append(call.node.args[1].value)
    return added


def _returned_module(fn: "FunctionInfo", facts: "ModuleFacts", depth: int) -> Source | None:
    """What the module a function builds and returns outputs: `def build(): m = nn.Sequential(…); return m`."""
    statements, returned = _only_return(fn) if depth <= _MAX_DEPTH else ([], None)
    if isinstance(returned, cst.Name):
        returned = fn.scope.binding(returned.value)
    if not isinstance(returned, cst.Call):
        return None
    found = _constructed_output(returned, fn.scope, facts, depth + 1)
    return replace(found, label=f"{fn.name} returns {found.label}") if found is not None else None


def forward_output(cls: "ClassInfo", facts: "ModuleFacts") -> Source | None:
    """What a model class's forward() returns, as far as this file tells (kind "project": another
    file's class decides)."""
    return _forward_output(cls, facts, 0)


def _forward_output(cls: "ClassInfo", facts: "ModuleFacts", depth: int) -> Source | None:
    """What forward() (a Keras model's call()) returns when its last statement is the only `return`."""
    forward = cls.methods.get("forward") or (cls.methods.get("call") if _is_keras_model(cls) else None)
    if forward is None:
        return _inherited_output(cls, facts, depth)
    found = _function_output(forward, facts, depth)
    if found is None:
        return None
    return replace(found, label=f"{cls.name}.{found.label}", via=None)


def _inherited_output(cls: "ClassInfo", facts: "ModuleFacts", depth: int) -> Source | None:
    """A class without its own forward() outputs what its one project base class outputs."""
    bases = [b for b in cls.bases if b in facts.classes or _project_class(b)]
    if len(bases) != 1 or depth > _MAX_DEPTH:
        return None
    base = facts.classes.get(bases[0])
    if base is not None:
        return _forward_output(base, facts, depth + 1) if base is not cls else None
    return Source("project", bases[0], cls.node, ref=bases[0])


def _function_output(forward: "FunctionInfo", facts: "ModuleFacts", depth: int) -> Source | None:
    """What a function returns when its last statement is its only `return` (labelled `name returns ...`)."""
    statements, returned = _only_return(forward) if depth <= _MAX_DEPTH else ([], None)
    if returned is None:
        return None
    if isinstance(returned, cst.Name) and forward.scope.binding(returned.value) is None and len(statements) > 1:
        returned = _assigned_to(statements[-2], returned.value)  # `x = torch.sigmoid(x)` then `return x`
    found = source_of(returned, forward.scope, facts, depth + 1)
    if found is None:
        return None
    return replace(found, label=f"{forward.name} returns {found.label}", via=None)


def _only_return(fn: "FunctionInfo") -> tuple[list, cst.BaseExpression | None]:
    """(the body's statements, the value of its last statement) when that `return` is the function's only one."""
    if not isinstance(fn.node, cst.FunctionDef):
        return [], None
    body = fn.node.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
    returned = _return_value(statements[-1]) if statements else None
    if returned is None or any(_returns_inside(s) for s in statements[:-1]):
        return statements, None
    return statements, returned


def _is_keras_model(cls: "ClassInfo") -> bool:
    return any(base in K.MODEL_BASES for base in cls.bases)


def _return_value(statement: cst.CSTNode) -> cst.BaseExpression | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Return):
            return small.value
    return None


def _assigned_to(statement: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name) and target.value == name:
                return small.value
    return None


def _returns_inside(node: cst.CSTNode) -> bool:
    """A `return` inside a compound statement (statements only: expressions cannot hold one)."""
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return False
    if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return any(isinstance(s, cst.Return) for s in node.body)
    return any(_returns_inside(child) for child in node.children if isinstance(child, _STATEMENT_PARTS))


_STATEMENT_PARTS = (cst.BaseSuite, cst.BaseStatement, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)


class _Enough(Exception):
    pass


class _BoundedState(CodegenState):
    """Code generation that stops once it has produced enough text for a message."""

    def __init__(self, module: cst.Module, limit: int):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.limit, self.size = limit, 0

    def add_token(self, value: str) -> None:
        super().add_token(value)
        self.size += len(value)
        if self.size > self.limit:
            raise _Enough


def code_of(facts: "ModuleFacts", node: cst.CSTNode, limit: int = 48) -> str:
    """The source text of a node for a message, shortened when long (without writing out all of a huge node)."""
    state = _BoundedState(facts.module, 4 * limit)
    try:
        node._codegen(state)
    except _Enough:
        pass
    text = " ".join("".join(state.tokens).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def class_of(scope: Scope, facts: "ModuleFacts") -> "ClassInfo | None":
    """The class whose method a scope belongs to."""
    function = scope.function()
    parent = function.parent if function is not None else None
    if parent is not None and parent.kind == "class":
        return facts.classes.get(parent.name)
    return None


def function_of(scope: Scope, facts: "ModuleFacts") -> "FunctionInfo":
    function = scope.function()
    for fn in facts.functions:
        if fn.scope is function:
            return fn
    return facts.top


def _same(left: cst.BaseExpression, right: cst.BaseExpression) -> bool:
    return left.deep_equals(right) and isinstance(left, (cst.Name, cst.Attribute, cst.Subscript, cst.Call))


# -- divisions --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Division:
    node: cst.CSTNode  # `a / b` or `a /= b`
    numerator: cst.BaseExpression
    denominator: cst.BaseExpression


_DIVISOR_METHODS = {"norm", "std"}
_DIVISOR_FUNCTIONS = NORMS | set(_VARIANCE)


def divisions(fn: "FunctionInfo") -> tuple[list[Division], frozenset[str]]:
    """The divisions in one function's own body, and every name a comparison in it mentions.

    Both are recorded by the facts pass; a name compared anywhere in the function (`if n > 0`,
    `n[n == 0] = 1`, `torch.where(n > 0, …)`) counts as guarded.
    """
    if not any(c.method in _DIVISOR_METHODS or c.qualname in _DIVISOR_FUNCTIONS for c in fn.calls):
        return [], frozenset()
    return [Division(*d) for d in fn.divisions], frozenset(fn.compared)


