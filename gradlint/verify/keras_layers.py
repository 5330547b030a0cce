"""One Keras layer construction → a plain, JSON-serialisable layer spec for the PyTorch twin (parent side).

`Dense(64, activation="sigmoid", kernel_initializer=RandomNormal(stddev=3.0))` becomes
{"kind": "Dense", "label": ..., "args": {"units": 64, "activation": "sigmoid", "kernel_initializer":
{"name": "random_normal", "stddev": 3.0}}}. Every argument must be known statically (literals,
constants, argparse defaults) and have a faithful PyTorch counterpart; otherwise the layer is a
*problem*, named the way the script writes it, and the model is skipped. No torch, no user code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from gradlint.facts.model import ModuleFacts
from gradlint.facts.names import Scope

_CODE = cst.Module([])
_UNKNOWN = object()

_CONV = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
         "use_bias", "kernel_initializer", "bias_initializer")
_RNN_FLAGS = ("dropout", "recurrent_dropout", "return_sequences", "return_state", "go_backwards", "stateful")
_POOL = ("pool_size", "strides", "padding", "data_format")
_GLOBAL_POOL = ("data_format", "keepdims")
# kind → its arguments in Keras's positional order (keywords-only ones after).
SCHEMAS: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer"),
    "Conv1D": _CONV, "Conv2D": _CONV,
    "SimpleRNN": ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", *_RNN_FLAGS),
    "LSTM": ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
             "recurrent_initializer", "bias_initializer", "unit_forget_bias", *_RNN_FLAGS),
    "GRU": ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer", *_RNN_FLAGS, "reset_after"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer"),
    "LayerNormalization": ("axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer",
                           "gamma_initializer"),
    "Activation": ("activation",),
    "Dropout": ("rate",),
    "Flatten": ("data_format",),
    "Embedding": ("input_dim", "output_dim", "embeddings_initializer"),
    "MaxPooling1D": _POOL, "MaxPooling2D": _POOL, "AveragePooling1D": _POOL, "AveragePooling2D": _POOL,
    "GlobalAveragePooling1D": _GLOBAL_POOL, "GlobalAveragePooling2D": _GLOBAL_POOL,
    "GlobalMaxPooling1D": _GLOBAL_POOL, "GlobalMaxPooling2D": _GLOBAL_POOL,
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "LeakyReLU": ("negative_slope", "alpha"),
    "ELU": ("alpha",),
    "Softmax": ("axis",),
}
# Aliases Keras itself accepts.
_KIND_ALIASES = {"Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "MaxPool1D": "MaxPooling1D",
                 "MaxPool2D": "MaxPooling2D", "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
                 "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                 "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}
INPUT_KEYWORDS = ("input_shape", "batch_input_shape", "input_dim", "shape", "batch_shape")
# Keywords whose value changes nothing the twin measures (or is noted): accepted whatever they are.
_IGNORED = {"name", "dtype", "trainable", "seed", "use_cudnn", "unroll", "implementation", "mask_zero",
            "input_length", "batch_size", "moving_mean_initializer", "moving_variance_initializer", "synchronized",
            "lora_rank", "noise_shape", "autocast", "sparse", "ragged", "time_major", "fused"}
_REGULARIZERS = re.compile(r"_(regularizer|constraint)$")

# Activations the twin knows (child: keras_twin.ACTIVATIONS), by Keras's string names.
ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus", "softsign",
               "swish", "silu", "gelu", "relu6", "leaky_relu", "exponential", "hard_sigmoid", "mish", "hard_silu",
               "hard_swish"}
_ACTIVATION_MODULES = ("keras.activations.", "tensorflow.nn.", "tensorflow.")

# Initializer classes → Keras's snake-case name, with their positional parameters.
INITIALIZERS: dict[str, tuple[str, ...]] = {
    "glorot_uniform": (), "glorot_normal": (), "he_normal": (), "he_uniform": (), "lecun_normal": (),
    "lecun_uniform": (), "zeros": (), "ones": (), "random_normal": ("mean", "stddev"),
    "random_uniform": ("minval", "maxval"), "truncated_normal": ("mean", "stddev"), "constant": ("value",),
    "orthogonal": ("gain",), "identity": ("gain",), "variance_scaling": ("scale", "mode", "distribution"),
}
_INITIALIZER_ALIASES = {"zero": "zeros", "one": "ones", "uniform": "random_uniform", "normal": "random_normal",
                        "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
                        "HeUniform": "he_uniform", "LecunNormal": "lecun_normal", "LecunUniform": "lecun_uniform",
                        "Zeros": "zeros", "Ones": "ones", "RandomNormal": "random_normal",
                        "RandomUniform": "random_uniform", "TruncatedNormal": "truncated_normal",
                        "Constant": "constant", "Orthogonal": "orthogonal", "Identity": "identity",
                        "VarianceScaling": "variance_scaling"}


@dataclass
class Translation:
    layer: dict | None = None  # the spec, when it translates
    problem: str | None = None  # else what cannot be translated, as the script writes it
    input_shape: list | None = None  # `input_shape=` / `input_dim=` on the layer, batch excluded
    notes: list[str] = field(default_factory=list)


def label(call: cst.Call, kind: str | None = None) -> str:
    """`Dense(64, activation='sigmoid')`: the kind (or callee) and the arguments as written, whitespace collapsed."""
    head = kind or _CODE.code_for_node(call.func).rsplit(".", 1)[-1]
    args = " ".join(", ".join(re.sub(r"[\s,]+$", "", _CODE.code_for_node(a)) for a in call.args).split())
    text = f"{head}({args})"
    return text if len(text) <= 70 else text[:67] + "..."


def kind_of(qualname: str | None) -> str | None:
    """'Dense' for keras.layers.Dense (and Keras's aliases); None for anything else."""
    if not qualname or not qualname.startswith("keras.layers."):
        return None
    name = qualname.rsplit(".", 1)[-1]
    return _KIND_ALIASES.get(name, name)


def callee(call: cst.Call, scope: Scope) -> str | None:
    """The qualified name of what is called, through one alias: `RNN = layers.LSTM; RNN(128)` → keras.layers.LSTM."""
    qualname = scope.qualify(call.func)
    if qualname is None and isinstance(call.func, cst.Name):
        bound = scope.binding(call.func.value)
        if isinstance(bound, (cst.Name, cst.Attribute)):
            qualname = scope.qualify(bound)
    return qualname


def translate(call: cst.Call, scope: Scope, facts: ModuleFacts) -> Translation:
    qualname = callee(call, scope)
    kind = kind_of(qualname)
    if kind is None or kind not in SCHEMAS:  # named by its class alone: `Bidirectional`, `Antirectifier`
        return Translation(problem=kind or _CODE.code_for_node(call.func).rsplit(".", 1)[-1])
    schema = SCHEMAS[kind]
    args: dict = {}
    out = Translation()
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > len(schema):
        return Translation(problem=label(call, kind))
    given = [(schema[i], a.value) for i, a in enumerate(positional)]
    given += [(a.keyword.value, a.value) for a in call.args if a.keyword is not None]
    for name, expr in given:
        if name in _IGNORED:
            continue
        if _REGULARIZERS.search(name):
            out.notes.append(f"{kind} {name} not modelled")
            continue
        if name not in schema and name not in INPUT_KEYWORDS:
            return Translation(problem=f"{kind}({name}=...)")
        if name.endswith("activation"):
            value = activation(expr, scope, facts)
        elif name.endswith("initializer"):
            value = initializer(expr, scope, facts)
        else:
            value = static_value(expr, scope, facts)
        if value is _UNKNOWN and name in INPUT_KEYWORDS:  # like no shape at all: the config can give it
            out.notes.append(f"{kind}({name}={_CODE.code_for_node(expr)}) not known statically")
            continue
        if value is _UNKNOWN:
            return Translation(problem=f"{kind}({name}={_CODE.code_for_node(expr)}: not known statically)")
        args[name] = value
    shape = _input_shape(args, kind)
    if shape is _UNKNOWN:
        return Translation(problem=f"{kind}(input_shape=...: not a shape)")
    unsupported = _unsupported(kind, args)
    if unsupported:
        return Translation(problem=f"{kind}({unsupported})")
    if kind in ("LSTM", "GRU", "SimpleRNN") and (args.get("dropout") or args.get("recurrent_dropout")):
        out.notes.append(f"{kind} dropout/recurrent_dropout not modelled")
    out.layer = {"kind": kind, "label": label(call, kind), "args": args}
    out.input_shape = shape
    return out


def _input_shape(args: dict, kind: str):
    """The layer's own input-shape keyword (batch excluded), popped from args; None when absent."""
    found = None
    for key in INPUT_KEYWORDS:
        if key not in args or (key == "input_dim" and kind == "Embedding"):  # the vocabulary size there
            continue
        value = args.pop(key)
        if key == "input_dim":
            value = [value]
        elif key in ("batch_input_shape", "batch_shape"):
            value = value[1:] if isinstance(value, list) and value else _UNKNOWN
        found = shape_value(value)
    return found


def shape_value(value):
    """[784] for 784, (784,) or [784]; None stays (a free dimension); anything else is _UNKNOWN."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return [value]
    if isinstance(value, list) and value and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0) for v in value):
        return value
    return _UNKNOWN


def _unsupported(kind: str, args: dict) -> str | None:
    """The first argument value the twin cannot reproduce, as `name='value'`."""
    rules = {
        "data_format": lambda v: v in (None, "channels_last"),
        "padding": lambda v: v in ("valid", "same") or (v == "causal" and kind == "Conv1D"),
        "return_state": lambda v: not v, "go_backwards": lambda v: not v, "stateful": lambda v: not v,
        "reset_after": lambda v: v is True, "rms_scaling": lambda v: not v,
        "axis": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    if kind.startswith(("MaxPooling", "AveragePooling")):
        rules["padding"] = lambda v: v == "valid"
    if kind in ("LSTM", "GRU"):
        rules["activation"] = lambda v: v == "tanh"
        rules["recurrent_activation"] = lambda v: v == "sigmoid"
    elif kind == "SimpleRNN":
        rules["activation"] = lambda v: v in ("tanh", "relu")
    elif kind in ("LayerNormalization", "Softmax"):
        rules["axis"] = lambda v: v == -1
    for name, ok in rules.items():
        if name in args and not ok(args[name]):
            return f"{name}={args[name]!r}"
    for name in ("units", "filters", "input_dim", "output_dim"):
        if name in args and not (isinstance(args[name], int) and not isinstance(args[name], bool) and args[name] > 0):
            return f"{name}={args[name]!r}"
    return None


def static_value(expr: cst.BaseExpression, scope: Scope, facts: ModuleFacts, depth: int = 0):
    """A JSON value (number, string, bool, None, list) for an argument known statically, else _UNKNOWN."""
    if depth > 8:
        return _UNKNOWN
    if isinstance(expr, cst.Name) and expr.value == "None":
        return None
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = [_UNKNOWN if isinstance(e, cst.StarredElement) else static_value(e.value, scope, facts, depth + 1)
                 for e in expr.elements]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
    if isinstance(expr, cst.Name):
        bound = scope.binding(expr.value)
        if isinstance(bound, (cst.Tuple, cst.List)):
            return static_value(bound, scope, facts, depth + 1)
    found = facts.resolve(expr, scope)
    if found is None or not isinstance(found.value, (int, float, str, bool)):
        return _UNKNOWN
    return found.value


def activation(expr: cst.BaseExpression, scope: Scope, facts: ModuleFacts):
    """'sigmoid' for "sigmoid", tf.nn.sigmoid, keras.activations.sigmoid; 'linear' for None."""
    if isinstance(expr, cst.Name) and expr.value == "None":
        return "linear"
    qualname = scope.qualify(expr) if isinstance(expr, (cst.Name, cst.Attribute)) else None
    if qualname:
        return activation_function(qualname) or _UNKNOWN
    value = static_value(expr, scope, facts)
    return value if value in ACTIVATIONS else _UNKNOWN


def activation_function(qualname: str | None) -> str | None:
    """'relu' for tf.nn.relu / keras.activations.relu / tf.sigmoid...; None for anything else."""
    name = next((qualname[len(m):] for m in _ACTIVATION_MODULES if qualname.startswith(m)), None) if qualname else None
    return name if name in ACTIVATIONS else None


def initializer(expr: cst.BaseExpression, scope: Scope, facts: ModuleFacts, depth: int = 0):
    """{"name": "random_normal", "stddev": 3.0} for "random_normal" strings and initializer objects."""
    if isinstance(expr, cst.Name) and not scope.qualify(expr):
        bound = scope.binding(expr.value)
        if bound is not None and depth < 4:
            return initializer(bound, scope, facts, depth + 1)
    call = expr if isinstance(expr, cst.Call) else None
    target = call.func if call is not None else expr
    qualname = scope.qualify(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
    if qualname is not None:
        if not qualname.startswith("keras.initializers."):
            return _UNKNOWN
        name = qualname.rsplit(".", 1)[-1]
    elif call is None:
        name = static_value(expr, scope, facts)
    else:
        return _UNKNOWN
    name = _INITIALIZER_ALIASES.get(name, name) if isinstance(name, str) else name
    if name not in INITIALIZERS:
        return _UNKNOWN
    spec = {"name": name}
    for i, arg in enumerate(call.args if call is not None else ()):
        key = arg.keyword.value if arg.keyword is not None else (
            INITIALIZERS[name][i] if i < len(INITIALIZERS[name]) else None)
        if key == "seed":
            continue
        if key is None or key not in INITIALIZERS[name] or arg.star:
            return _UNKNOWN
        value = static_value(arg.value, scope, facts)
        if value is _UNKNOWN:
            return _UNKNOWN
        spec[key] = value
    return spec


def is_unknown(value) -> bool:
    return value is _UNKNOWN
