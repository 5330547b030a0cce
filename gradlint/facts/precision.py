"""Mixed precision and framework-level clipping, as facts of a file."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ModuleFacts


@dataclass(frozen=True)
class Float16Use:
    call: CallInfo
    how: str  # "float16 autocast", "model.half()"


def float16_uses(facts: ModuleFacts) -> list[Float16Use]:
    found = []
    for call in facts.all_calls:
        if call.qualname in vocab.AUTOCAST and _autocast_is_fp16(call):
            found.append(Float16Use(call, f"{call.qualname.replace('torch.', '')}(float16)"))
        elif call.method in ("half", "to") and _is_model_name(call.receiver):
            if call.method == "half" and not call.node.args:
                found.append(Float16Use(call, f"{call.receiver}.half()"))
            elif call.method == "to" and any(
                call.scope.qualify(a.value) in vocab.FLOAT16 for a in call.node.args if a.keyword in (None,) or a.keyword.value == "dtype"
            ):
                found.append(Float16Use(call, f"{call.receiver}.to(float16)"))
    return found


def _autocast_is_fp16(call: CallInfo) -> bool:
    enabled = call.kwarg("enabled")
    if isinstance(enabled, cst.Name) and enabled.value == "False":
        return False
    dtype = call.kwarg("dtype")
    if dtype is not None:
        return call.scope.qualify(dtype) in vocab.FLOAT16
    if call.qualname == "torch.cuda.amp.autocast":
        return True  # float16 by default
    return _cuda(call.argument("device_type", 0), call.scope)


def _cuda(expr, scope, depth: int = 0) -> bool:
    """The device is CUDA as a reader sees it: "cuda", or `str(device)` / `device.type` / `device` where
    `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` — float16 on every GPU run."""
    if isinstance(expr, cst.SimpleString):
        return isinstance(expr.evaluated_value, str) and expr.evaluated_value.startswith("cuda")
    if depth > 6 or expr is None:
        return False
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "str" and expr.args:
        return _cuda(expr.args[0].value, scope, depth + 1)
    if isinstance(expr, cst.Attribute) and expr.attr.value == "type":
        return _cuda(expr.value, scope, depth + 1)
    if isinstance(expr, cst.Name):
        bound = scope.binding(expr.value)
        return isinstance(bound, cst.BaseExpression) and _cuda(bound, scope, depth + 1)
    if isinstance(expr, cst.Call) and scope.qualify(expr.func) == "torch.device" and expr.args:
        return _cuda(expr.args[0].value, scope, depth + 1)
    if isinstance(expr, cst.IfExp):
        return _cuda(expr.body, scope, depth + 1)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get" \
            and len(expr.args) == 2:
        return _cuda(expr.args[1].value, scope, depth + 1)  # `cfg.get("device", "cuda")`: a config defaulting to CUDA
    return False


def _is_model_name(receiver: str | None) -> bool:
    if not receiver:
        return False
    name = receiver.rsplit(".", 1)[-1].lower()
    return name in ("model", "net", "network", "module") or name.endswith(("model", "net"))


def uses_grad_scaler(facts: ModuleFacts) -> bool:
    """A GradScaler is constructed, or something else scales the loss: a framework (Accelerate, Lightning,
    DeepSpeed), apex, or an optimizer wrapper that runs the backward itself."""
    for call in facts.all_calls:
        if call.qualname in vocab.GRAD_SCALERS or call.method == "scale" and (call.receiver or "").endswith("scaler"):
            return True
        if call.qualname and call.qualname.endswith(("Accelerator", "Fabric", "Trainer")):
            return True
        # DeepSpeed's fp16 optimizer scales the loss dynamically (`deepspeed.initialize`, `optimizer.backward`).
        if call.qualname and call.qualname.startswith("deepspeed.") and call.qualname.endswith("initialize"):
            return True
        # apex's loss scaling: `amp.initialize`/`amp.scale_loss`, and FP16_Optimizer (apex's, or a vendored copy).
        callee = _callee(call)
        if (call.qualname or "").startswith("apex.") and callee in ("initialize", "scale_loss") \
                or callee == "FP16_Optimizer":
            return True
        # The backward goes through an optimizer wrapper's own method (`optimizer.backward(loss)`: apex's
        # FP16_Optimizer, fairseq's AMPOptimizer, DeepSpeed): torch's optimizers have none, the wrapper scales.
        if call.method == "backward" and call.node.args and "optim" in (call.receiver or "").rsplit(".", 1)[-1].lower():
            return True
        # A project's scaler object called on the loss (timm/ConvNeXt's NativeScaler: loss_scaler(loss, opt)).
        name = call.method if call.receiver is not None else getattr(call.node.func, "value", "")
        if isinstance(name, str) and "scaler" in name.lower() and call.node.args:
            return True
    return False


# Optimizers that clip the gradient norm inside step(), by default to max_grad_norm=1.0 (a value <= 0 turns it off).
_SELF_CLIPPING = ("FusedLAMB", "BertAdam", "OpenAIAdam")


def optimizer_clipping(facts: ModuleFacts) -> str | None:
    """'FusedLAMB(max_grad_norm=1.0)' when an optimizer of this file clips inside its own step()."""
    for call in facts.all_calls:
        name = _callee(call)
        if name not in _SELF_CLIPPING or not call.node.args:
            continue
        given = call.kwarg("max_grad_norm")
        value = facts.resolve(given, call.scope) if given is not None else None
        if given is None or (value is not None and isinstance(value.value, (int, float)) and value.value > 0):
            return f"{name}(max_grad_norm={value.value if value is not None else 1.0})"
    return None


def _callee(call: CallInfo) -> str:
    """The called name as written, whatever its import: `FP16_Optimizer` in `FP16_Optimizer(opt)` or
    `apex.FP16_Optimizer(opt)`, `scale_loss` in `amp.scale_loss(loss, opt)`."""
    return call.method or getattr(call.node.func, "value", "")


def framework_clipping(facts: ModuleFacts) -> str | None:
    """'Trainer(gradient_clip_val=...)' when a framework clips by configuration in this file, or an
    optimizer clips inside its step()."""
    clips = optimizer_clipping(facts)
    if clips is not None:
        return clips
    for call in facts.all_calls:
        if call.qualname in vocab.CLIP_CONFIG:
            keyword = vocab.CLIP_CONFIG[call.qualname]
            if keyword is None or call.kwarg(keyword) is not None or call.qualname.startswith(("transformers.", "trl.")):
                return f"{call.qualname.rsplit('.', 1)[-1]}({keyword or ''}…)"
        if isinstance(call.node.func, cst.Name) and call.node.func.value == "dict" and call.kwarg("gradient_clipping"):
            return "DeepSpeed gradient_clipping"
    return None
