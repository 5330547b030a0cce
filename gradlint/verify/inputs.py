"""An input batch for a model, child side (imports torch).

In order: the config's input-shape/input-dtype, Lightning's `example_input_array`, else a shape
inferred from the first layer that fixes one (activations, dropout and flatten are looked through).
"""

from __future__ import annotations

import torch
from torch import nn

SEQUENCE_LENGTH = 16
SPATIAL = {1: (32,), 2: (32, 32), 3: (16, 16, 16)}  # Conv1d/2d/3d inputs; 3-D kept small for CPU


class InputError(Exception):
    """No input could be made; the message says why and which config key to set."""


def make_input(model: nn.Module, override: dict, batch: int, device: torch.device, key: str):
    """(input, description). `override` holds input_shape / input_dtype / input_high from the config."""
    shape, dtype = override.get("input_shape"), override.get("input_dtype")
    if shape:
        dtype = getattr(torch, dtype or "float32")
        return _tensor(shape, dtype, override.get("input_high") or _vocabulary(model) or 2, device), \
            f"{_dtype_name(dtype)}{list(shape)} (from {key})"
    example = getattr(model, "example_input_array", None)
    if example is not None:
        return _to(example, device), "example_input_array"
    layer = _first_layer(model)
    if layer is None:
        raise InputError(f"cannot infer an input from the model's first layer: set input-shape in {key}")
    shape, dtype, high = _shape_for(layer, batch)
    if dtype is not None and override.get("input_dtype"):
        dtype = getattr(torch, override["input_dtype"])
    x = _tensor(shape, dtype or torch.float32, high or 2, device)
    return x, f"{_dtype_name(x.dtype)}{list(shape)} (inferred from {_describe(layer)})"


def _tensor(shape, dtype, high: int, device):
    if dtype.is_floating_point:
        return torch.randn(tuple(shape), dtype=dtype, device=device)
    if dtype == torch.bool:
        return torch.randint(0, 2, tuple(shape), device=device).bool()
    return torch.randint(0, high, tuple(shape), dtype=dtype, device=device)


def _to(example, device):
    if isinstance(example, torch.Tensor):
        return example.to(device)
    if isinstance(example, (tuple, list)):
        return type(example)(_to(e, device) for e in example)
    if isinstance(example, dict):
        return {k: _to(v, device) for k, v in example.items()}
    return example


_SHAPE_FREE = (nn.Dropout, nn.Flatten, nn.Identity, nn.ReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU,
               nn.ELU, nn.Softmax, nn.LogSoftmax, nn.Hardtanh, nn.Softplus, nn.Mish, nn.Dropout1d, nn.Dropout2d)
_KNOWN = (nn.Linear, nn.modules.conv._ConvNd, nn.Embedding, nn.EmbeddingBag, nn.RNNBase, nn.TransformerEncoder,
          nn.TransformerEncoderLayer, nn.modules.batchnorm._BatchNorm, nn.LayerNorm)


def _first_layer(model: nn.Module) -> nn.Module | None:
    for module in model.modules():
        if isinstance(module, _KNOWN):
            return module
        if next(module.children(), None) is None and not isinstance(module, _SHAPE_FREE) \
                and any(True for _ in module.parameters(recurse=False)):
            return None  # a weight layer we cannot read a shape from: guessing would mislead
    return None


def _shape_for(layer: nn.Module, b: int):
    """(shape, dtype or None, integer upper bound or None)."""
    t = SEQUENCE_LENGTH
    if isinstance(layer, nn.Linear):
        return (b, layer.in_features), None, None
    if isinstance(layer, nn.modules.conv._ConvNd):
        dims = len(layer.kernel_size)
        channels = layer.in_channels
        return (b, channels, *SPATIAL[dims]), None, None
    if isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        return (b, t), torch.long, layer.num_embeddings
    if isinstance(layer, nn.RNNBase):
        return ((b, t, layer.input_size) if layer.batch_first else (t, b, layer.input_size)), None, None
    if isinstance(layer, nn.TransformerEncoder):
        layer = layer.layers[0]
    if isinstance(layer, nn.TransformerEncoderLayer):
        d = layer.self_attn.embed_dim
        return ((b, t, d) if layer.self_attn.batch_first else (t, b, d)), None, None
    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
        extra = {nn.BatchNorm2d: (32, 32), nn.BatchNorm3d: (16, 16, 16)}.get(type(layer), ())
        return (b, layer.num_features, *extra), None, None
    return (b, *layer.normalized_shape), None, None  # LayerNorm


def _vocabulary(model: nn.Module) -> int | None:
    embedding = next((m for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))), None)
    return embedding.num_embeddings if embedding is not None else None


def _describe(layer: nn.Module) -> str:
    if isinstance(layer, nn.TransformerEncoder):
        layer = layer.layers[0]
    if isinstance(layer, nn.TransformerEncoderLayer):
        return f"{type(layer).__name__}(d_model={layer.self_attn.embed_dim}, batch_first={layer.self_attn.batch_first})"
    return f"{type(layer).__name__}({layer.extra_repr()})"


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")
