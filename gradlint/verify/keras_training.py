"""How a Keras model is trained, as the PyTorch twin will be: optimizer, learning rate, clipping, loss.

From `model.compile(optimizer=..., loss=...)` (strings get Keras's defaults) or the file's Keras
optimizer; Keras's own hyper-parameter defaults are carried over (epsilon 1e-7, RMSprop rho 0.9,
Adagrad's initial accumulator 0.1, AdamW weight decay 0.004), and `clipnorm`/`clipvalue`/
`global_clipnorm` clip the twin's gradients the way Keras does. Parent side: facts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from gradlint.facts import vocab_keras as K
from gradlint.facts.model import CallInfo, ModuleFacts
from gradlint.verify.keras_layers import static_value, is_unknown

DEFAULT = ("Adam", 1e-3)
_STRING_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                      "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "NAdam", "ftrl": "Ftrl", "lion": "Lion"}
_TORCH_KINDS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"}
# Keras's defaults where they differ from PyTorch's, in PyTorch's keyword names.
_KERAS_DEFAULTS = {"Adam": {"eps": 1e-7}, "AdamW": {"eps": 1e-7, "weight_decay": 0.004}, "Adamax": {"eps": 1e-7},
                   "NAdam": {"eps": 1e-7}, "RMSprop": {"alpha": 0.9, "eps": 1e-7},
                   "Adagrad": {"initial_accumulator_value": 0.1, "eps": 1e-7}, "Adadelta": {"rho": 0.95, "eps": 1e-7}}
_SAME_NAME = {"momentum", "nesterov", "amsgrad", "centered", "weight_decay", "initial_accumulator_value"}
_NO_EFFECT = {"name", "jit_compile", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
              "gradient_accumulation_steps", "decay"}
_LOSSES = {"sparse_categorical_crossentropy": "categorical", "categorical_crossentropy": "categorical",
           "SparseCategoricalCrossentropy": "categorical", "CategoricalCrossentropy": "categorical",
           "binary_crossentropy": "binary", "BinaryCrossentropy": "binary", "mse": "mse", "mean_squared_error": "mse",
           "MeanSquaredError": "mse", "mae": "mae", "mean_absolute_error": "mae", "MeanAbsoluteError": "mae"}


@dataclass
class Training:
    optimizer: str = DEFAULT[0]  # a torch.optim class name
    lr: float = DEFAULT[1]
    kwargs: dict = field(default_factory=dict)  # torch keyword → Python source of the value
    clip: dict | None = None  # {"clipnorm": 1.0}
    origin: str = "no optimizer found in the script: the default"
    loss: str | None = None  # a measure.py loss kind; None: chosen from the output
    notes: list[str] = field(default_factory=list)


def compile_call(facts: ModuleFacts, model: CallInfo, target: str | None,
                 builder: str | None) -> tuple[CallInfo | None, bool]:
    """The compile() of this model, and whether the file's optimizers may be this model's (no compile
    names another model). `target.compile(...)` after the model is built and before `target` is bound
    again (notebooks rebind `model` cell after cell); for a model a function builds, the compile of
    `m = builder()`; else the file's only compile()."""
    calls = facts.all_calls
    anchors = [(i, c.target) for i, c in enumerate(calls) if c.target and "." not in c.target and (
        c is model and target or builder and isinstance(c.node.func, cst.Name) and c.node.func.value == builder)]
    for start, name in anchors:
        for call in calls[start + 1:]:
            if call.method == "compile" and call.receiver == name:
                return call, True
            if call.target == name:
                break  # bound to something else first
    compiles = [c for c in calls if c.method == "compile" and c.receiver]
    return (compiles[0], True) if len(compiles) == 1 else (None, not compiles)


def training(facts: ModuleFacts, compiled: CallInfo | None, own_file: bool, last_activation: str | None) -> Training:
    out = Training()
    expr = compiled.argument("optimizer", 0) if compiled is not None else None
    if compiled is not None and expr is None:
        _from_kind(out, "RMSprop", K.DEFAULT_LR["RMSprop"], "compile() without optimizer: Keras RMSprop defaults")
    elif expr is not None and _string(expr, compiled, facts) is not None:
        text = _string(expr, compiled, facts)
        kind = _STRING_OPTIMIZERS.get(text.lower())
        if kind is None:
            out.notes.append(f"compile(optimizer={text!r}) unknown: measured with the default")
        else:
            _from_kind(out, kind, K.DEFAULT_LR[kind], f"compile(optimizer={text!r}): Keras {kind} defaults")
    else:
        keras_optimizers = [o for o in facts.optimizers if (o.call.qualname or "").startswith("keras.optimizers.")]
        chosen = _optimizer_for(expr, compiled, keras_optimizers) if expr is not None else None
        chosen = chosen or (keras_optimizers[0] if keras_optimizers and own_file else None)
        if chosen is not None:
            _from_fact(out, chosen, facts)
    out.loss = _loss(facts, compiled, last_activation, out.notes)
    return out


def _string(expr, call: CallInfo, facts: ModuleFacts) -> str | None:
    value = static_value(expr, call.scope, facts)
    return value if isinstance(value, str) else None


def _optimizer_for(expr, compiled: CallInfo, optimizers):
    if isinstance(expr, cst.Name):
        named = [o for o in optimizers if o.call.target == expr.value]
        if named:
            return named[-1]
        expr = compiled.scope.binding(expr.value) or expr
    return next((o for o in optimizers if o.call.node is expr), None)


def _from_kind(out: Training, kind: str, lr: float, origin: str) -> None:
    if kind not in _TORCH_KINDS:
        out.notes.append(f"Keras {kind} has no PyTorch counterpart: measured with Adam lr=0.001")
        kind, lr = DEFAULT
    out.optimizer, out.lr = kind, float(lr)
    out.kwargs = {k: repr(v) for k, v in _KERAS_DEFAULTS.get(kind, {}).items()}
    out.origin = f"{kind} lr={lr:g} ({origin})"


def _from_fact(out: Training, opt, facts: ModuleFacts) -> None:
    call = opt.call
    lr, origin = _lr(opt, facts)
    _from_kind(out, opt.kind, lr, origin)
    if out.optimizer != opt.kind:
        return
    out.origin = f"{opt.kind} lr={out.lr:g}{f' ({origin})' if origin else ''}, from the script"
    betas = [0.9, 0.999]
    for arg in call.node.args:
        name = arg.keyword.value if arg.keyword is not None else None
        if name in (None, "learning_rate", "lr"):
            continue
        value = static_value(arg.value, call.scope, facts)
        if name in _NO_EFFECT:
            continue
        if is_unknown(value):
            out.notes.append(f"{opt.kind}({name}=...) not known statically: Keras's default used")
        elif name in K.CLIP_KEYWORDS:
            if value is not None:
                out.clip = {name: float(value)}
                out.notes.append(f"{name}={value:g} clips the twin's gradients as Keras does (norms are read before)")
        elif name in ("beta_1", "beta_2"):
            betas[name == "beta_2"] = value
            out.kwargs["betas"] = repr(tuple(betas))
        elif name == "epsilon":
            out.kwargs["eps"] = repr(value)
        elif name == "rho" and opt.kind in ("RMSprop", "Adadelta"):
            out.kwargs["alpha" if opt.kind == "RMSprop" else "rho"] = repr(value)
        elif name in _SAME_NAME:
            if value is not None:
                out.kwargs[name] = repr(value)
        else:
            out.notes.append(f"{opt.kind}({name}=...) not modelled")
    if opt.kind == "SGD" and "nesterov" in out.kwargs and "momentum" not in out.kwargs:
        out.kwargs.pop("nesterov")  # Keras accepts nesterov without momentum; torch does not, and it changes nothing


def _lr(opt, facts: ModuleFacts) -> tuple[float, str]:
    if opt.lr is not None and isinstance(opt.lr.value, (int, float)) and not isinstance(opt.lr.value, bool):
        return float(opt.lr.value), opt.lr.origin
    expr = opt.call.kwarg("learning_rate") or opt.call.kwarg("lr") or opt.call.positional(0)
    if isinstance(expr, cst.Name):
        expr = opt.call.scope.binding(expr.value) or expr
    if isinstance(expr, cst.Call):
        initial = facts.resolve(next((a.value for a in expr.args if a.keyword is None or
                                      a.keyword.value == "initial_learning_rate"), None), opt.call.scope)
        if initial is not None and isinstance(initial.value, (int, float)):
            return float(initial.value), "the schedule's initial rate; the schedule itself is not modelled"
    return float(K.DEFAULT_LR.get(opt.kind, DEFAULT[1])), "lr not known statically: Keras's default"


def _loss(facts: ModuleFacts, compiled: CallInfo | None, last_activation: str | None, notes: list) -> str | None:
    """The measure.py loss kind: the compiled loss (with from_logits), else what the output activation implies."""
    expr = compiled.argument("loss", 1) if compiled is not None else None
    family, logits = None, False
    if expr is not None:
        scope = compiled.scope
        if isinstance(expr, cst.Name) and not scope.qualify(expr):
            expr = scope.binding(expr.value) or expr
        call = expr if isinstance(expr, cst.Call) else None
        target = call.func if call is not None else expr
        qualname = scope.qualify(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        name = qualname.rsplit(".", 1)[-1] if qualname and qualname.startswith("keras.losses.") else (
            static_value(expr, scope, facts) if call is None else None)
        family = _LOSSES.get(name) if isinstance(name, str) else None
        if call is not None and family is not None:
            flag = next((a.value for a in call.args if a.keyword and a.keyword.value == "from_logits"), None)
            logits = flag is not None and static_value(flag, scope, facts) is True
        if family is None:
            notes.append("the compiled loss is not one the twin knows: loss chosen from the output")
    if family is None:
        family = {"softmax": "categorical", "sigmoid": "binary"}.get(last_activation or "")
    if family == "categorical":
        return "cross_entropy" if logits else "nll_of_probabilities"
    if family == "binary":
        return "bce_with_logits" if logits else "bce_of_probabilities"
    return family
