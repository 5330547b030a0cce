"""What the rules know about frameworks: canonical qualified names, grouped by meaning.

Every alias a user can write (`nn.Sigmoid`, `torch.nn.modules.activation.Sigmoid`, `F.sigmoid`,
`torch.special.expit`) is canonicalised here once, so facts and checks compare plain strings.
"""

from __future__ import annotations

NN = "torch.nn"
F = "torch.nn.functional"

# Module classes, by their role in a chain of layers.
SATURATING_MODULES = {f"{NN}.{n}": n for n in ("Sigmoid", "Tanh", "Hardsigmoid", "Hardtanh", "Softsign")}
NORM_MODULES = {
    f"{NN}.{n}"
    for n in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
        "LazyBatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
        "LocalResponseNorm", "RMSNorm",
    )
}
WEIGHT_MODULES = {
    f"{NN}.{n}"
    for n in (
        "Linear", "LazyLinear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
        "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    )
}
RECURRENT_MODULES = {f"{NN}.{n}" for n in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")}
ATTENTION_MODULES = {
    f"{NN}.{n}"
    for n in (
        "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
        "TransformerEncoderLayer", "TransformerDecoderLayer",
    )
}
CONTAINER_MODULES = {f"{NN}.{n}" for n in ("Sequential", "ModuleList", "ModuleDict")}
MODULE_BASES = {f"{NN}.Module", "lightning.LightningModule", "pytorch_lightning.LightningModule",
                "lightning.pytorch.LightningModule", "pytorch_lightning.core.LightningModule",
                "lightning.pytorch.core.LightningModule"}

# Functional activations (torch.sigmoid(x), F.tanh(x)); x.sigmoid() / x.tanh() are methods on tensors.
SATURATING_FUNCTIONS = {
    "torch.sigmoid": "sigmoid", f"{F}.sigmoid": "sigmoid", "torch.special.expit": "sigmoid",
    "torch.tanh": "tanh", f"{F}.tanh": "tanh", f"{F}.hardsigmoid": "hardsigmoid", f"{F}.hardtanh": "hardtanh",
    f"{F}.softsign": "softsign",
}
SATURATING_METHODS = {"sigmoid": "sigmoid", "tanh": "tanh", "sigmoid_": "sigmoid", "tanh_": "tanh"}
NORM_FUNCTIONS = {f"{F}.{n}" for n in ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm")}

OPTIMIZERS = {
    f"torch.optim.{n}": n
    for n in ("SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop",
              "Rprop", "SparseAdam", "LBFGS")
}
# Learning rates an optimizer uses when the script gives none.
DEFAULT_LR = {"SGD": 1e-3, "Adam": 1e-3, "AdamW": 1e-3, "Adagrad": 1e-2, "Adadelta": 1.0, "Adamax": 2e-3,
              "ASGD": 1e-2, "NAdam": 2e-3, "RAdam": 1e-3, "RMSprop": 1e-2, "Rprop": 1e-2, "SparseAdam": 1e-3,
              "LBFGS": 1.0}

SCHEDULER_MODULES = ("torch.optim.lr_scheduler.", "transformers.optimization.", "timm.scheduler.")
SCHEDULER_FUNCTIONS = {
    "transformers.get_scheduler", "transformers.get_linear_schedule_with_warmup",
    "transformers.get_cosine_schedule_with_warmup", "transformers.get_constant_schedule_with_warmup",
    "transformers.get_cosine_with_hard_restarts_schedule_with_warmup",
    "transformers.get_polynomial_decay_schedule_with_warmup", "transformers.get_inverse_sqrt_schedule",
    "transformers.get_wsd_schedule",
}

ARGPARSE_PARSERS = {"argparse.ArgumentParser"}

# Short module aliases that resolve to the same objects (torch.nn.modules.activation.Sigmoid is nn.Sigmoid).
_SUBMODULE_ALIASES = (
    ("torch.nn.modules.activation.", f"{NN}."),
    ("torch.nn.modules.linear.", f"{NN}."),
    ("torch.nn.modules.conv.", f"{NN}."),
    ("torch.nn.modules.batchnorm.", f"{NN}."),
    ("torch.nn.modules.normalization.", f"{NN}."),
    ("torch.nn.modules.container.", f"{NN}."),
    ("torch.nn.modules.rnn.", f"{NN}."),
    ("torch.nn.modules.module.", f"{NN}."),
    ("torch.nn.modules.transformer.", f"{NN}."),
    ("torch.optim.sgd.", "torch.optim."),
    ("torch.optim.adam.", "torch.optim."),
    ("torch.optim.adamw.", "torch.optim."),
    ("torch.optim.optimizer.", "torch.optim."),
    ("transformers.optimization.get_", "transformers.get_"),
    ("pytorch_lightning.core.module.", "pytorch_lightning."),
    ("lightning.pytorch.core.module.", "lightning.pytorch."),
)


def canonical(qualname: str) -> str:
    for prefix, replacement in _SUBMODULE_ALIASES:
        if qualname.startswith(prefix):
            return replacement + qualname[len(prefix):]
    return qualname


def is_scheduler(qualname: str) -> bool:
    return qualname.startswith(SCHEDULER_MODULES) or qualname in SCHEDULER_FUNCTIONS


def _members(*groups) -> dict[str, frozenset[str]]:
    members: dict[str, set[str]] = {}
    for group in groups:
        for qualname in group:
            module, _, name = qualname.rpartition(".")
            members.setdefault(module, set()).add(name)
    return {module: frozenset(names) for module, names in members.items()}


# `from torch.nn import *` binds only names we know the module really has (conservative star imports).
KNOWN_MEMBERS = _members(
    SATURATING_MODULES, NORM_MODULES, WEIGHT_MODULES, RECURRENT_MODULES, ATTENTION_MODULES, CONTAINER_MODULES,
    SATURATING_FUNCTIONS, NORM_FUNCTIONS, OPTIMIZERS, SCHEDULER_FUNCTIONS, {f"{NN}.Module"},
)
