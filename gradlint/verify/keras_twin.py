"""The PyTorch twin of a Keras model, built from keras_models.py's layer spec (child side: imports torch).

Faithful where gradients depend on it: Keras's tensor layout (channels last, batch-first sequences),
its padding rules, its default initializers drawn on Keras's own kernel shapes (glorot-uniform
kernels, orthogonal recurrent kernels, zero biases, LSTM forget-gate bias 1, BN gamma 1 / beta 0,
embeddings uniform ±0.05) and its epsilons (BatchNormalization and LayerNormalization 1e-3). Layers
are built the way Keras builds them: on the shape of the tensor that reaches them. Each parameter
sits directly on its layer's module, so per-layer norms are per Keras layer, named as Keras names
them (dense, dense_1, lstm...). No user code runs.
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F

from gradlint.verify.keras_init import keras_init

ACTIVATIONS = {
    "linear": lambda x: x, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "softmax": lambda x: F.softmax(x, dim=-1), "log_softmax": lambda x: F.log_softmax(x, dim=-1), "elu": F.elu,
    "selu": F.selu, "softplus": F.softplus, "softsign": F.softsign, "swish": F.silu, "silu": F.silu,
    "gelu": F.gelu, "relu6": F.relu6, "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "exponential": torch.exp,
    "hard_sigmoid": F.hardsigmoid, "mish": F.mish, "hard_silu": F.hardswish, "hard_swish": F.hardswish,
}


class TwinError(Exception):
    """The twin cannot be built; the message names the layer and why, in one line."""


def _parameter(value: torch.Tensor, trainable: bool = True) -> nn.Parameter:
    return nn.Parameter(value.contiguous(), requires_grad=trainable)


def _tuple(value, rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


def _expect(kind: str, shape: tuple, dims: int, layout: str) -> None:
    if len(shape) + 1 != dims:
        raise TwinError(f"{kind} expects a {dims}-D input {layout}, got {len(shape) + 1}-D")


# -- layers ---------------------------------------------------------------------------------------
class Dense(nn.Module):
    def __init__(self, args: dict, shape: tuple):
        super().__init__()
        units, fan_in = args["units"], shape[-1]
        self.weight = _parameter(keras_init(args.get("kernel_initializer"), (fan_in, units)).T)
        self.bias = _parameter(keras_init(args.get("bias_initializer", {"name": "zeros"}), (units,))) \
            if args.get("use_bias", True) else None
        self.act = ACTIVATIONS[args.get("activation") or "linear"]

    def forward(self, x):
        return self.act(F.linear(x, self.weight, self.bias))


class Conv(nn.Module):
    """Conv1D/Conv2D on channels-last tensors, with Keras's 'same' (extra padding after) and 'causal'."""

    def __init__(self, args: dict, shape: tuple, rank: int):
        super().__init__()
        _expect(f"Conv{rank}D", shape, rank + 2, "(batch, ..., channels)")
        self.rank, self.kernel = rank, _tuple(args["kernel_size"], rank)
        self.stride, self.dilation = _tuple(args.get("strides", 1), rank), _tuple(args.get("dilation_rate", 1), rank)
        self.groups, self.padding = args.get("groups", 1), args.get("padding", "valid")
        keras_shape = (*self.kernel, shape[-1] // self.groups, args["filters"])
        kernel = keras_init(args.get("kernel_initializer"), keras_shape)
        self.weight = _parameter(kernel.permute(rank + 1, rank, *range(rank)))  # (out, in, *kernel)
        self.bias = _parameter(keras_init(args.get("bias_initializer", {"name": "zeros"}), (args["filters"],))) \
            if args.get("use_bias", True) else None
        self.act = ACTIVATIONS[args.get("activation") or "linear"]

    def forward(self, x):
        x = x.movedim(-1, 1)
        pads: list[int] = []
        for i in reversed(range(self.rank)):  # F.pad lists the last dimension first
            k, s, d, size = self.kernel[i], self.stride[i], self.dilation[i], x.shape[2 + i]
            if self.padding == "same":
                total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
                pads += [total // 2, total - total // 2]
            else:
                pads += [(k - 1) * d if self.padding == "causal" else 0, 0]
        x = F.pad(x, pads) if any(pads) else x
        conv = F.conv1d if self.rank == 1 else F.conv2d
        return self.act(conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups).movedim(1, -1))


def _recurrent(base: type, gates: int):
    class Recurrent(base):
        """Keras's recurrent layer: batch-first, the last output unless return_sequences; one bias (GRU: two)."""

        def __init__(self, args: dict, shape: tuple):
            _expect(base.__name__, shape, 3, "(batch, time, features)")
            units, use_bias = args["units"], args.get("use_bias", True)
            extra = {"nonlinearity": args.get("activation", "tanh")} if base is nn.RNN else {}
            super().__init__(shape[-1], units, batch_first=True, bias=use_bias, **extra)
            self.return_sequences = bool(args.get("return_sequences", False))
            order = _gru_order if base is nn.GRU else (lambda t, u: t)
            kernel = keras_init(args.get("kernel_initializer"), (shape[-1], gates * units)).T
            recurrent = keras_init(args.get("recurrent_initializer", {"name": "orthogonal"}), (units, gates * units)).T
            with torch.no_grad():
                self.weight_ih_l0.copy_(order(kernel, units))
                self.weight_hh_l0.copy_(order(recurrent, units))
                if use_bias:
                    bias_init = args.get("bias_initializer", {"name": "zeros"})
                    if base is nn.GRU:  # reset_after: an input bias and a recurrent bias, as in torch
                        self.bias_ih_l0.copy_(order(keras_init(bias_init, (gates * units,)), units))
                        self.bias_hh_l0.copy_(order(keras_init(bias_init, (gates * units,)), units))
                    else:  # one bias in Keras: the second torch bias stays zero and frozen
                        bias = keras_init(bias_init, (gates * units,))
                        if base is nn.LSTM and args.get("unit_forget_bias", True):
                            bias[units:2 * units] = 1.0
                        self.bias_ih_l0.copy_(bias)
                        self.bias_hh_l0.zero_()
                        self.bias_hh_l0.requires_grad_(False)

        def forward(self, x):
            out, _ = super().forward(x)
            return out if self.return_sequences else out[:, -1]

    return Recurrent


def _gru_order(t: torch.Tensor, units: int) -> torch.Tensor:
    """Keras orders GRU gates (update, reset, new), torch (reset, update, new)."""
    return torch.cat([t[units:2 * units], t[:units], t[2 * units:]])


class BatchNorm(nn.BatchNorm1d):
    """Keras BatchNormalization over the last axis: statistics over every other axis, eps 1e-3."""

    def __init__(self, args: dict, shape: tuple):
        if args.get("axis", -1) not in (-1, len(shape)):
            raise TwinError(f"BatchNormalization(axis={args['axis']}) on a {len(shape) + 1}-D input: "
                            f"only the last axis is translated")
        super().__init__(shape[-1], eps=args.get("epsilon", 1e-3), momentum=1.0 - args.get("momentum", 0.99))
        _affine(self, args, shape[-1])

    def forward(self, x):
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class LayerNorm(nn.LayerNorm):
    def __init__(self, args: dict, shape: tuple):
        super().__init__(shape[-1], eps=args.get("epsilon", 1e-3))
        _affine(self, args, shape[-1])


def _affine(module: nn.Module, args: dict, size: int) -> None:
    with torch.no_grad():
        module.weight.copy_(keras_init(args.get("gamma_initializer", {"name": "ones"}), (size,)))
        module.bias.copy_(keras_init(args.get("beta_initializer", {"name": "zeros"}), (size,)))
        if args.get("center", True) is False:
            module.bias.zero_()
    module.weight.requires_grad_(args.get("scale", True) is not False)
    module.bias.requires_grad_(args.get("center", True) is not False)


class Embedding(nn.Embedding):
    def __init__(self, args: dict, shape: tuple):
        super().__init__(args["input_dim"], args["output_dim"])
        with torch.no_grad():
            self.weight.copy_(keras_init(args.get("embeddings_initializer", {"name": "random_uniform"}),
                                         (args["input_dim"], args["output_dim"])))


class Function(nn.Module):
    """A layer without weights: activation, pooling, flatten."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _pool(args: dict, shape: tuple, rank: int, op: str) -> Function:
    _expect(f"{op}Pooling{rank}D", shape, rank + 2, "(batch, ..., channels)")
    size = _tuple(args.get("pool_size", 2), rank)
    stride = _tuple(args.get("strides") or size, rank)
    fn = {("Max", 1): F.max_pool1d, ("Max", 2): F.max_pool2d, ("Average", 1): F.avg_pool1d,
          ("Average", 2): F.avg_pool2d}[(op, rank)]
    return Function(lambda x: fn(x.movedim(-1, 1), size, stride).movedim(1, -1))


def _global_pool(args: dict, shape: tuple, rank: int, op: str) -> Function:
    _expect(f"Global{op}Pooling{rank}D", shape, rank + 2, "(batch, ..., channels)")
    dims, keep = tuple(range(1, rank + 1)), bool(args.get("keepdims", False))
    return Function(lambda x: x.mean(dims, keepdim=keep) if op == "Average" else x.amax(dims, keepdim=keep))


def _relu(args: dict) -> Function:
    slope, top, threshold = args.get("negative_slope") or 0.0, args.get("max_value"), args.get("threshold") or 0.0

    def relu(x):
        y = torch.where(x >= threshold, x, slope * (x - threshold))
        return y.clamp(max=top) if top is not None else y

    return Function(relu)


FACTORIES = {
    "Dense": Dense, "Conv1D": lambda a, s: Conv(a, s, 1), "Conv2D": lambda a, s: Conv(a, s, 2),
    "SimpleRNN": _recurrent(nn.RNN, 1), "LSTM": _recurrent(nn.LSTM, 4), "GRU": _recurrent(nn.GRU, 3),
    "BatchNormalization": BatchNorm, "LayerNormalization": LayerNorm, "Embedding": Embedding,
    "Activation": lambda a, s: Function(ACTIVATIONS[a.get("activation") or "linear"]),
    "Dropout": lambda a, s: nn.Dropout(a.get("rate", 0.0)),
    "Flatten": lambda a, s: Function(lambda x: x.flatten(1)),
    "ReLU": lambda a, s: _relu(a),
    "LeakyReLU": lambda a, s: Function(lambda x: F.leaky_relu(x, a.get("negative_slope", a.get("alpha", 0.3)))),
    "ELU": lambda a, s: Function(lambda x: F.elu(x, a.get("alpha", 1.0))),
    "Softmax": lambda a, s: Function(ACTIVATIONS["softmax"]),
    **{f"{op}Pooling{r}D": (lambda op, r: lambda a, s: _pool(a, s, r, op))(op, r)
       for op in ("Max", "Average") for r in (1, 2)},
    **{f"Global{op}Pooling{r}D": (lambda op, r: lambda a, s: _global_pool(a, s, r, op))(op, r)
       for op in ("Max", "Average") for r in (1, 2)},
}


def keras_name(kind: str, counts: dict) -> str:
    """Keras's automatic layer names: dense, dense_1, batch_normalization, simple_rnn, ..."""
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", kind)).lower()
    n = counts.get(snake, 0)
    counts[snake] = n + 1
    return snake if n == 0 else f"{snake}_{n}"


def build(spec: dict, sample: torch.Tensor) -> nn.Sequential:
    """The twin, each layer built on the shape of the tensor that reaches it (as Keras builds)."""
    model, counts, x = nn.Sequential(), {}, sample
    for layer in spec["layers"]:
        try:
            module = FACTORIES[layer["kind"]](layer["args"], tuple(x.shape[1:]))
            with torch.no_grad():
                x = module(x)
        except TwinError as exc:
            raise TwinError(f"{layer['label']}: {exc}") from None
        except (RuntimeError, ValueError, IndexError, KeyError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TwinError(f"{layer['label']} on input {list(x.shape)}: {message[:160]}") from None
        model.add_module(keras_name(layer["kind"], counts), module)
    return model


def make_input(spec: dict, override: dict, batch: int, device, key: str) -> tuple[torch.Tensor, str]:
    """(input, description): the config's input-shape (batch included), else the script's Keras input shape."""
    first = spec["layers"][0]
    integer = first["kind"] == "Embedding" or spec.get("input_dtype") == "int64"
    high = first["args"]["input_dim"] if first["kind"] == "Embedding" else 2
    if override.get("input_shape"):
        shape, where = list(override["input_shape"]), f"from {key}"
        integer = override.get("input_dtype", "int64" if integer else "float32").startswith("int")
        high = override.get("input_high") or high
    else:
        free = 32 if first["kind"] == "Conv2D" else 16
        shape, where = [batch, *(free if d is None else d for d in spec["input_shape"])], "the Keras input shape"
        if None in spec["input_shape"]:
            where += f", free dimensions {free}"
    if integer:
        return torch.randint(0, high, tuple(shape), device=device), f"int64{shape} ({where})"
    return torch.randn(tuple(shape), device=device), f"float32{shape} ({where})"
