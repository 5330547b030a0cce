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
    # Keras: tf.keras, tensorflow.keras, standalone keras 2/3 and tf_keras are one vocabulary.
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),
    ("tensorflow.optimizers.", "keras.optimizers."),
    ("keras.optimizers.legacy.", "keras.optimizers."),
    ("keras.optimizers.experimental.", "keras.optimizers."),
    ("keras.layers.core.", "keras.layers."),
    ("keras.models.Sequential", "keras.Sequential"),
    ("keras.models.Model", "keras.Model"),
    ("tensorflow.math.", "tensorflow."),
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

# -- training steps ----------------------------------------------------------------------------------
GRAD_SCALERS = {"torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.GradScaler", "torch.cpu.amp.GradScaler",
                "torch.amp.grad_scaler.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler"}
CLIP_FUNCTIONS = {
    "torch.nn.utils.clip_grad_norm_": "norm", "torch.nn.utils.clip_grad_norm": "norm",
    "torch.nn.utils.clip_grad.clip_grad_norm_": "norm", "torch.nn.utils.clip_grad_value_": "value",
    "torch.nn.utils.clip_grad.clip_grad_value_": "value", "torch.nn.utils.clip_grads_with_norm_": "norm",
}
# Methods of framework objects that clip (and, for Accelerate/Fabric, unscale first on their own).
CLIP_METHODS = {"clip_grad_norm_": "norm", "clip_grad_value_": "value", "clip_gradients": "norm"}
AUTOCAST = {"torch.autocast", "torch.cuda.amp.autocast", "torch.amp.autocast", "torch.cpu.amp.autocast"}
FLOAT16 = {"torch.float16", "torch.half"}
BFLOAT16 = {"torch.bfloat16"}
# Frameworks that clip by configuration: the keyword that sets it on their constructor.
CLIP_CONFIG = {
    "lightning.Trainer": "gradient_clip_val", "pytorch_lightning.Trainer": "gradient_clip_val",
    "lightning.pytorch.Trainer": "gradient_clip_val", "transformers.TrainingArguments": "max_grad_norm",
    "transformers.Seq2SeqTrainingArguments": "max_grad_norm", "transformers.Trainer": None,
    "transformers.Seq2SeqTrainer": None, "deepspeed.initialize": None, "trl.SFTConfig": "max_grad_norm",
    "accelerate.DeepSpeedPlugin": "gradient_clipping", "accelerate.utils.DeepSpeedPlugin": "gradient_clipping",
    "accelerate.utils.dataclasses.DeepSpeedPlugin": "gradient_clipping",
    # A config file owns optimizer and clipping (Megatron-LM's --clip-grad defaults to 1.0).
    "accelerate.utils.DummyOptim": None, "accelerate.utils.MegatronLMDummyScheduler": None,
}
HF_ATTENTION_PREFIXES = ("transformers.AutoModel", "transformers.GPT", "transformers.Bert", "transformers.T5",
                         "transformers.Llama", "transformers.Roberta", "transformers.BertModel")


# ---------------------------------------------------------------------------------------------------
# Initialisation, probabilities, losses and singular operations (GL301, GL302, GL401, GL402, GL403).
# ---------------------------------------------------------------------------------------------------
INIT = "torch.nn.init"

# nn.init functions by what they write; the deprecated spellings without "_" do the same.
INIT_FUNCTIONS = {
    f"{INIT}.{name}{suffix}": name
    for name in ("normal", "uniform", "trunc_normal", "constant", "ones", "zeros", "eye", "dirac",
                 "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "orthogonal", "sparse")
    for suffix in ("_", "")
    if not (name == "trunc_normal" and suffix == "")
}
# Tensor methods that overwrite a tensor in place with random or constant values.
INIT_METHODS = {"normal_": "normal", "uniform_": "uniform", "fill_": "constant", "zero_": "zeros"}
# Defaults a reader must know: nn.init.normal_ draws N(0, 1); uniform_ draws U(0, 1).
INIT_DEFAULTS = {"normal": {"mean": 0.0, "std": 1.0}, "trunc_normal": {"mean": 0.0, "std": 1.0},
                 "uniform": {"a": 0.0, "b": 1.0}}
RANDOM_TENSORS = {"torch.randn": "torch.randn", "torch.rand": "torch.rand"}
CONSTANT_TENSORS = {"torch.ones": 1.0, "torch.full": None}
PARAMETER = f"{NN}.Parameter"
EMBEDDING_MODULES = {f"{NN}.Embedding", f"{NN}.EmbeddingBag"}

# What produces a probability: softmax over classes, sigmoid per unit.
SOFTMAX_FUNCTIONS = {"torch.softmax", f"{F}.softmax", "torch.special.softmax"}
LOG_SOFTMAX_FUNCTIONS = {"torch.log_softmax", f"{F}.log_softmax", "torch.special.log_softmax"}
SIGMOID_FUNCTIONS = {"torch.sigmoid", f"{F}.sigmoid", "torch.special.expit"}
SOFTMAX_MODULES = {f"{NN}.Softmax"}
SIGMOID_MODULES = {f"{NN}.Sigmoid"}
LOG_SOFTMAX_MODULES = {f"{NN}.LogSoftmax"}
LOG_SIGMOID_MODULES = {f"{NN}.LogSigmoid"}
LOG_FUNCTIONS = {"torch.log": "torch.log", "torch.log2": "torch.log2", "torch.log10": "torch.log10",
                 "torch.special.log": "torch.log"}
LOG_METHODS = {"log", "log2", "log10"}

# Non-negative quantities that are exactly zero on part of their domain.
RELU_FUNCTIONS = {"torch.relu", f"{F}.relu", f"{F}.relu6"}
ABS_FUNCTIONS = {"torch.abs", "torch.absolute"}
SQUARE_FUNCTIONS = {"torch.square"}
SUM_FUNCTIONS = {"torch.sum", "torch.mean"}
VARIANCE_FUNCTIONS = {"torch.var": "variance", "torch.std": "standard deviation"}
VARIANCE_METHODS = {"var": "variance", "std": "standard deviation"}
TENSOR_NORM_FUNCTIONS = {"torch.norm", "torch.linalg.norm", "torch.linalg.vector_norm", "torch.functional.norm"}
SQRT_FUNCTIONS = {"torch.sqrt"}

# Losses by what they expect as input.
LOSS_CLASSES = {
    f"{NN}.BCELoss": "BCELoss", f"{NN}.BCEWithLogitsLoss": "BCEWithLogitsLoss",
    f"{NN}.CrossEntropyLoss": "CrossEntropyLoss", f"{NN}.NLLLoss": "NLLLoss",
}
# skorch's nets take the module and the criterion *class*, and apply the criterion to the module's output
# themselves. A classifier's default NLLLoss is applied to the log of the output (it expects probabilities);
# the binary classifier's default BCEWithLogitsLoss expects logits.
SKORCH_NETS = {
    "skorch.NeuralNet": None, "skorch.net.NeuralNet": None, "skorch.NeuralNetRegressor": None,
    "skorch.NeuralNetClassifier": None, "skorch.classifier.NeuralNetClassifier": None,
    "skorch.NeuralNetBinaryClassifier": "BCEWithLogitsLoss",
    "skorch.classifier.NeuralNetBinaryClassifier": "BCEWithLogitsLoss",
    "ray_skorch.RayTrainNeuralNet": None,
}
LOSS_FUNCTIONS = {
    f"{F}.binary_cross_entropy": "BCELoss", f"{F}.binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
    f"{F}.cross_entropy": "CrossEntropyLoss", f"{F}.nll_loss": "NLLLoss",
}

_RULE_MEMBERS = _members(
    INIT_FUNCTIONS, SOFTMAX_FUNCTIONS, LOG_SOFTMAX_FUNCTIONS, SIGMOID_FUNCTIONS, SOFTMAX_MODULES, LOSS_CLASSES,
    LOSS_FUNCTIONS, EMBEDDING_MODULES, {PARAMETER},
)
KNOWN_MEMBERS = {
    module: KNOWN_MEMBERS.get(module, frozenset()) | _RULE_MEMBERS.get(module, frozenset())
    for module in {*KNOWN_MEMBERS, *_RULE_MEMBERS}
}

# Where these classes live in torch's own package tree (torch.nn.modules.loss.BCELoss is nn.BCELoss).
_SUBMODULE_ALIASES = (
    *_SUBMODULE_ALIASES,
    ("torch.nn.modules.loss.", f"{NN}."),
    ("torch.nn.modules.sparse.", f"{NN}."),
    ("torch.nn.parameter.", f"{NN}."),
)
