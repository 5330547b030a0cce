"""Optimizers with their resolved learning rate, and whether a schedule or warm-up drives them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ModuleFacts
from gradlint.facts.names import dotted
from gradlint.facts.values import Value

# A callee named like a scheduler: StepLR from a star import, a project's WarmupScheduler, timm's
# CosineLRScheduler. Treating it as one can only remove a finding (precision first).
_SCHEDULER_NAME = re.compile(r"(?i:sched|warm_?up)|LR$")


@dataclass(frozen=True)
class Optimizer:
    kind: str  # "SGD", "Adam", ...
    call: CallInfo
    lr: Value | None  # None: given but not resolvable
    lr_given: bool
    scheduled: bool  # a scheduler, warm-up or manual param_groups["lr"] update drives it

    @property
    def lr_number(self) -> float | None:
        value = self.lr.value if self.lr is not None else None
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# A linear model tolerates up to this many times the ceiling (Lightning's hello-world: Adam 2e-2 on one Linear;
# softmax regression at Adam 5e-2): the problem is convex, a larger step only settles later.
SMALL_MODEL_BAND = 10.0
_DEEP_NAME = re.compile(r"(?i)resnet|resnext|vgg|densenet|mobilenet|efficientnet|inception|convnext|regnet|"
                        r"\bvit|unet|transformer|gpt|bert|llama|wide_?res")
_DEEP_PACKAGES = ("torchvision.models.", "timm.", "transformers.", "segmentation_models_pytorch.")


def large_fixed_lr(opt: Optimizer, facts: ModuleFacts, limits) -> float | None:
    """The limit this optimizer's lr is above, with no schedule, while training weights; else None.

    Shared by GL202 (the finding) and GL201 (a large fixed lr is risk evidence). The ceiling is per
    optimizer kind and per kind of model: the ceiling itself is still in the safe range (Adam at 1e-2
    trains a BatchNorm CNN about as often as it derails one: GL209, off by default, asks about it), a
    linear model tolerates up to SMALL_MODEL_BAND times it, and an optimizer over input tensors (style
    transfer, latent or adversarial optimisation) trains no weights and has no ceiling here."""
    limit, value = _fixed_rate(opt, limits)
    if limit is None or value <= limit:
        return None
    if not trains_weights(opt, facts):
        return None
    if value <= limit * SMALL_MODEL_BAND and small_model(opt, facts, max_weights=1):
        return None  # a linear model (softmax regression) is convex: a larger step is only slower to settle
    return limit


ADAPTIVE = frozenset({"Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adamax", "SparseAdam"})


def high_fixed_lr(opt: Optimizer, facts: ModuleFacts, limits) -> float | None:
    """The limit when an adaptive optimizer's fixed lr is in the top of its safe range (half the ceiling up
    to the ceiling) on a model that is not small (GL209); else None. The evidence is Adam's: each weight
    moves by about lr per step, whatever the gradient; SGD's step scales with the gradient instead."""
    limit, value = _fixed_rate(opt, limits) if opt.kind in ADAPTIVE else (None, None)
    if limit is None or not limit / 2 <= value <= limit:
        return None
    if not trains_weights(opt, facts) or small_model(opt, facts, max_weights=5):
        return None  # Adam at 1e-2 for a policy MLP or a GCN is the published recipe
    return limit


def _fixed_rate(opt: Optimizer, limits) -> tuple[float | None, float | None]:
    """(ceiling, lr) for an optimizer given a resolved lr that nothing schedules, of a kind with a ceiling;
    else (None, None)."""
    limit, value = limits.get(opt.kind), opt.lr_number
    if limit is None or value is None or opt.scheduled or not opt.lr_given:
        return None, None
    return limit, value


def trains_weights(opt: Optimizer, facts: ModuleFacts) -> bool:
    """False when the optimizer is built over a list of plain tensors (`[latent]`, `[img.requires_grad_()]`)."""
    params = opt.call.argument("params", 0)
    if not isinstance(params, (cst.List, cst.Tuple)) or not params.elements:
        return True
    for element in params.elements:
        value = element.value
        if isinstance(value, cst.Dict):
            return True  # param groups
        if isinstance(value, cst.Name):
            bound = opt.call.scope.binding(value.value)
            value = bound if bound is not None else value
        if not _tensor_made(value, opt.call.scope):
            return True
    return False


_TENSOR_MAKERS = ("torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.full",
                  "torch.tensor", "torch.randn_like", "torch.zeros_like", "torch.rand_like", "torch.full_like")


def _tensor_made(value, scope) -> bool:
    """A tensor, not a module's parameter: torch.randn(...), x.clone(), x.detach().requires_grad_(), Parameter(x.detach())."""
    if not isinstance(value, cst.Call):
        return False
    name = scope.qualify(value.func)
    if name in _TENSOR_MAKERS:
        return True
    if name in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") and value.args:
        return _tensor_made(value.args[0].value, scope)
    if isinstance(value.func, cst.Attribute):
        method = value.func.attr.value
        if method in ("clone", "detach", "requires_grad_"):
            return True  # a copy of a tensor, made trainable by hand
        if method in ("to", "cuda", "float", "contiguous", "half", "double"):
            return _tensor_made(value.func.value, scope)
    return False


def small_model(opt: Optimizer, facts: ModuleFacts, max_weights: int) -> bool:
    """The model this optimizer trains is in sight and small: layer chains of at most `max_weights` weight
    layers (a project block counts as one), no residual forward, no known deep architecture. A module's
    own `self.parameters()` is judged by its own forward, a Keras optimizer by the model its compile()
    trains; otherwise every model of the file. No model in sight is not small."""
    from gradlint.facts.keras import compiled_chain

    chains = facts.chains
    owner = opt.call.scope.function()
    fn = next((f for f in facts.functions if f.scope is owner), None)
    params = opt.call.argument("params", 0)
    tied, compiled = compiled_chain(opt.call, facts)
    if tied:
        chains = [compiled]  # Keras: the model compile() gives it, as it stands at that compile()
    elif fn is not None and fn.class_name and isinstance(params, cst.Call) and dotted(params.func) == "self.parameters":
        chains = [c for c in chains if c.where == f"{fn.class_name}.forward"]
    chains = [c for c in chains if any(l.kind in ("weight", "opaque") for l in c.layers)]  # a model, not a stack of activations
    if not chains or deep_model(facts) and len(chains) == len(facts.chains):
        return False
    return all(sum(l.kind in ("weight", "opaque") for l in chain.layers) <= max_weights and not chain.residual
               and not any(l.kind in ("recurrent", "attention") for l in chain.layers) for chain in chains)


def deep_model(facts: ModuleFacts) -> bool:
    """The file builds a deep network: a chain of 6+ weight layers, a residual forward, a known deep
    architecture (torchvision/timm/transformers, or a class named like one)."""
    if any(sum(l.kind == "weight" for l in chain.layers) >= 6 or chain.residual for chain in facts.chains):
        return True
    for call in facts.all_calls:
        name = call.qualname or dotted(call.node.func) or ""
        if name.startswith(_DEEP_PACKAGES) or _DEEP_NAME.search(name.rpartition(".")[2]):
            return True
    return any(_DEEP_NAME.search(cls) for cls in facts.classes)


def find_optimizers(facts: ModuleFacts) -> list[Optimizer]:
    calls = facts.all_calls
    schedulers = [c for c in calls if _is_scheduler(c)]
    # `for g in optimizer.param_groups: g["lr"] = ...` is a hand-written schedule.
    manual_lr_updates = facts.lr_item_assignments > 0
    found = []
    for call in calls:
        kind = vocab.OPTIMIZERS.get(call.qualname or "")
        if kind is None:
            continue
        lr_expr = call.argument("lr", 1)
        if lr_expr is None:
            lr = Value(vocab.DEFAULT_LR[kind], f"{kind}'s default", call.node) if kind in vocab.DEFAULT_LR else None
        else:
            lr = facts.resolve(lr_expr, call.scope)
        scheduled = manual_lr_updates or any(_drives(s, call) for s in schedulers)
        found.append(Optimizer(kind, call, lr, lr_expr is not None, scheduled))
    from gradlint.facts.keras import keras_optimizers

    return found + keras_optimizers(facts, Optimizer)


def _is_scheduler(call: CallInfo) -> bool:
    if call.qualname and vocab.is_scheduler(call.qualname):
        return True
    if call.qualname in vocab.OPTIMIZERS:
        return False
    name = (call.qualname or dotted(call.node.func) or call.method or "").rpartition(".")[2]
    return bool(_SCHEDULER_NAME.search(name))


def _drives(scheduler: CallInfo, optimizer: CallInfo) -> bool:
    """Does this scheduler wrap this optimizer? Unknown wiring counts as yes (precision first)."""
    target = scheduler.argument("optimizer", 0)
    if target is None or optimizer.target is None:
        return True
    if target is optimizer.node:
        return True
    name = dotted(target)
    if name is None:
        return True
    return name == optimizer.target or name.split(".")[-1] == optimizer.target.split(".")[-1]


_WARMUP = re.compile(r"(?i)warm_?up")
_WARMUP_SCHEDULERS = {"torch.optim.lr_scheduler.LinearLR", "torch.optim.lr_scheduler.OneCycleLR",
                      "torch.optim.lr_scheduler.SequentialLR"}


def warmed_up(facts: ModuleFacts) -> bool:
    """The file warms the learning rate up: a warm-up scheduler (transformers' get_*_schedule_with_warmup,
    LinearLR/OneCycleLR/SequentialLR) or a call or keyword naming a warm-up (`warmup_steps=`)."""
    for call in facts.all_calls:
        name = call.qualname or dotted(call.node.func) or ""
        if name in _WARMUP_SCHEDULERS or _WARMUP.search(name.rpartition(".")[2]):
            return True
        if any(arg.keyword is not None and _WARMUP.search(arg.keyword.value) for arg in call.node.args):
            return True
    return False
