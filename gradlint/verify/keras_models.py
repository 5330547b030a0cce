"""Keras models a file defines, as ModelSpecs with a twin spec: no TensorFlow and no user code.

- `keras.Sequential([...])` (a list literal, or a name bound to one) and the `model.add(...)` calls
  on it, `for _ in range(N)` loops unrolled when N is known.
- Functional chains: `x = keras.Input(shape=...)`, `x = Dense(...)(x)` ..., `keras.Model(inputs, outputs)`
  where each layer feeds the next (a branch, a merge or a tensor sum is not a chain: skipped, named).
- Subclassed `keras.Model`s are listed as skipped: their call() is arbitrary Python.
The input shape comes from `keras.Input`/`InputLayer`, `input_shape=`/`input_dim=` on the first layer or
`model.build(...)`, else [tool.gradlint.verify.models.NAME] input-shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.model import CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import Scope
from gradlint.verify import keras_layers as L
from gradlint.verify.discover import ModelSpec
from gradlint.verify.keras_calls import unrolled, while_bound
from gradlint.verify.keras_training import compile_call, training
from gradlint.verify.settings import VerifyConfig

INPUTS = {"keras.Input", "keras.layers.Input", "keras.layers.InputLayer"}
_SATURATING_OUTPUT = {"softmax", "sigmoid"}


@dataclass
class Stack:
    """The layers of one model, in order, or what keeps it from being translated."""

    layers: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    input_shape: list | None = None
    input_dtype: str | None = None

    def add(self, expr, scope: Scope, facts: ModuleFacts, depth: int = 0) -> None:
        if isinstance(expr, dict):  # a layer made up here (tf.nn.relu(x) in a functional chain)
            self.layers.append(expr)
            return
        if isinstance(expr, cst.Name) and not scope.qualify(expr):
            bound = scope.binding(expr.value)
            if isinstance(bound, cst.Call):
                expr = bound
        if not isinstance(expr, cst.Call):
            self.problems.append(f"`{cst.Module([]).code_for_node(expr)}` (not a layer construction)")
            return
        qualname = L.callee(expr, scope)
        if qualname in INPUTS:
            self._input(expr, scope, facts)
        elif qualname in K.SEQUENTIAL and depth < 4:
            for element in _elements(expr, scope) or ():
                self.add(element, scope, facts, depth + 1)
        else:
            found = L.translate(expr, scope, facts)
            self.notes.extend(n for n in found.notes if n not in self.notes)
            if found.problem is not None:
                self.problems.append(found.problem)
                return
            if found.input_shape is not None and self.input_shape is None and not self.layers:
                self.input_shape = found.input_shape
            self.layers.append(found.layer)

    def _input(self, call: cst.Call, scope: Scope, facts: ModuleFacts) -> None:
        if self.layers or self.input_shape is not None:
            return
        for arg in call.args:
            key = arg.keyword.value if arg.keyword is not None else ("shape" if arg is call.args[0] else None)
            if key in L.INPUT_KEYWORDS:
                value = L.static_value(arg.value, scope, facts)
                if key in ("batch_shape", "batch_input_shape") and isinstance(value, list):
                    value = value[1:]
                shape = L.shape_value(value)
                if L.is_unknown(shape):
                    self.problems.append(f"{L.label(call)} (the shape is not known statically)")
                    return
                self.input_shape = shape
            elif key == "dtype":
                self.input_dtype = L.static_value(arg.value, scope, facts)


def _elements(call: cst.Call, scope: Scope) -> list[cst.BaseExpression] | None:
    layers = next((a.value for a in call.args if a.keyword is None or a.keyword.value == "layers"), None)
    if isinstance(layers, cst.Name):
        layers = scope.binding(layers.value) or layers
    if layers is None:
        return []
    if isinstance(layers, (cst.List, cst.Tuple)):
        return [e.value for e in layers.elements]
    return None


def find_keras_models(facts: ModuleFacts, path: Path, display: str, config: VerifyConfig) -> list[ModelSpec]:
    specs: list[ModelSpec] = []
    functions = [facts.top, *facts.functions]
    nested = {id(e) for c in facts.all_calls if c.qualname in K.SEQUENTIAL for e in (_elements(c.node, c.scope) or ())}
    for fn in functions:
        for call in fn.calls:
            if call.qualname in K.SEQUENTIAL and id(call.node) not in nested:
                specs.append(_sequential(call, fn, facts, path, display))
            elif call.qualname == "keras.Model" and (call.argument("outputs", 1) is not None):
                specs.append(_functional(call, fn, facts, path, display))
    for cls in facts.classes.values():
        if "keras.Model" in cls.bases:
            specs.append(ModelSpec(display, cls.name, path, facts.scope.package, twin={},
                                   skipped="a subclassed keras.Model: verify builds PyTorch twins of Sequential "
                                           "and functional Keras models only"))
    _unique_names(specs, facts)
    for spec in specs:
        _needs_input(spec, config)
    return specs


def _name(call: CallInfo, fn: FunctionInfo) -> str:
    """A model built in a function is named after it (`build_model`), else after its variable."""
    if isinstance(fn.node, cst.FunctionDef):
        return fn.name
    return call.target if call.target and "." not in call.target else "model"


def _sequential(call: CallInfo, fn: FunctionInfo, facts: ModuleFacts, path: Path, display: str) -> ModelSpec:
    stack = Stack()
    elements = _elements(call.node, call.scope)
    if elements is None:
        stack.problems.append("Sequential(<a list built at run time>)")
    for element in elements or ():
        stack.add(element, call.scope, facts)
    if call.target:
        bound = while_bound(call, fn)
        adds = [c for c in bound if c.receiver == call.target and c.method == "add" and c.node.args]
        for add, repeat in unrolled(adds, 0, facts):
            if repeat is None:
                stack.problems.append(f"{call.target}.add(...) in a loop whose count is not known statically")
                break
            stack.add(add.node.args[0].value, add.scope, facts)
        builds = [c for c in bound if c.receiver == call.target and c.method == "build" and c.node.args]
        if builds and stack.input_shape is None:
            value = L.static_value(builds[0].node.args[0].value, builds[0].scope, facts)
            shape = L.shape_value(value[1:]) if isinstance(value, list) else None
            stack.input_shape = None if L.is_unknown(shape) else shape
    builder = fn.name if isinstance(fn.node, cst.FunctionDef) else None
    return _spec(stack, _name(call, fn), call, facts, path, display, builder, "keras.Sequential")


def _functional(model_call: CallInfo, fn: FunctionInfo, facts: ModuleFacts, path: Path, display: str) -> ModelSpec:
    """Follow `x = Layer(...)(x)` assignments up to `keras.Model(inputs, outputs)`: a chain or a problem."""
    flows: dict[str, tuple] = {}  # name → (input call, [(layer call, scope)], problem or None)
    upto = fn.calls.index(model_call)
    for call, repeat in unrolled(fn.calls[:upto], 0, facts):
        name = call.target if call.target and "." not in call.target else None
        if name is None:
            continue
        if repeat is None:
            flows[name] = (None, [], "layers applied in a loop whose count is not known statically")
        elif call.qualname in INPUTS:
            flows[name] = (call, [], None)
        elif isinstance(call.node.func, cst.Call) or L.activation_function(call.qualname):
            flows[name] = _apply(call.node, call.scope, flows)
        elif name in flows:
            flows[name] = (None, [], f"`{name} = {L.label(call.node)}` (not a layer)")
    stack = Stack()
    outputs, inputs = model_call.argument("outputs", 1), model_call.argument("inputs", 0)
    source, layers, problem = _flow(outputs, model_call.scope, flows)
    if problem is None and (source is None or not isinstance(inputs, cst.Name) or flows.get(inputs.value, (None,))[0]
                            is not source):
        problem = "the outputs do not come from the inputs along one chain of layers"
    rebound = [n for n in flows if any(not isinstance(v, cst.Call) for v in fn.scope.assigns.get(n, ()))]
    if problem is None and rebound:
        problem = f"`{rebound[0]}` is also assigned a computed tensor (a skip connection?)"
    if problem is not None:
        stack.problems.append(problem)
    else:
        stack.add(source.node, source.scope, facts)
        for layer, scope in layers:
            stack.add(layer, scope, facts)
    builder = fn.name if isinstance(fn.node, cst.FunctionDef) else None
    return _spec(stack, _name(model_call, fn), model_call, facts, path, display, builder, "functional keras.Model")


def _flow(expr, scope: Scope, flows: dict):
    if isinstance(expr, cst.Name):
        return flows.get(expr.value, (None, [], f"`{expr.value}` does not come from keras.Input"))
    if isinstance(expr, cst.Call):
        return _apply(expr, scope, flows)
    return None, [], "the model's outputs are not one tensor"


def _apply(node: cst.Call, scope: Scope, flows: dict):
    """The flow after `Layer(...)(x)` or `tf.nn.relu(x)`."""
    positional = [a for a in node.args if a.keyword is None]
    layer = node.func if isinstance(node.func, cst.Call) else None
    if len(positional) != 1 or isinstance(positional[0].value, (cst.List, cst.Tuple)) or positional[0].star:
        return None, [], f"{L.label(layer or node)} (not a one-input layer)"
    arg = positional[0].value
    if isinstance(arg, cst.Call) and scope.qualify(arg.func) in INPUTS:
        source, layers, problem = _Input(arg, scope), [], None
    else:
        source, layers, problem = _flow(arg, scope, flows)
    if problem is not None:
        return source, layers, problem
    if layer is None:  # tf.nn.relu(x): an activation layer of its own
        name = L.activation_function(scope.qualify(node.func))
        if name is None:
            return None, [], f"{L.label(node)} (not a layer)"
        made = {"kind": "Activation", "label": L.label(node), "args": {"activation": name}}
        return source, [*layers, (made, scope)], None
    return source, [*layers, (layer, scope)], None


@dataclass
class _Input:
    node: cst.Call
    scope: Scope


def _spec(stack: Stack, name: str, call: CallInfo, facts: ModuleFacts, path: Path, display: str,
          builder: str | None, what: str) -> ModelSpec:
    spec = ModelSpec(display, name, path, facts.scope.package)
    spec.notes.extend(stack.notes)
    if stack.problems:
        spec.twin = {}
        counted = {p: stack.problems.count(p) for p in stack.problems}  # in order, each once
        names = [p if n == 1 else f"{p} (x{n})" for p, n in counted.items()]
        spec.skipped = f"no PyTorch twin for {', '.join(names)}"
        return spec
    if not stack.layers:
        spec.twin = {}
        spec.skipped = f"{what} with no layers"
        return spec
    last = stack.layers[-1]
    activation = last["args"].get("activation") or ("softmax" if last["kind"] == "Softmax" else None)
    target = call.target if call.target and "." not in call.target else None
    plan = training(facts, *compile_call(facts, call, target, builder),
                    activation if activation in _SATURATING_OUTPUT else None)
    spec.optimizer, spec.lr, spec.optimizer_kwargs = plan.optimizer, plan.lr, plan.kwargs
    spec.optimizer_origin, spec.loss, spec.clip = plan.origin, plan.loss, plan.clip
    spec.notes.extend(plan.notes)
    integer = stack.input_dtype in ("int32", "int64", "int16", "int8", "uint8")
    spec.twin = {"framework": "keras", "what": what, "layers": stack.layers, "input_shape": stack.input_shape,
                 "input_dtype": "int64" if integer else None}
    spec.build = f"PyTorch twin of {what} ({len(stack.layers)} layers)"
    return spec


def _unique_names(specs: list[ModelSpec], facts: ModuleFacts) -> None:
    """Two models called `model` in one file (a notebook's cells) become `model`, `model_2`, ..."""
    taken = {spec.model for spec in specs} | set(facts.classes)
    seen: set[str] = set()
    for spec in specs:
        if spec.model in seen:
            n = 2
            while f"{spec.model}_{n}" in taken:
                n += 1
            spec.model = f"{spec.model}_{n}"
            taken.add(spec.model)
        seen.add(spec.model)


def _needs_input(spec: ModelSpec, config: VerifyConfig) -> None:
    override = config.models.get(spec.model)
    if spec.skipped is None and spec.twin.get("input_shape") is None and spec.twin["layers"][0]["kind"] == "Embedding":
        spec.twin["input_shape"] = [None]  # token ids of any length: Keras takes them as they come
        return
    if spec.skipped is None and spec.twin.get("input_shape") is None and not (override and override.input_shape):
        spec.skipped = (f"no input shape in the script (Keras builds the model on its first batch): "
                        f"set input-shape in [tool.gradlint.verify.models.{spec.model}]")
