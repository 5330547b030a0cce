"""Keras's initializers in torch, drawn on Keras's own kernel shapes (child side: imports torch).

Fans are computed on the Keras layout (a Dense kernel is (in, units), a Conv2D kernel (kh, kw, in, out),
an LSTM kernel (in, 4 * units)), so glorot/he/lecun limits are Keras's; the twin transposes the result
into torch's layout. Truncated normals cut at two standard deviations and divide by the truncated
normal's std, as Keras's VarianceScaling does; orthogonal matrices come from a sign-corrected QR.
"""

from __future__ import annotations

import math

import torch
from torch import nn

TRUNCATION = 0.87962566103423978  # std of a unit normal truncated at ±2: Keras divides by it
GLOROT = {"name": "glorot_uniform"}
_VARIANCE = {"glorot_uniform": (1.0, "fan_avg", "uniform"), "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
             "he_normal": (2.0, "fan_in", "truncated_normal"), "he_uniform": (2.0, "fan_in", "uniform"),
             "lecun_normal": (1.0, "fan_in", "truncated_normal"), "lecun_uniform": (1.0, "fan_in", "uniform")}


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    field = math.prod(shape[:-2])
    return shape[-2] * field, shape[-1] * field


def keras_init(spec: dict | None, shape: tuple[int, ...]) -> torch.Tensor:
    """A tensor of Keras layout `shape` drawn as Keras's initializer `spec` draws it."""
    spec = spec or GLOROT
    name, t = spec["name"], torch.empty(shape)
    if name in _VARIANCE or name == "variance_scaling":
        scale, mode, distribution = _VARIANCE.get(name) or (
            spec.get("scale", 1.0), spec.get("mode", "fan_in"), spec.get("distribution", "truncated_normal"))
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out}.get(mode, (fan_in + fan_out) / 2)
        scale /= max(1.0, n)
        if distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return t.uniform_(-limit, limit)
        if distribution in ("normal", "untruncated_normal"):
            return t.normal_(0.0, math.sqrt(scale))
        std = math.sqrt(scale) / TRUNCATION
        return nn.init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std)
    if name == "random_normal":
        return t.normal_(spec.get("mean", 0.0), spec.get("stddev", 0.05))
    if name == "random_uniform":
        return t.uniform_(spec.get("minval", -0.05), spec.get("maxval", 0.05))
    if name == "truncated_normal":
        mean, std = spec.get("mean", 0.0), spec.get("stddev", 0.05)
        return nn.init.trunc_normal_(t, mean, std, mean - 2 * std, mean + 2 * std)
    if name in ("zeros", "ones", "constant"):
        return t.fill_({"zeros": 0.0, "ones": 1.0}.get(name, spec.get("value", 0.0)))
    if name == "identity" and len(shape) == 2:
        return torch.eye(*shape) * spec.get("gain", 1.0)
    if name == "orthogonal" and len(shape) >= 2:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = torch.linalg.qr(torch.randn(max(rows, cols), min(rows, cols)))
        q = q * torch.sign(torch.diagonal(r))
        q = q.T if rows < cols else q
        return (spec.get("gain", 1.0) * q).reshape(shape)
    raise ValueError(f"initializer {name} cannot fill a shape {list(shape)}")
