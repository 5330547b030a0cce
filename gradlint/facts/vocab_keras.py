"""The Keras / TensorFlow vocabulary, canonicalised to `keras.*` (see vocab.canonical)."""

from __future__ import annotations

L = "keras.layers"

WEIGHT_LAYERS = {
    f"{L}.{n}"
    for n in ("Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
              "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "EinsumDense")
}
NORM_LAYERS = {f"{L}.{n}" for n in ("BatchNormalization", "LayerNormalization", "GroupNormalization",
                                    "UnitNormalization", "SpectralNormalization")}
RECURRENT_LAYERS = {f"{L}.{n}" for n in ("SimpleRNN", "LSTM", "GRU", "ConvLSTM2D", "Bidirectional", "RNN",
                                         "LSTMCell", "GRUCell", "SimpleRNNCell")}
# Gated recurrent layers (GL210's, under a modest adaptive lr), and the wrappers that hold one.
GATED_RECURRENT_LAYERS = {f"{L}.{n}" for n in ("LSTM", "GRU", "LSTMCell", "GRUCell", "ConvLSTM1D", "ConvLSTM2D",
                                               "ConvLSTM3D")}
RECURRENT_WRAPPERS = {f"{L}.{n}" for n in ("Bidirectional", "RNN")}
ATTENTION_LAYERS = {f"{L}.{n}" for n in ("MultiHeadAttention", "Attention", "AdditiveAttention")}
ACTIVATION_LAYER = f"{L}.Activation"
RESIDUAL_LAYERS = {f"{L}.Add", f"{L}.add"}
SEQUENTIAL = {"keras.Sequential"}
MODEL_BASES = {"keras.Model", "keras.layers.Layer", "keras.Layer"}  # keras.Layer: Keras 3's spelling
# Pretrained models: `keras_hub.models.GemmaCausalLM.from_preset(...)`, `keras.applications.ResNet50(...)`.
PRETRAINED_METHODS = {"from_preset", "from_pretrained"}
APPLICATIONS = "keras.applications."

# activation="sigmoid" strings, and the function objects that can be passed instead.
SATURATING_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "hard_sigmoid": "hard_sigmoid", "softsign": "softsign"}
SATURATING_FUNCTIONS = {
    "keras.activations.sigmoid": "sigmoid", "keras.activations.tanh": "tanh",
    "keras.activations.hard_sigmoid": "hard_sigmoid", "keras.activations.softsign": "softsign",
    "tensorflow.nn.sigmoid": "sigmoid", "tensorflow.sigmoid": "sigmoid", "tensorflow.nn.tanh": "tanh",
    "tensorflow.tanh": "tanh",
}

OPTIMIZERS = {
    f"keras.optimizers.{n}": kind
    for n, kind in (("SGD", "SGD"), ("Adam", "Adam"), ("AdamW", "AdamW"), ("RMSprop", "RMSprop"),
                    ("Adagrad", "Adagrad"), ("Adadelta", "Adadelta"), ("Adamax", "Adamax"), ("Nadam", "NAdam"),
                    ("Ftrl", "Ftrl"), ("Lion", "Lion"))
}
# compile(optimizer="adam"): the kind each string builds.
OPTIMIZER_STRINGS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                     "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "NAdam", "ftrl": "Ftrl", "lion": "Lion"}
# Keras's own defaults when learning_rate is not given.
DEFAULT_LR = {"SGD": 0.01, "Adam": 1e-3, "AdamW": 1e-3, "RMSprop": 1e-3, "Adagrad": 1e-3, "Adadelta": 1e-3,
              "Adamax": 1e-3, "NAdam": 1e-3, "Ftrl": 1e-3, "Lion": 1e-4}
SCHEDULE_PREFIX = "keras.optimizers.schedules."
SCHEDULE_BASE = "keras.optimizers.schedules.LearningRateSchedule"
LR_CALLBACKS = {"keras.callbacks.LearningRateScheduler", "keras.callbacks.ReduceLROnPlateau"}
CLIP_KEYWORDS = ("clipnorm", "global_clipnorm", "clipvalue")

# -- probabilities, logs and losses (GL401, GL402, GL403) ----------------------------------------------
# `tf.math.x` is canonicalised to `tensorflow.x`, so `tf.math.log` is "tensorflow.log".
TF = "tensorflow"
SOFTMAX_FUNCTIONS = {f"{TF}.nn.softmax", f"{TF}.softmax", "keras.activations.softmax", "keras.ops.softmax",
                     "keras.backend.softmax", "keras.ops.nn.softmax"}
LOG_SOFTMAX_FUNCTIONS = {f"{TF}.nn.log_softmax", f"{TF}.log_softmax", "keras.activations.log_softmax",
                         "keras.ops.log_softmax"}
SIGMOID_FUNCTIONS = {f"{TF}.sigmoid", f"{TF}.nn.sigmoid", "keras.activations.sigmoid", "keras.ops.sigmoid",
                     "keras.backend.sigmoid"}
LOG_FUNCTIONS = {f"{TF}.log": "tf.math.log", "keras.ops.log": "keras.ops.log", "keras.backend.log": "keras.backend.log"}
RELU_FUNCTIONS = {f"{TF}.nn.relu", f"{TF}.nn.relu6", "keras.activations.relu", "keras.ops.relu"}
ABS_FUNCTIONS = {f"{TF}.abs", "keras.ops.abs", "keras.ops.absolute"}
SQUARE_FUNCTIONS = {f"{TF}.square", "keras.ops.square", "keras.backend.square"}
SUM_FUNCTIONS = {f"{TF}.reduce_sum", f"{TF}.reduce_mean", "keras.ops.sum", "keras.ops.mean",
                 "keras.backend.sum", "keras.backend.mean"}
VARIANCE_FUNCTIONS = {f"{TF}.reduce_variance": "variance", f"{TF}.reduce_std": "standard deviation",
                      "keras.ops.var": "variance", "keras.ops.std": "standard deviation"}
NORM_FUNCTIONS = {f"{TF}.norm", f"{TF}.linalg.norm", "keras.ops.norm"}
SQRT_FUNCTIONS = {f"{TF}.sqrt", "keras.ops.sqrt", "keras.backend.sqrt"}
DIVIDE_FUNCTIONS = {f"{TF}.divide", f"{TF}.truediv", f"{TF}.realdiv", "keras.ops.divide", "keras.ops.true_divide"}
# Layers whose output is a probability: Dense(..., activation="softmax"), Activation("sigmoid"), Softmax().
PROBABILITY_ACTIVATIONS = {"softmax": "softmax", "sigmoid": "sigmoid"}
PROBABILITY_FUNCTIONS = {**{q: "softmax" for q in SOFTMAX_FUNCTIONS}, **{q: "sigmoid" for q in SIGMOID_FUNCTIONS}}
SOFTMAX_LAYERS = {f"{L}.Softmax"}
FUNCTIONAL_MODEL = {"keras.Model"}

# Losses by the PyTorch loss they behave like (with from_logits=True they apply the activation themselves).
LOSS_CLASSES = {
    "keras.losses.SparseCategoricalCrossentropy": "CrossEntropyLoss",
    "keras.losses.CategoricalCrossentropy": "CrossEntropyLoss",
    "keras.losses.CategoricalFocalCrossentropy": "CrossEntropyLoss",
    "keras.losses.BinaryCrossentropy": "BCEWithLogitsLoss",
    "keras.losses.BinaryFocalCrossentropy": "BCEWithLogitsLoss",
}
LOSS_FUNCTIONS = {
    "keras.losses.sparse_categorical_crossentropy": "CrossEntropyLoss",
    "keras.losses.categorical_crossentropy": "CrossEntropyLoss",
    "keras.losses.binary_crossentropy": "BCEWithLogitsLoss",
    "keras.backend.sparse_categorical_crossentropy": "CrossEntropyLoss",
    "keras.backend.categorical_crossentropy": "CrossEntropyLoss",
    "keras.backend.binary_crossentropy": "BCEWithLogitsLoss",
    "keras.metrics.sparse_categorical_crossentropy": "CrossEntropyLoss",
    "keras.metrics.categorical_crossentropy": "CrossEntropyLoss",
    "keras.metrics.binary_crossentropy": "BCEWithLogitsLoss",
}
# tf.nn losses that always take logits: (kind, the keyword that holds the logits).
LOGIT_LOSSES = {
    f"{TF}.nn.softmax_cross_entropy_with_logits": "CrossEntropyLoss",
    f"{TF}.nn.softmax_cross_entropy_with_logits_v2": "CrossEntropyLoss",
    f"{TF}.nn.sparse_softmax_cross_entropy_with_logits": "CrossEntropyLoss",
    f"{TF}.nn.sigmoid_cross_entropy_with_logits": "BCEWithLogitsLoss",
    f"{TF}.nn.weighted_cross_entropy_with_logits": "BCEWithLogitsLoss",
}

# -- initialisers (GL301, GL302) -------------------------------------------------------------------
INIT_MODULE = "keras.initializers"
# Initializer constructions: kind, {parameter: (keyword, position)}, defaults (Keras's own).
_NORMAL = ({"mean": ("mean", 0), "std": ("stddev", 1)}, {"mean": 0.0, "std": 0.05})
_UNIFORM = ({"a": ("minval", 0), "b": ("maxval", 1)}, {"a": -0.05, "b": 0.05})
_CONSTANT = ({"val": ("value", 0)}, {"val": 0.0})
INITIALIZERS = {
    **{f"{INIT_MODULE}.{n}": ("normal", *_NORMAL) for n in ("RandomNormal", "random_normal")},
    **{f"{INIT_MODULE}.{n}": ("trunc_normal", *_NORMAL) for n in ("TruncatedNormal", "truncated_normal")},
    **{f"{INIT_MODULE}.{n}": ("uniform", *_UNIFORM) for n in ("RandomUniform", "random_uniform")},
    **{f"{INIT_MODULE}.{n}": ("constant", *_CONSTANT) for n in ("Constant", "constant")},
    **{f"{INIT_MODULE}.{n}": ("ones", {}, {}) for n in ("Ones", "ones")},
    f"{TF}.random_normal_initializer": ("normal", *_NORMAL),
    f"{TF}.truncated_normal_initializer": ("trunc_normal", *_NORMAL),
    f"{TF}.random_uniform_initializer": ("uniform", *_UNIFORM),
    f"{TF}.constant_initializer": ("constant", *_CONSTANT),
    f"{TF}.ones_initializer": ("ones", {}, {}),
    f"{TF}.initializers.RandomNormal": ("normal", *_NORMAL),
    f"{TF}.initializers.TruncatedNormal": ("trunc_normal", *_NORMAL),
    f"{TF}.initializers.RandomUniform": ("uniform", *_UNIFORM),
    f"{TF}.initializers.Constant": ("constant", *_CONSTANT),
    f"{TF}.initializers.Ones": ("ones", {}, {}),
}
# String initializers that set every weight to one value (Keras's "constant" string means zeros).
CONSTANT_STRINGS = {"ones": "ones", "Ones": "ones"}
# Keywords of layer constructors that initialise a weight matrix (never bias_/gamma_/beta_/embeddings_).
WEIGHT_INITIALIZER_KEYWORDS = ("kernel_initializer", "recurrent_initializer", "depthwise_initializer",
                               "pointwise_initializer")
# Raw tensors a tf.Variable can be made from (like torch.randn/torch.ones under nn.Parameter).
VARIABLE = f"{TF}.Variable"
RANDOM_TENSORS = {f"{TF}.random.normal": "normal", f"{TF}.random.truncated_normal": "normal",
                  f"{TF}.random.uniform": "uniform", f"{TF}.random_normal": "normal"}
CONSTANT_TENSORS = {f"{TF}.ones": 1.0, f"{TF}.fill": None}
# An object-based checkpoint: `tf.train.Checkpoint(W=W, ...).restore(path)` overwrites the variables it names.
CHECKPOINT = f"{TF}.train.Checkpoint"

# -- clipping (GL201, GL208) -----------------------------------------------------------------------
# tf.clip_* with the positions of their thresholds: (keyword, position) pairs.
TF_CLIPS = {
    f"{TF}.clip_by_global_norm": (("clip_norm", 1),),
    f"{TF}.clip_by_norm": (("clip_norm", 1),),
    f"{TF}.clip_by_value": (("clip_value_min", 1), ("clip_value_max", 2)),
}
RISKY_LAYERS = {**{q: "recurrent" for q in RECURRENT_LAYERS}, f"{L}.MultiHeadAttention": "attention"}
