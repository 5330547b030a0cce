"""Weight initialisation: every call that writes initial values into a parameter, and what it writes to.

Two shapes are recorded, both from the calls the facts pass already holds:
- `InitCall`: an in-place initialiser — `nn.init.normal_(m.weight, std=1)`, `w.data.uniform_(-1, 1)`,
  `m.weight.data.fill_(0.5)` — with the tensor it targets and that tensor's role (weight, bias, a norm
  layer's scale, an embedding table) as a reader infers it from names, class attributes and the
  enclosing `if isinstance(m, nn.BatchNorm2d)` tests.
- `Creation`: a parameter created from a raw tensor — `nn.Parameter(torch.randn(out, in))`,
  `W = torch.randn(784, 10, requires_grad=True)` — unless something later re-initialises it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts import vocab_keras as K
from gradlint.facts.model import Block, CallInfo, ModuleFacts
from gradlint.facts.names import dotted, walk
from gradlint.facts.tensors import class_of
from gradlint.facts.values import Value

# Where each parameter sits: nn.init functions take the tensor first; tensor methods don't.
_FUNCTION_PARAMS = {
    "normal": {"mean": ("mean", 1), "std": ("std", 2)},
    "trunc_normal": {"mean": ("mean", 1), "std": ("std", 2)},
    "uniform": {"a": ("a", 1), "b": ("b", 2)},
    "constant": {"val": ("val", 1)},
}
_METHOD_PARAMS = {
    "normal": {"mean": ("mean", 0), "std": ("std", 1)},
    "uniform": {"a": ("from", 0), "b": ("to", 1)},
    "constant": {"val": ("value", 0)},
}
_WEIGHT_NAME = re.compile(r"^(weights?|kernel|w|w_?\d+|w_\w+|weight_\w+|\w+_weight)$", re.I)
_NORM_WORD = re.compile(r"norm|(^|[._])(bn|ln|gn)\d*($|[._])", re.I)
_EMBEDDING_WORD = re.compile(r"emb|(^|[._])(wte|wpe)($|[._])", re.I)
# Methods whose presence in a class means its parameters are (re)initialised there, not at creation.
_RESET_METHODS = {"reset_parameters", "_reset_parameters", "init_weights", "_init_weights", "initialize",
                  "_initialize", "init_parameters", "_init_parameters"}
_INPLACE_WRITES = {"normal_", "uniform_", "fill_", "zero_", "copy_", "mul_", "div_", "set_", "clamp_", "assign"}
_SCALE_ATTR = re.compile(r"scale|gain|mul|multiplier", re.I)


@dataclass(frozen=True)
class InitCall:
    call: CallInfo
    kind: str  # "normal" | "uniform" | "trunc_normal" | "constant" | "ones" | "zeros" | "xavier_uniform" | …
    target: cst.BaseExpression  # the tensor written
    target_text: str  # "self.fc.weight" ("" when not a plain name); a trailing ".data" removed
    role: str  # "weight" | "bias" | "norm" | "embedding" | "unknown"
    spelling: str  # "nn.init.normal_" or "self.fc.weight.data.normal_"
    is_method: bool
    # Keras: an initializer object (RandomNormal(stddev=3.0)) or string ("ones") given to a layer. Its
    # parameters are the initializer's own, with Keras's defaults; `anchor` is where the value is written.
    table: dict | None = None
    defaults: dict | None = None
    anchor: cst.CSTNode | None = None
    keras: bool = False

    @property
    def node(self) -> cst.CSTNode:
        return self.anchor if self.anchor is not None else self.call.node

    def parameter(self, facts: ModuleFacts, name: str) -> Value | None:
        """A parameter's value: as written (resolved), or the default when the call leaves it out."""
        table = self.table if self.table is not None else (_METHOD_PARAMS if self.is_method else _FUNCTION_PARAMS).get(self.kind, {})
        if name not in table:
            return None
        keyword, index = table[name]
        written = self.call.argument(keyword, index)
        if written is None:
            defaults = self.defaults if self.defaults is not None else vocab.INIT_DEFAULTS.get(self.kind, {})
            default = defaults.get(name)
            return Value(default, "default", self.call.node) if default is not None else None
        found = facts.resolve(written, self.call.scope)
        if found is None or isinstance(found.value, bool) or not isinstance(found.value, (int, float)):
            return None
        return found


@dataclass(frozen=True)
class Creation:
    call: CallInfo  # nn.Parameter(...) or the torch.randn(..., requires_grad=True) itself
    maker: cst.Call  # torch.randn(...) / torch.ones(...)
    maker_name: str  # "torch.randn"
    target_text: str  # "self.weight", "W1"
    spread: str = ""  # TensorFlow's random makers take a scale: "N(0, 1)", "U(-3, 3)"
    # The root mean square of the draw, the `s` of s·√fan_in: a normal's std (torch.randn: 1), a uniform
    # U(a, b)'s √((a² + ab + b²) / 3) (torch.rand: 1/√3); None for other makers
    scale: float | None = None


def init_calls(facts: ModuleFacts) -> list[InitCall]:
    found = []
    for call in facts.all_calls:
        kind = vocab.INIT_FUNCTIONS.get(call.qualname or "")
        if kind is not None:
            target = call.argument("tensor", 0)
            spelling = "nn.init." + (call.qualname or "").rpartition(".")[2]
            is_method = False
        elif call.qualname is None and call.method in vocab.INIT_METHODS and isinstance(call.node.func, cst.Attribute):
            kind, target, is_method = vocab.INIT_METHODS[call.method], call.node.func.value, True
            spelling = f"{dotted(target) or '…'}.{call.method}"
        else:
            continue
        if target is None:
            continue
        text = _tensor_text(target)
        found.append(InitCall(call, kind, target, text, role_of(text, call, facts), spelling, is_method))
    return found + _keras_initializers(facts)


def _keras_initializers(facts: ModuleFacts) -> list[InitCall]:
    """kernel_initializer= (and the recurrent/depthwise/pointwise kernels) of Keras layers, and the initializer
    of `self.add_weight(...)` for a weight matrix; never bias_, gamma_, beta_ or embeddings_initializer."""
    calls = {id(c.node): c for c in facts.all_calls}
    found, seen = [], set()
    for call in facts.all_calls:
        qualname = call.qualname or ""
        if qualname.startswith("keras.layers.") and qualname not in K.NORM_LAYERS:
            given = [call.kwarg(k) for k in K.WEIGHT_INITIALIZER_KEYWORDS]
        elif call.method == "add_weight" and call.receiver == "self" and _keras_weight_matrix(call):
            given = [call.kwarg("initializer")]
        else:
            continue
        for expr in given:
            if isinstance(expr, cst.Name):
                expr = call.scope.binding(expr.value) or expr
            if isinstance(expr, cst.SimpleString) and K.CONSTANT_STRINGS.get(expr.evaluated_value):
                found.append(InitCall(call, "ones", call.node, "", "weight", expr.evaluated_value, False, {}, {}, expr, True))
            elif isinstance(expr, cst.Call) and id(expr) in calls and id(expr) not in seen:
                init = calls[id(expr)]
                spec = K.INITIALIZERS.get(init.qualname or "")
                if spec is not None:
                    seen.add(id(expr))
                    kind, table, defaults = spec
                    spelling = (init.qualname or "").rpartition(".")[2]
                    found.append(InitCall(init, kind, call.node, "", "weight", spelling, False, table, defaults, None, True))
    return found


def _keras_weight_matrix(call: CallInfo) -> bool:
    """self.add_weight(shape=(input_dim, units), ...) bound to a weight-like name, not a bias/scale vector."""
    name = (call.target or "").rpartition(".")[2]
    label = call.kwarg("name")
    label = label.evaluated_value if isinstance(label, cst.SimpleString) else ""
    if not _WEIGHT_NAME.match(name) or _NORM_WORD.search(f"{name} {label}") or "bias" in str(label).lower():
        return False
    shape = call.kwarg("shape")
    return isinstance(shape, (cst.Tuple, cst.List)) and _is_matrix(cst.Call(func=cst.Name("shape"), args=[cst.Arg(shape)]), "")


def _tensor_text(target: cst.BaseExpression) -> str:
    text = dotted(target) or ""
    return text[: -len(".data")] if text.endswith(".data") else text


def role_of(text: str, call: CallInfo, facts: ModuleFacts) -> str:
    """weight / bias / norm / embedding / unknown, the way a reader of the surrounding code decides."""
    for block in call.blocks:
        if block.kind != "if":
            continue  # the `else` of `isinstance(m, nn.BatchNorm2d)` is any other layer
        words = _test_words(block, call, facts)
        if any(_NORM_WORD.search(w) for w in words):
            return "norm"  # inside `if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))` or `'BatchNorm' in name`
        if any("embedding" in w.lower() for w in words):
            return "embedding"
    if not text:
        return "unknown"
    parts = text.split(".")
    last = parts[-1]
    if "bias" in last.lower():
        return "bias"
    if len(parts) == 2 and parts[0] == "self":
        own = _own_parameter(parts[1], call, facts)
        if own is not None:
            return own
    if _NORM_WORD.search(text) or _attr_layer(parts, call, facts) == "norm":
        return "norm"
    if _EMBEDDING_WORD.search(text) or _attr_layer(parts, call, facts) == "embedding":
        return "embedding"
    if _inside_other_branch(call):
        return "unknown"  # the `else` of an isinstance test: the layer type is not known
    if len(parts) == 1:
        return _plain_name_role(last, call)
    return "weight" if _WEIGHT_NAME.match(last) else "unknown"


def _plain_name_role(name: str, call: CallInfo) -> str:
    """`w` alone: a weight only when an enclosing `if "weight" in name` says so, or it is bound once."""
    for block in reversed(call.blocks):
        if block.kind == "if" and block.test is not None:
            strings = {s.lower() for s in _strings(block.test)}
            if any("bias" in s for s in strings):
                return "bias"
            if any("weight" in s for s in strings):
                return "weight"
    bound = call.scope.binding(name)
    if _WEIGHT_NAME.match(name) and isinstance(bound, (cst.Call, cst.Attribute)):
        text = dotted(bound) or ""
        return "bias" if "bias" in text.lower() else "weight"
    return "unknown"


def _own_parameter(attr: str, call: CallInfo, facts: ModuleFacts) -> str | None:
    """`self.weight` of the class itself: a norm layer's scale (class RMSNorm), or a vector, not a matrix."""
    cls = class_of(call.scope, facts)
    if cls is None:
        return None
    if _NORM_WORD.search(cls.name) or any(_NORM_WORD.search(b.rpartition(".")[2]) for b in cls.bases):
        return "norm"
    created = cls.attrs.get(attr)
    if isinstance(created, cst.Call) and cls.scope.qualify(created.func) == vocab.PARAMETER and created.args:
        maker = created.args[0].value
        if isinstance(maker, cst.Call) and not _is_matrix(maker, cls.scope.qualify(maker.func) or ""):
            return "unknown"  # nn.Parameter(torch.ones(dim)): a per-feature scale, not a weight matrix
    return None


def _attr_layer(parts: list[str], call: CallInfo, facts: ModuleFacts) -> str | None:
    """`self.norm.weight` where `self.norm = nn.LayerNorm(...)`: the layer the attribute holds."""
    if len(parts) < 3 or parts[0] != "self":
        return None
    cls = class_of(call.scope, facts)
    construction = cls.attrs.get(parts[1]) if cls is not None else None
    if not isinstance(construction, cst.Call):
        return None
    qualname = cls.scope.qualify(construction.func)
    if qualname in vocab.NORM_MODULES:
        return "norm"
    if qualname in vocab.EMBEDDING_MODULES:
        return "embedding"
    name = dotted(construction.func) or ""
    if "norm" in name.rpartition(".")[2].lower():
        return "norm"  # a project class such as RMSNorm / LayerNorm2d
    return None


def _test_words(block: Block, call: CallInfo, facts: ModuleFacts) -> set[str]:
    if block.test is None:
        return set()
    words = set(_strings(block.test))
    for node in walk(block.test):
        if isinstance(node, (cst.Name, cst.Attribute)):
            words.add(dotted(node) or "")
            words.add(call.scope.qualify(node) or "")
    return words - {""}


def _inside_other_branch(call: CallInfo) -> bool:
    for block in reversed(call.blocks):
        if block.kind == "if":
            return False
        if block.kind == "else" and block.test is not None and any(
            isinstance(n, cst.Call) and dotted(n.func) == "isinstance" for n in walk(block.test)
        ):
            return True
    return False


def _strings(expr: cst.CSTNode) -> list[str]:
    return [n.evaluated_value for n in walk(expr) if isinstance(n, cst.SimpleString) and isinstance(n.evaluated_value, str)]


# -- parameters created from raw tensors -------------------------------------------------------------
def creations(facts: ModuleFacts, makers: set[str]) -> list[Creation]:
    """Parameters made directly from one of `makers` (e.g. {"torch.randn"}) and never re-initialised."""
    rewritten = _rewritten(facts)
    found = []
    for call in facts.all_calls:
        maker = maker_name = None
        if call.qualname in (vocab.PARAMETER, K.VARIABLE):
            data = call.argument("data", 0) if call.qualname == vocab.PARAMETER else call.argument("initial_value", 0)
            if isinstance(data, cst.Name):
                data = call.scope.binding(data.value)
            if isinstance(data, cst.Call):
                maker, maker_name = data, call.scope.qualify(data.func)
        elif call.qualname in makers and _requires_grad(call, facts):
            maker, maker_name = call.node, call.qualname
        if maker is None or maker_name not in makers or not call.target:
            continue
        if call.target in rewritten or not _is_matrix(maker, maker_name) or _reset_elsewhere(call, facts, maker_name in vocab.RANDOM_TENSORS):
            continue
        spread, scale = _tf_spread(maker, maker_name, call, facts) if maker_name in K.RANDOM_TENSORS else ("", None)
        if spread is None:
            continue
        if maker_name in _TORCH_DRAW_SCALE:
            scale = _TORCH_DRAW_SCALE[maker_name]
        last = call.target.rpartition(".")[2]
        if _WEIGHT_NAME.match(last) and not _NORM_WORD.search(call.target) and not _EMBEDDING_WORD.search(call.target):
            found.append(Creation(call, maker, maker_name, call.target, spread, scale))
    return found


_TORCH_DRAW_SCALE = {"torch.randn": 1.0, "torch.rand": (1 / 3) ** 0.5}


def _tf_spread(maker: cst.Call, maker_name: str, call: CallInfo, facts: ModuleFacts) -> tuple[str | None, float | None]:
    """('N(0, 1)', 1.0) for tf.random.normal([m, n]) (stddev 1 by default), ('U(0, 1)', 0.577) for
    tf.random.uniform: the spread and the draw's root mean square; (None, None) when a stddev/bound below 1
    (or one gradlint cannot read) scales it."""
    def arg(name, index, default):
        for a in maker.args:
            if a.keyword is not None and a.keyword.value == name:
                found = facts.resolve(a.value, call.scope)
                return found.value if found is not None and isinstance(found.value, (int, float)) else None
        positional = [a.value for a in maker.args if a.keyword is None]
        if index < len(positional):
            found = facts.resolve(positional[index], call.scope)
            return found.value if found is not None and isinstance(found.value, (int, float)) else None
        return default

    if K.RANDOM_TENSORS[maker_name] == "normal":
        std = arg("stddev", 2, 1.0)
        return (f"N(0, {std:g})", abs(float(std))) if std is not None and abs(std) >= 1 else (None, None)
    low, high = arg("minval", 1, 0.0), arg("maxval", 2, 1.0)
    if None not in (low, high) and max(abs(low), abs(high)) >= 1:
        return f"U({low:g}, {high:g})", ((low * low + low * high + high * high) / 3) ** 0.5
    return None, None


def _requires_grad(call: CallInfo, facts: ModuleFacts) -> bool:
    found = facts.resolve(call.kwarg("requires_grad"), call.scope)
    if found is None or found.value is not True:
        return False
    name = call.target or ""
    return "." in name or len(call.scope.assigns.get(name, ())) == 1  # a rebound name was rescaled


def _is_matrix(maker: cst.Call, maker_name: str) -> bool:
    """At least two sizes, none of them a literal 1: a weight matrix, not a per-channel scale."""
    sizes = [a.value for a in maker.args if a.keyword is None and not a.star]
    if maker_name in ("torch.full", "tensorflow.fill"):
        sizes = sizes[:1]
    if len(sizes) == 1 and isinstance(sizes[0], (cst.Tuple, cst.List)):
        sizes = [e.value for e in sizes[0].elements]
    if any(isinstance(s, (cst.Tuple, cst.List, cst.StarredElement)) for s in sizes):
        return False
    return len(sizes) >= 2 and not any(isinstance(s, cst.Integer) and s.evaluated_value == 1 for s in sizes)


def fan_in(made: Creation, facts: ModuleFacts) -> int | None:
    """The input size of a matrix made from a random tensor, when the code fixes it: TensorFlow's first size
    (`tf.matmul(x, W)`); for torch, where `x @ W` and `F.linear(x, W)` read opposite sizes, the larger of
    sizes that all resolve; None when unknown."""
    sizes = [a.value for a in made.maker.args if a.keyword is None and not a.star]
    if len(sizes) == 1 and isinstance(sizes[0], (cst.Tuple, cst.List)):
        sizes = [e.value for e in sizes[0].elements]
    if made.maker_name in K.RANDOM_TENSORS:
        sizes = sizes[:1]
    values = []
    for size in sizes:
        found = facts.resolve(size, made.call.scope)
        if found is None or not isinstance(found.value, int) or isinstance(found.value, bool):
            return None
        values.append(found.value)
    return max(values) if values else None


_LAYERS_WITH_WEIGHTS = vocab.WEIGHT_MODULES | vocab.RECURRENT_MODULES | vocab.ATTENTION_MODULES | vocab.EMBEDDING_MODULES


# -- what follows a weight (GL302: a constant weight breaks symmetry only where another layer follows) ---
def sole_weight(own: CallInfo, facts: ModuleFacts) -> bool:
    """`own` (a parameter made from a tensor, or a layer construction) is the model's only weight: the file
    creates no other matrix parameter (nor one it cannot see into) and builds no other weight layer — a
    linear or softmax regression: `W = tf.Variable(tf.ones([784, 10]))` then `softmax(x @ W + b)`,
    `keras.Sequential([Dense(1, kernel_initializer="ones")])`, `nn.init.ones_(nn.Linear(2, 1).weight)`. No
    hidden layer follows it: its units are the outputs, and the targets give each a different gradient
    from the first step. A weight a class makes (`self.kernel = self.add_weight(...)`, `self.fc = nn.Linear(...)`)
    is a building block that may be stacked anywhere: never sole."""
    if class_of(own.scope, facts) is not None:
        return False
    for call in facts.all_calls:
        if call is own:
            continue
        qualname = call.qualname or ""
        if qualname in _LAYERS_WITH_WEIGHTS or qualname in K.WEIGHT_LAYERS or qualname in K.RISKY_LAYERS:
            return False
        if call.method == "add_weight" and call.receiver == "self" and _keras_weight_matrix(call):
            return False
        if qualname in (vocab.PARAMETER, K.VARIABLE):
            data = call.argument("data", 0) if qualname == vocab.PARAMETER else call.argument("initial_value", 0)
            if isinstance(data, cst.Name):
                data = call.scope.binding(data.value)
            if data is None or isinstance(data, (cst.Name, cst.Attribute, cst.Subscript, cst.BinaryOperation)):
                return False  # a parameter made from something gradlint cannot see: maybe a matrix
            if isinstance(data, cst.Call) and _is_matrix(data, call.scope.qualify(data.func) or ""):
                return False
        elif qualname in vocab.RANDOM_TENSORS or qualname in vocab.CONSTANT_TENSORS or qualname == "torch.zeros":
            if _requires_grad(call, facts) and _is_matrix(call.node, qualname):
                return False
    return True


def initialised_layer(init: InitCall, facts: ModuleFacts) -> CallInfo | None:
    """The layer construction an initialiser writes into: the Keras layer given `kernel_initializer=`, or
    the `nn.Linear(...)` a plain name holds (`nn.init.ones_(model.weight)`); None for anything else."""
    if init.keras:
        layer = init.target
    else:
        root, _, attr = init.target_text.partition(".")
        layer = init.call.scope.binding(root) if attr == "weight" else None
        if not isinstance(layer, cst.Call) or init.call.scope.qualify(layer.func) not in vocab.WEIGHT_MODULES:
            return None
    return next((c for c in facts.all_calls if c.node is layer), None)


def restored_by_checkpoint(made: Creation, facts: ModuleFacts) -> bool:
    """A tf.Variable that a `tf.train.Checkpoint` names (`Checkpoint(W=W)`, `Checkpoint(**{"W": W})`) and
    that checkpoint then restores, both before the name is bound again: the draw is overwritten by the
    saved values before anything reads it ("reset variables to test restore"). A checkpoint only saved
    (CheckpointManager.save) restores nothing."""
    name, scope = made.target_text, made.call.scope
    fn = next((f for f in (facts.top, *facts.functions) if f.scope is scope), None)
    if fn is None or "." in name:
        return False
    calls = fn.calls
    index = {id(c.node): i for i, c in enumerate(calls)}
    start = index.get(id(made.call.node))
    if start is None:
        return False

    def rebound(target: str, after: int) -> int:
        later = [index[id(v)] for v in scope.assigns.get(target, ()) if id(v) in index and index[id(v)] > after]
        return min(later, default=len(calls))

    for i in range(start + 1, rebound(name, start)):
        checkpoint = calls[i]
        if checkpoint.qualname != K.CHECKPOINT or not _names(checkpoint.node, name, scope):
            continue
        end = rebound(checkpoint.target, i) if checkpoint.target else len(calls)
        if any(c.method == "restore" and (c.receiver == checkpoint.target if checkpoint.target
                                          else getattr(c.node.func, "value", None) is checkpoint.node)
               for c in calls[i + 1:end]):
            return True
    return False


def _names(checkpoint: cst.Call, name: str, scope) -> bool:
    """The checkpoint's keyword values, or the dict it is given as `**vars`, include the variable `name`."""
    for arg in checkpoint.args:
        value = arg.value
        if arg.star == "**" and isinstance(value, cst.Name):
            value = scope.binding(value.value)
            if not isinstance(value, cst.Dict):
                continue
            values = [e.value for e in value.elements if isinstance(e, cst.DictElement)]
        else:
            values = [value]
        if any(isinstance(v, cst.Name) and v.value == name for v in values):
            return True
    return False


def _rewritten(facts: ModuleFacts) -> set[str]:
    """Tensors something writes into later: nn.init calls and in-place methods (`w.data.mul_(0.01)`)."""
    out = set()
    for call in facts.all_calls:
        if (call.qualname or "").startswith(vocab.INIT + "."):
            target = call.argument("tensor", 0)
            out.add(_tensor_text(target) if target is not None else "")
        elif call.method in _INPLACE_WRITES and isinstance(call.node.func, cst.Attribute):
            out.add(_tensor_text(call.node.func.value))
    return out - {""}


def _reset_elsewhere(call: CallInfo, facts: ModuleFacts, random: bool) -> bool:
    """A class that re-initialises in a reset method or through `self.apply`; for random weights, one that
    scales them at use (StyleGAN's equalized learning rate keeps N(0, 1) weights and a `scale` attribute)."""
    cls = class_of(call.scope, facts)
    if cls is None:
        return False
    if _RESET_METHODS & set(cls.methods) or (random and any(_SCALE_ATTR.search(a) for a in cls.attrs)):
        return True
    for method in cls.methods.values():
        for inner in method.calls:
            if inner.method == "apply":
                return True
            if (inner.qualname or "").startswith(vocab.INIT + "."):
                target = inner.argument("tensor", 0)
                if not (dotted(target) or "").startswith("self."):
                    return True  # a loop over self.parameters(): every parameter is re-initialised
    return False
