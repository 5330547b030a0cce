"""An input batch for a model, child side (imports torch).

In order: the config's `inputs` (one shape and dtype per forward argument) or input-shape/input-dtype,
Lightning's `example_input_array`, else a shape inferred from the first layer that fixes one
(activations, dropout and flatten are looked through). An inferred input is checked by one forward
pass without gradients: sizes the script names (datasets.MNIST → 28×28, Resize(224)) come first, then
a few common sizes are probed when a flatten size fixes the input, and the output must keep the
batch dimension (a `view(-1, K)` that folds the batch is caught). A forward with several inputs gets
them from the training loop's call (`model(x, None)`), else each extra argument is tried as None (a
hidden state), as a tensor like the first, then as an even split of the first layer's width
(`torch.cat([state, action], 1)`).
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from gradlint.verify.measure import _first_tensor

SEQUENCE_LENGTH = 16
SPATIAL = {1: (32,), 2: (32, 32), 3: (16, 16, 16)}  # Conv1d/2d/3d inputs; 3-D kept small for CPU


class InputError(Exception):
    """No input could be made; the message says why and which config key to set."""


def make_input(model: nn.Module, override: dict, batch: int, device: torch.device, key: str):
    """(input, description); several inputs come as a tuple. `override` holds input_shape / input_dtype /
    input_high / inputs from the config, and what the script says (discover.py): image_size, call_args."""
    if override.get("inputs"):
        return _configured_inputs(model, override, device, key)
    shape, dtype = override.get("input_shape"), override.get("input_dtype")
    if shape:
        dtype = getattr(torch, dtype or "float32")
        return _tensor(shape, dtype, override.get("input_high") or _vocabulary(model) or 2, device), \
            f"{_dtype_name(dtype)}{list(shape)} (from {key})"
    example = getattr(model, "example_input_array", None)
    if example is not None:
        return _to(example, device), "example_input_array"
    layer = _first_layer(model)
    arity, given = _arity(model, override.get("call_args"))
    wanted = "inputs" if arity > 1 else "input-shape"
    if layer is None:
        raise InputError(f"cannot infer an input from the model's first layer: set {wanted} in {key}")
    shape, dtype, high = _shape_for(layer, batch)
    if dtype is not None and override.get("input_dtype"):
        dtype = getattr(torch, override["input_dtype"])
    dtype = dtype or torch.float32
    if arity > 1 and dtype.is_floating_point is False:
        high = min((m.num_embeddings for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))),
                   default=high)  # token inputs of several embeddings (source and target vocabularies)
    described = f"inferred from {_describe(layer)}"
    found = _probe(model, layer, shape, dtype, high or 2, batch, device, arity, given, override.get("image_size"))
    if found is None:
        folded = _folded(model, layer, [(tuple(shape), dtype, high or 2)], batch, device) if arity == 1 else None
        if folded is not None:
            raise InputError(f"forward on {_dtype_name(dtype)}{list(shape)} ({described}) returns a batch of "
                             f"{folded}, not {batch} (a view or reshape that folds the batch?): set input-shape in {key}")
        if arity > 1:
            # A package the environment lacks says more than a shape mismatch of the first guess.
            missing = [f for f in _FAILURES if "ModuleNotFoundError" in f or "is not available" in f]
            first = f" (a try raised {(missing or _FAILURES)[0]})" if _FAILURES else ""
            raise InputError(f"cannot infer the {arity} inputs of forward from the first layer "
                             f"({_describe(layer)}){first}: set inputs in {key}")
        x = _tensor(shape, dtype, high or 2, device)
        return x, f"{_dtype_name(x.dtype)}{list(shape)} ({described})"
    plan, why = found
    x = _materialise(plan, device)
    if why:
        described += f"; {why}"
    return x, f"{_describe_plan(plan)} ({described})"


class CalledMethods(nn.Module):
    """A model without forward (an RL actor-critic), measured through the methods the script calls on it:
    forward runs each method (or submodule) on its own inputs and returns every float output that carries
    gradient, flattened into one vector. The model's own children and parameters are this module's, so
    names stay the model's (`pi.mu_net.0.weight`)."""

    def __init__(self, model: nn.Module, names: list[str]) -> None:
        super().__init__()
        self._modules.update(model._modules)
        self._parameters.update(model._parameters)
        self._buffers.update(model._buffers)
        object.__setattr__(self, "wrapped", model)
        self.names = list(names)

    def forward(self, *per_method):
        outputs = []
        for name, args in zip(self.names, per_method):
            _float_outputs(getattr(self.wrapped, name)(*args), outputs)
        if not outputs:
            raise InputError(f"none of {', '.join(self.names)} returns a tensor that carries gradient")
        return torch.cat([t.reshape(-1).float() for t in outputs])


def _float_outputs(value, found: list) -> None:
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.requires_grad:
            found.append(value)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _float_outputs(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _float_outputs(item, found)
    else:
        for attribute in ("mean", "logits", "loc"):  # a torch.distributions object: its differentiable part
            item = getattr(value, attribute, None) if hasattr(type(value), "log_prob") else None
            if isinstance(item, torch.Tensor):
                _float_outputs(item, found)
                break


def method_inputs(model: nn.Module, methods: list[dict], override: dict, batch: int, device, key: str):
    """(CalledMethods, one argument tuple per method, description): each method's input made like a forward's,
    from the first layer of the submodule it is (`ac.pi`) or of the whole model (`policy.act`), with the
    kinds of arguments the script's call passes (`ac.q(obs, act)`)."""
    names, values, parts = [], [], []
    hints = {k: v for k, v in override.items() if k == "image_size"}
    for method in methods:
        name = method["name"]
        target = getattr(model, name, None)
        if not callable(target):
            raise InputError(f"the model has no method or submodule {name}: set methods in {key}")
        shim = nn.Module()
        shim.inner = target if isinstance(target, nn.Module) else model
        object.__setattr__(shim, "forward", target)
        x, described = make_input(shim, {**hints, "call_args": method.get("call_args")}, batch, device, key)
        names.append(name)
        values.append(x if isinstance(x, tuple) else (x,))
        parts.append(f"{name}({described})")
    return CalledMethods(model, names), tuple(values), "; ".join(parts)


def _configured_inputs(model, override: dict, device, key: str):
    """`inputs = [{ shape = [16, 10] }, { shape = [16, 4], dtype = "int64", high = 7 }, {}]`: {} is None."""
    values, parts = [], []
    for item in override["inputs"]:
        if not item or not item.get("shape"):
            values.append(None)
            parts.append("None")
            continue
        dtype = getattr(torch, item.get("dtype") or "float32")
        high = item.get("high") or _vocabulary(model) or 2
        if item.get("list"):  # `forward(styles)` iterates a list of tensors
            values.append([_tensor(item["shape"], dtype, high, device) for _ in range(item["list"])])
            parts.append(f"[{item['list']} x {_dtype_name(dtype)}{list(item['shape'])}]")
            continue
        values.append(_tensor(item["shape"], dtype, high, device))
        parts.append(f"{_dtype_name(dtype)}{list(item['shape'])}")
    text = f"{', '.join(parts)} (from inputs in {key})"
    return (values[0], text) if len(values) == 1 else (tuple(values), text)


_HIDDEN = ("h", "hx", "h0", "c0", "hidden", "hiddens", "state", "states", "hidden_state", "hc", "memory", "mems",
           "mask", "attn_mask", "src_mask", "tgt_mask", "lengths")


def _is_hidden(name: str) -> bool:
    """A recurrent state or an optional mask by its name (`enc_hidden`, `h0`, `src_mask`)."""
    name = name.lower()
    return name in _HIDDEN or any(part in name for part in ("hidden", "mask", "memory")) or name.endswith(("_h", "_state"))


def _arity(model: nn.Module, call_args) -> tuple[int, list[str] | None]:
    """How many positional inputs forward takes: the training loop's call when the script has one
    (["tensor", "none"] from `model(x, None)`), else forward's parameters without a default."""
    if call_args:
        return len(call_args), list(call_args)
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return 1, None
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return max(1, len(required)), None


def _probe(model, layer, shape, dtype, high, batch, device, arity, given, image_size):
    """(plan, why) for the first input that runs forward and keeps the batch dimension; None if none does.
    A plan is a list of (shape, dtype, high) or None per argument. The random state is put back after."""
    names = _forward_names(model, arity)
    _FAILURES.clear()
    shapes = [(tuple(shape), "")]
    if _spatial_dims(layer) == 2:
        sizes = ([(tuple(image_size[-2:]), f"{image_size[-2]}x{image_size[-1]} from the script")] if image_size else [])
        sizes += [(size, f"{size[0]}x{size[1]} probed") for size in _IMAGE_SIZES]
        seen = set()
        shapes = []
        for spatial, why in sizes:
            if spatial not in seen:
                seen.add(spatial)
                shapes.append(((*shape[:2], *spatial), why if spatial != tuple(shape[2:]) else ""))
    elif isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        shapes += [((batch, t), f"sequence length {t} probed") for t in (8, 5, 4, 3, 2, 1, 6, 10, 12, 32, 64, 128, 256)]
    seq_first = _sequence_first(layer)
    state = torch.random.get_rng_state()
    cuda_state = torch.cuda.get_rng_state_all() if device.type == "cuda" else None
    try:
        for first, why in shapes:
            for plan in _plans(first, dtype, high, arity, given, names):
                if _forward_batch(model, plan, batch, device, seq_first) == batch:
                    return plan, why
        # Last: a forward written for one sample at a time (`x.view(1, -1)`, `torch.empty([T, 1, C])`),
        # as the tutorial scripts that train it feed it. Said in the description.
        for first, why in shapes:
            for single in _one_sample(first, seq_first, isinstance(layer, (nn.Embedding, nn.EmbeddingBag))):
                for plan in _plans(single, dtype, high, arity, given, names):
                    if _forward_batch(model, plan, 1, device, seq_first) == 1:
                        single = "one sample: forward does not take a batch"
                        if any(_OUT_OF_MEMORY in f or f.startswith("MemoryError") for f in _FAILURES):
                            single = (f"one sample: a batch of {batch} ran out of memory (set batch-size or "
                                      "memory-limit-mb in [tool.gradlint.verify])")
                        return plan, ", ".join(filter(None, (why, single)))
        return None
    finally:
        torch.random.set_rng_state(state)
        if cuda_state is not None:
            torch.cuda.set_rng_state_all(cuda_state)


def _one_sample(shape: tuple, seq_first: bool, tokens: bool) -> list[tuple]:
    """The shape with a batch of 1 where the batch would be; token inputs first without a batch dimension
    (`sum(embed(context), 0, keepdim=True)` sums the context: given (1, T) it would sum nothing)."""
    shapes = [(1, *shape[1:])]
    if seq_first and len(shape) > 2:
        shapes.insert(0, (shape[0], 1, *shape[2:]))
    if tokens:
        shapes.insert(0, tuple(shape[1:]))
    return shapes


# Common image sizes, most frequent first: CIFAR, MNIST, 64-pixel GANs, ImageNet, Atari, STL, the
# 40x80 screen of the PyTorch DQN tutorial.
_IMAGE_SIZES = ((32, 32), (28, 28), (64, 64), (224, 224), (84, 84), (96, 96), (16, 16), (128, 128), (40, 80),
                (256, 256), (299, 299))


def _forward_names(model, arity: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()]
    except (TypeError, ValueError):
        params = []
    return (params + [""] * arity)[:arity]


def _plans(first, dtype, high, arity, given, names):
    one = (first, dtype, high)
    if arity == 1:
        yield [one]
        return
    if given:
        yield [one] + [None if g == "none" else one for g in given[1:]]
    yield [one] + [None] * (arity - 1)
    yield [one] + [None if _is_hidden(n) else one for n in names[1:]]
    if _is_hidden(names[0]) and not all(map(_is_hidden, names)):
        yield [None if _is_hidden(n) else one for n in names]  # forward(hidden, x)
    yield [one] * arity
    width = first[-1]
    if dtype.is_floating_point and width % arity == 0:
        part = (*first[:-1], width // arity)
        yield [(part, dtype, high)] * arity


def _materialise(plan, device):
    values = [None if p is None else _tensor(p[0], p[1], p[2], device) for p in plan]
    return values[0] if len(values) == 1 else tuple(values)


def _describe_plan(plan) -> str:
    return ", ".join("None" if p is None else f"{_dtype_name(p[1])}{list(p[0])}" for p in plan)


def _sequence_first(layer) -> bool:
    """Inputs (T, B, ...): the output's batch may be its second dimension."""
    if isinstance(layer, nn.TransformerEncoder):
        layer = layer.layers[0]
    if isinstance(layer, nn.RNNBase):
        return not layer.batch_first
    if isinstance(layer, nn.TransformerEncoderLayer):
        return not layer.self_attn.batch_first
    return False


def _is_sequence(model) -> bool:
    return any(isinstance(m, _SEQUENCE_LAYERS) for m in model.modules())


def _folded(model, layer, plan, batch: int, device) -> int | None:
    """The output's batch size when forward runs but does not keep the input's; None otherwise."""
    state = torch.random.get_rng_state()
    try:
        size = _forward_batch(model, plan, batch, device, _sequence_first(layer))
    finally:
        torch.random.set_rng_state(state)
    return size if size not in (None, batch) else None


_SEQUENCE_LAYERS = (nn.Embedding, nn.EmbeddingBag, nn.RNNBase, nn.TransformerEncoder, nn.TransformerEncoderLayer)


_FAILURES: list[str] = []  # why each forward of the current probe failed, first first
_OUT_OF_MEMORY = "can't allocate memory"  # torch's CPU allocator under the address-space cap


def _forward_batch(model, plan, batch: int, device, seq_first: bool) -> int | None:
    """The batch size of the output (`batch` when it cannot be told: no tensor, a scalar, or a sequence
    model's batch × time rows, `logits.view(-1, vocab)`); None if forward fails."""
    x = _materialise(plan, device)
    try:
        with torch.no_grad():
            out = model(*x) if isinstance(x, tuple) else model(x)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        _FAILURES.append(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
        return None
    tensor = _first_tensor(out)
    if tensor is None or tensor.dim() == 0:
        return batch  # not a tensor: measure.py says so; a scalar keeps no batch to check
    if tensor.shape[0] == batch or (seq_first and tensor.dim() > 1 and tensor.shape[1] == batch):
        return batch
    first = next((p for p in plan if p is not None), None)
    if first is not None and len(first[0]) >= 2 and tensor.shape[0] == first[0][0] * first[0][1] \
            and _is_sequence(model):
        return batch
    return int(tensor.shape[0])


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
            # A layer of the script's own (StyleGAN's EqualLinear/EqualConv2d): a 2-D weight (out, in) reads
            # as a Linear's, a 4-D one (out, in, kh, kw) as a Conv2d's; the probe checks the guess.
            # Any other weight layer: guessing would mislead.
            return module if _own_weight(module) is not None else None
    return None


def _own_weight(layer: nn.Module) -> torch.Tensor | None:
    """The weight of a layer that is not torch's own, when its shape reads as a Linear's or a Conv2d's."""
    weight = layer._parameters.get("weight")
    if isinstance(layer, _KNOWN) or not isinstance(weight, torch.Tensor) or weight.dim() not in (2, 4):
        return None
    return weight


def _spatial_dims(layer: nn.Module) -> int:
    if isinstance(layer, nn.modules.conv._ConvNd):
        return len(layer.kernel_size)
    weight = _own_weight(layer)
    return 2 if weight is not None and weight.dim() == 4 else 0


def _shape_for(layer: nn.Module, b: int):
    """(shape, dtype or None, integer upper bound or None)."""
    t = SEQUENCE_LENGTH
    weight = _own_weight(layer)
    if weight is not None:
        return ((b, weight.shape[1]) if weight.dim() == 2 else (b, weight.shape[1], *SPATIAL[2])), None, None
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
    weight = _own_weight(layer)
    if weight is not None:
        return f"{type(layer).__name__} with a weight of shape {list(weight.shape)}"
    if isinstance(layer, nn.TransformerEncoder):
        layer = layer.layers[0]
    if isinstance(layer, nn.TransformerEncoderLayer):
        return f"{type(layer).__name__}(d_model={layer.self_attn.embed_dim}, batch_first={layer.self_attn.batch_first})"
    return f"{type(layer).__name__}({layer.extra_repr()})"


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")
