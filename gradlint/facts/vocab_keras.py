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
ATTENTION_LAYERS = {f"{L}.{n}" for n in ("MultiHeadAttention", "Attention", "AdditiveAttention")}
ACTIVATION_LAYER = f"{L}.Activation"
RESIDUAL_LAYERS = {f"{L}.Add", f"{L}.add"}
SEQUENTIAL = {"keras.Sequential"}
MODEL_BASES = {"keras.Model", "keras.layers.Layer"}

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
# Keras's own defaults when learning_rate is not given.
DEFAULT_LR = {"SGD": 0.01, "Adam": 1e-3, "AdamW": 1e-3, "RMSprop": 1e-3, "Adagrad": 1e-3, "Adadelta": 1e-3,
              "Adamax": 1e-3, "NAdam": 1e-3, "Ftrl": 1e-3, "Lion": 1e-4}
SCHEDULE_PREFIX = "keras.optimizers.schedules."
SCHEDULE_BASE = "keras.optimizers.schedules.LearningRateSchedule"
LR_CALLBACKS = {"keras.callbacks.LearningRateScheduler", "keras.callbacks.ReduceLROnPlateau"}
CLIP_KEYWORDS = ("clipnorm", "global_clipnorm", "clipvalue")
