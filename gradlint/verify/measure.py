"""Forward/backward and N training steps on one model, child side (imports torch).

The loss is cross-entropy against random labels when the output is a 2-D batch of class logits,
else mean squared error against a random normal target. Every step reuses the same batch, so a
healthy model's loss goes down; the numbers are deterministic for a fixed seed.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class MeasureError(Exception):
    """The model could not be measured; the message says why in one line."""


def forward(model: nn.Module, x):
    if isinstance(x, dict):
        out = model(**x)
    elif isinstance(x, tuple):
        out = model(*x)
    else:
        out = model(x)
    tensor = _first_tensor(out)
    if tensor is None:
        raise MeasureError(f"forward returned {type(out).__name__}, not a tensor")
    return tensor


def _first_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    values = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else ()
    for value in values:
        found = _first_tensor(value)
        if found is not None:
            return found
    return None


KERAS_EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] before taking their log


def make_loss(out: torch.Tensor, kind: str | None = None):
    """(loss function of the output, its name), with a fixed random target.

    `kind` is the loss the script compiles (a Keras twin); None: cross-entropy for 2-D class logits, else MSE.
    """
    if not out.is_floating_point():
        raise MeasureError(f"the output has dtype {out.dtype}: no gradient flows through it")
    if not out.requires_grad:
        raise MeasureError("the output does not depend on any trainable parameter")
    if kind is not None:
        return _named_loss(out, kind), kind
    if out.dim() == 2 and out.shape[1] > 1:
        labels = torch.randint(0, out.shape[1], (out.shape[0],), device=out.device)
        return (lambda o: F.cross_entropy(o.float(), labels)), "cross_entropy"
    target = torch.randn(out.shape, device=out.device)
    return (lambda o: F.mse_loss(o.float(), target)), "mse"


def _named_loss(out: torch.Tensor, kind: str):
    classes = out.shape[-1]
    if kind in ("cross_entropy", "nll_of_probabilities"):
        labels = torch.randint(0, classes, (out.numel() // classes,), device=out.device)
        if kind == "cross_entropy":
            return lambda o: F.cross_entropy(o.float().reshape(-1, classes), labels)

        def nll(o):  # Keras's crossentropy on probabilities: normalise, clip, log
            p = o.float().reshape(-1, classes)
            p = (p / p.sum(-1, keepdim=True)).clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
            return F.nll_loss(torch.log(p), labels)

        return nll
    if kind in ("bce_of_probabilities", "bce_with_logits"):
        target = torch.randint(0, 2, out.shape, device=out.device).float()
        if kind == "bce_with_logits":
            return lambda o: F.binary_cross_entropy_with_logits(o.float(), target)
        return lambda o: F.binary_cross_entropy(o.float().clamp(KERAS_EPSILON, 1 - KERAS_EPSILON), target)
    target = torch.randn(out.shape, device=out.device)
    if kind == "mae":
        return lambda o: F.l1_loss(o.float(), target)
    return lambda o: F.mse_loss(o.float(), target)


def clip_gradients(params, clip: dict | None) -> None:
    """Keras's optimizer clipping: clipnorm per variable, global_clipnorm over all, clipvalue elementwise."""
    if not clip:
        return
    (kind, value), = clip.items()
    if kind == "clipnorm":
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], value)
    elif kind == "global_clipnorm":
        torch.nn.utils.clip_grad_norm_(params, value)
    else:
        torch.nn.utils.clip_grad_value_(params, value)


def make_optimizer(kind: str, params, lr: float, kwargs: dict):
    cls = getattr(torch.optim, kind, None)
    if cls is None:
        raise MeasureError(f"torch.optim has no optimizer {kind}")
    # `betas=(0, 0.99)` as the script writes it: torch wants both floats (Python itself would not mind).
    kwargs = {k: tuple(float(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v)
              if isinstance(v, (list, tuple)) and any(isinstance(x, float) for x in v) else v for k, v in kwargs.items()}
    try:
        return cls(params, lr=lr, **kwargs)
    except (TypeError, ValueError) as exc:
        raise MeasureError(f"cannot build {kind}(lr={lr:g}, {kwargs}): {exc}") from None


def _norm(t: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(t.detach().float()))


def _combine(norms) -> float:
    return math.sqrt(sum(n * n for n in norms))


def measure(model: nn.Module, x, steps: int, optimizer: str, lr: float, optimizer_kwargs: dict,
            loss: str | None = None, clip: dict | None = None, on_step=None) -> dict:
    """The first backward's per-parameter and per-layer norms, then per step the global norm, the loss,
    the first/last layer ratio and the update-to-weight ratio. `on_step(result so far)` after each step."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise MeasureError("the model has no trainable parameters")
    loss_fn, loss_name = make_loss(forward(model, x), loss)
    params = [p for _, p in named]
    opt = make_optimizer(optimizer, params, lr, optimizer_kwargs)
    result: dict = {"loss_function": loss_name, "parameter_count": sum(p.numel() for p in params), "steps": []}
    reached: set[str] = set()  # parameters that got a non-zero gradient at some step
    for step in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward(model, x))
        loss.backward()
        grads = [(n, p.grad) for n, p in named]
        norms = {n: _norm(g) for n, g in grads if g is not None}
        reached.update(n for n, v in norms.items() if v != 0)
        if step == 1:
            result.update(_first_backward(named, norms))
        global_norm = _combine(norms.values())
        before = [p.detach().clone() for p in params]
        finite = math.isfinite(float(loss)) and math.isfinite(global_norm)
        if finite:
            clip_gradients(params, clip)  # after the norms are read: they are the raw gradients
            opt.step(lambda: loss_fn(forward(model, x))) if optimizer == "LBFGS" else opt.step()
            update = _combine(_norm(p - b) for p, b in zip(params, before))
            weight = _combine(_norm(b) for b in before)
            ratio = update / weight if weight > 0 else float("inf")
        else:
            ratio = float("nan")
        result["steps"].append({"step": step, "loss": float(loss), "grad_norm": global_norm, "update_ratio": ratio,
                                "layer_ratio": _layer_ratio(named, norms)})
        result["unused_parameters"] = [n for n, _ in named if n not in reached]
        _finish(result)
        if on_step is not None:
            on_step(result)
        if not finite:
            break  # nothing after a NaN is informative
    return result


def _finish(result: dict) -> None:
    result["non_finite"] = any(not (math.isfinite(s["loss"]) and math.isfinite(s["grad_norm"]))
                               for s in result["steps"]) or not all(math.isfinite(v) for v in result["parameters"].values())


def _layers(named, norms: dict) -> list[dict]:
    """Per-layer norms (a layer: the parameters that share a module prefix), in registration order."""
    layers: dict[str, list[float]] = {}
    for name, _ in named:
        if name in norms:
            layers.setdefault(name.rpartition(".")[0] or "(model)", []).append(norms[name])
    return [{"name": layer, "grad_norm": _combine(values)} for layer, values in layers.items()]


def _layer_ratio(named, norms: dict) -> float | None:
    per_layer = _layers(named, norms)
    if len(per_layer) < 2:
        return None
    first, last = per_layer[0]["grad_norm"], per_layer[-1]["grad_norm"]
    return first / last if last > 0 and math.isfinite(last) else None


def _first_backward(named, norms: dict) -> dict:
    """Per-parameter and per-layer norms of the first backward pass, layers in registration order."""
    return {
        "parameters": norms,
        "layers": _layers(named, norms),
        "unused_parameters": [n for n, _ in named if n not in norms],
        "layer_ratio": _layer_ratio(named, norms),
    }
