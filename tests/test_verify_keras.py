"""gradlint verify for Keras models: a PyTorch twin built from the static facts, no TensorFlow, no user code.

The static half (which layers, which arguments, which optimizer and loss) needs no torch; the tests
marked slow build twins and run them in child processes. Where TensorFlow is installed, the last
test compares the twin's per-layer gradient norms with TensorFlow's on the same weights and input.
"""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from gradlint.cli import main
from gradlint.facts.builder import build
from gradlint.verify import settings as verify_settings
from gradlint.verify.discover import find_models

from conftest import FIXTURES

VERIFY = FIXTURES / "verify"
KERAS = "import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"


def models(source: str, config=None, keras_imports: bool = True) -> dict:
    """Specs by model name for one script (the Keras imports prepended unless told otherwise)."""
    text = (KERAS if keras_imports else "") + textwrap.dedent(source).lstrip("\n")
    facts = build(cst.parse_module(text), "train.py")
    specs = find_models([(facts, Path("/p/train.py"), "train.py")], config or verify_settings.VerifyConfig())
    return {s.model: s for s in specs}


def layers_of(spec) -> list[tuple[str, dict]]:
    return [(layer["kind"], layer["args"]) for layer in spec.twin["layers"]]


# -- which layers, with which arguments ---------------------------------------------------------
def test_sequential_list_becomes_a_layer_spec_with_resolved_arguments():
    spec = models('''
        HIDDEN = 64
        model = keras.Sequential([
            keras.Input(shape=(784,)),
            layers.Dense(HIDDEN, activation=tf.nn.sigmoid, kernel_initializer=keras.initializers.RandomNormal(stddev=3.0)),
            layers.Dense(HIDDEN, "tanh", kernel_initializer="he_normal", use_bias=False),
            layers.Activation(keras.activations.relu),
            layers.Dense(10, activation="softmax"),
        ])
    ''')["model"]
    assert spec.skipped is None
    assert spec.twin["input_shape"] == [784]
    assert layers_of(spec) == [
        ("Dense", {"units": 64, "activation": "sigmoid", "kernel_initializer": {"name": "random_normal", "stddev": 3.0}}),
        ("Dense", {"units": 64, "activation": "tanh", "kernel_initializer": {"name": "he_normal"}, "use_bias": False}),
        ("Activation", {"activation": "relu"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ]
    json.dumps(spec.twin)  # the child gets it as JSON


def test_model_add_in_a_loop_of_known_count_is_unrolled():
    spec = models('''
        DEPTH = 3
        model = keras.Sequential()
        model.add(layers.Dense(32, activation="relu", input_shape=(20,)))
        for _ in range(DEPTH):
            model.add(layers.Dense(32, activation="sigmoid"))
            model.add(layers.BatchNormalization())
    ''')["model"]
    assert spec.twin["input_shape"] == [20]
    assert [kind for kind, _ in layers_of(spec)] == ["Dense"] + ["Dense", "BatchNormalization"] * 3


def test_functional_chain_follows_the_reassigned_tensor():
    spec = models('''
        inputs = keras.Input(shape=(None, 8))
        x = layers.LSTM(32, return_sequences=True)(inputs)
        x = layers.GRU(16)(x)
        x = tf.nn.relu(x)
        for _ in range(2):
            x = layers.Dense(16)(x)
        outputs = layers.Dense(1)(x)
        regressor = keras.Model(inputs=inputs, outputs=outputs)
        regressor.compile(optimizer="sgd", loss="mse")
    ''')["regressor"]
    assert spec.skipped is None
    assert spec.twin["input_shape"] == [None, 8]
    assert layers_of(spec) == [("LSTM", {"units": 32, "return_sequences": True}), ("GRU", {"units": 16}),
                               ("Activation", {"activation": "relu"}), ("Dense", {"units": 16}),
                               ("Dense", {"units": 16}), ("Dense", {"units": 1})]
    assert (spec.optimizer, spec.lr, spec.loss) == ("SGD", 0.01, "mse")


def test_a_model_built_in_a_function_is_named_after_it_and_compiled_where_it_is_used():
    found = models('''
        def build_classifier(hidden=128):
            model = keras.Sequential([layers.Embedding(5000, 64), layers.SimpleRNN(hidden), layers.Dense(2)])
            model.build((None, 40))
            return model

        clf = build_classifier()
        clf.compile(optimizer=keras.optimizers.RMSprop(learning_rate=5e-4), loss="sparse_categorical_crossentropy")
    ''')
    spec = found["build_classifier"]
    assert layers_of(spec) == [("Embedding", {"input_dim": 5000, "output_dim": 64}), ("SimpleRNN", {"units": 128}),
                               ("Dense", {"units": 2})]
    assert spec.twin["input_shape"] == [40]
    assert (spec.optimizer, spec.lr, spec.optimizer_kwargs) == ("RMSprop", 5e-4, {"alpha": "0.9", "eps": "1e-07"})
    assert spec.loss == "nll_of_probabilities"  # Keras's crossentropy on the outputs, which are not logits here


# -- what is skipped, and why --------------------------------------------------------------------
def test_untranslatable_layers_are_skipped_with_their_names():
    found = models('''
        model = keras.Sequential([
            keras.Input(shape=(50, 16)),
            layers.Bidirectional(layers.LSTM(8, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(8, return_sequences=True)),
            layers.Conv1D(8, 3, data_format="channels_first"),
            layers.MultiHeadAttention(2, 8),
            layers.Dense(4),
        ])
    ''')
    assert found["model"].skipped == ("no PyTorch twin for Bidirectional (x2), Conv1D(data_format='channels_first'), "
                                      "MultiHeadAttention")


def test_an_argument_not_known_statically_is_named():
    spec = models('''
        import sys
        width = int(sys.argv[1])
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(width)])
    ''')["model"]
    assert spec.skipped == "no PyTorch twin for Dense(units=width: not known statically)"


def test_graphs_that_are_not_one_chain_are_skipped():
    found = models('''
        a = keras.Input(shape=(16,))
        h = layers.Dense(16)(a)
        residual = keras.Model(a, layers.Add()([a, h]))

        b = keras.Input(shape=(16,))
        y = layers.Dense(16)(b)
        y = y + b
        summed = keras.Model(b, y)
    ''')
    assert found["residual"].skipped == "no PyTorch twin for Add() (not a one-input layer)"
    assert found["summed"].skipped == "no PyTorch twin for `y` is also assigned a computed tensor (a skip connection?)"


def test_without_an_input_shape_the_config_key_is_named_and_honoured():
    source = 'model = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1)])'
    assert models(source)["model"].skipped == (
        "no input shape in the script (Keras builds the model on its first batch): "
        "set input-shape in [tool.gradlint.verify.models.model]")
    config = verify_settings.parse({"models": {"model": {"input-shape": [4, 12]}}})
    assert models(source, config)["model"].skipped is None


def test_a_subclassed_keras_model_is_listed_as_skipped():
    spec = models('''
        class Tagger(keras.Model):
            def __init__(self):
                super().__init__()
                self.dense = layers.Dense(4)

            def call(self, x):
                return self.dense(x)
    ''')["Tagger"]
    assert spec.skipped.startswith("a subclassed keras.Model")


def test_pytorch_scripts_get_no_keras_twin():
    found = models('''
        from torch import nn
        net = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
    ''', keras_imports=False)
    assert list(found) == ["net"] and found["net"].twin is None


# -- how it is trained --------------------------------------------------------------------------
@pytest.mark.parametrize("compiled, expected", [
    ('optimizer="adam"', ("Adam", 1e-3, {"eps": "1e-07"})),
    ('"rmsprop"', ("RMSprop", 1e-3, {"alpha": "0.9", "eps": "1e-07"})),
    ('optimizer="adagrad"', ("Adagrad", 1e-3, {"initial_accumulator_value": "0.1", "eps": "1e-07"})),
    ("loss='mse'", ("RMSprop", 1e-3, {"alpha": "0.9", "eps": "1e-07"})),  # compile's own default optimizer
    ('optimizer="lion"', ("Adam", 1e-3, {"eps": "1e-07"})),  # no torch Lion: noted
])
def test_compile_strings_get_keras_defaults(compiled, expected):
    spec = models(f'''
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(2)])
        model.compile({compiled})
    ''')["model"]
    assert (spec.optimizer, spec.lr, spec.optimizer_kwargs) == expected


def test_each_model_gets_the_compile_that_follows_it_before_its_name_is_rebound():
    found = models('''
        model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
        model = keras.Sequential()
        model.add(layers.Dense(3, input_shape=(4,)))
        model.compile(optimizer="sgd", loss="mse")

        def get_model():
            model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
            return model

        model = get_model()
        model.compile(optimizer="adagrad", loss="mse")
    ''')
    assert {name: spec.optimizer for name, spec in found.items()} == {
        "model": "Adam", "model_2": "SGD", "get_model": "Adagrad"}
    assert found["model"].optimizer_origin == "no optimizer found in the script: the default"
    assert [len(spec.twin["layers"]) for spec in found.values()] == [1, 1, 1]  # each model.add on its own model


def test_optimizer_object_keywords_and_clipping_carry_over():
    spec = models('''
        parser = __import__("argparse").ArgumentParser()
        opt = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True, clipnorm=1.0)
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(2, activation="sigmoid")])
        model.compile(optimizer=opt, loss=keras.losses.BinaryCrossentropy(from_logits=False))
    ''')["model"]
    assert (spec.optimizer, spec.lr, spec.optimizer_kwargs) == ("SGD", 0.05, {"momentum": "0.9", "nesterov": "True"})
    assert spec.clip == {"clipnorm": 1.0}
    assert spec.loss == "bce_of_probabilities"


def test_a_schedule_gives_its_initial_rate():
    spec = models('''
        schedule = keras.optimizers.schedules.ExponentialDecay(0.2, decay_steps=1000, decay_rate=0.9)
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    ''')["model"]
    assert (spec.optimizer, spec.lr) == ("SGD", 0.2)
    assert "the schedule itself is not modelled" in spec.optimizer_origin


@pytest.mark.parametrize("compiled, output, expected", [
    ("loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)", "softmax", "cross_entropy"),
    ('loss="sparse_categorical_crossentropy"', None, "nll_of_probabilities"),
    (None, "softmax", "nll_of_probabilities"),
    (None, "sigmoid", "bce_of_probabilities"),
    (None, None, None),  # measure.py's own choice: cross-entropy on 2-D logits
])
def test_the_loss_follows_the_compiled_loss_else_the_output(compiled, output, expected):
    compile_line = f"model.compile(optimizer='adam', {compiled})" if compiled else ""
    spec = models(f'''
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(3, activation={output!r})])
        {compile_line}
    ''')["model"]
    assert spec.loss == expected


# -- the twin, measured (torch) -----------------------------------------------------------------
def verify(*args):
    result = CliRunner().invoke(main, ["verify", *map(str, args), "--output-format", "json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.slow
def test_deep_sigmoid_keras_sequential_vanishes_through_its_twin():
    pytest.importorskip("torch")
    code, (record,) = verify(VERIFY / "keras_deep_sigmoid.py")
    assert code == 1
    assert (record["verdict"], record["twin"], record["device"]) == ("vanishing", "keras", "cpu")
    assert record["layer_ratio"] < 1e-4  # observed 3.7e-6 with glorot-uniform kernels
    assert [layer["name"] for layer in record["layers"]] == ["dense", *(f"dense_{i}" for i in range(1, 11))]
    norms = [layer["grad_norm"] for layer in record["layers"]]
    assert norms[-1] > 1e4 * norms[0]
    assert (record["optimizer"], record["lr"], record["loss_function"]) == ("SGD", 0.1, "nll_of_probabilities")
    assert record["input"] == "float32[16, 784] (the Keras input shape)"


@pytest.mark.slow
def test_relu_keras_mlp_with_adam_is_healthy_and_the_text_report_names_the_twin():
    pytest.importorskip("torch")
    code, (record,) = verify(VERIFY / "keras_relu_mlp.py")
    assert (code, record["verdict"]) == (0, "healthy")
    assert record["loss_final"] < record["loss_initial"] / 10
    assert (record["optimizer"], record["lr"], record["loss_function"]) == ("Adam", 1e-3, "cross_entropy")
    text = CliRunner().invoke(main, ["verify", str(VERIFY / "keras_relu_mlp.py"), "--steps", "2"]).stdout
    assert text.splitlines()[0].endswith("keras_relu_mlp.py::model  HEALTHY on cpu (keras twin)")
    assert "measured on a PyTorch twin of the keras.Sequential" in text


@pytest.mark.slow
def test_an_untranslatable_layer_is_skipped_and_exits_0():
    code, (record,) = verify(VERIFY / "keras_untranslatable.py")
    assert (code, record["verdict"], record["twin"]) == (0, "skipped", "keras")
    assert record["reason"] == "no PyTorch twin for Bidirectional (x2)"


@pytest.mark.slow
def test_no_keras_user_code_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    script = tmp_path / "keras_deep_sigmoid.py"
    shutil.copy(VERIFY / "keras_deep_sigmoid.py", script)
    with open(script, "a", encoding="utf-8") as handle:
        handle.write('open("marker_keras_top_level.txt", "w").write("ran")\n')
    monkeypatch.chdir(tmp_path)
    code, (record,) = verify(script.name, "--steps", "2")
    # The script imports tensorflow, which is not installed here: a twin that imported it would fail.
    assert record["verdict"] == "vanishing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras_deep_sigmoid.py"]


@pytest.mark.slow
def test_a_twin_that_does_not_fit_its_input_is_an_error_naming_the_layer(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "cnn.py").write_text(KERAS + textwrap.dedent('''
        model = keras.Sequential([keras.Input(shape=(784,)), layers.Conv2D(8, 3), layers.Dense(2)])
    '''))
    code, (record,) = verify(tmp_path / "cnn.py")
    assert (code, record["verdict"]) == (1, "error")
    assert record["reason"] == ("building the keras twin: Conv2D(8, 3): Conv2D expects a 4-D input "
                                "(batch, ..., channels), got 2-D")


@pytest.mark.slow
def test_zoo_of_layers_builds_and_runs(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "zoo.py").write_text(KERAS + textwrap.dedent('''
        cnn = keras.Sequential([
            layers.InputLayer(input_shape=(28, 28, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Conv2D(32, (3, 3), strides=2, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ])
        cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

        inp = keras.Input(shape=(None, 8))
        x = layers.SimpleRNN(16, return_sequences=True)(inp)
        x = layers.Conv1D(8, 3, padding="causal")(x)
        x = layers.LayerNormalization()(x)
        x = layers.GlobalMaxPooling1D()(x)
        seq = keras.Model(inp, layers.Dense(1)(x))
        seq.compile(optimizer=keras.optimizers.Adam(clipnorm=1.0), loss="mse")
    '''))
    code, records = verify(tmp_path / "zoo.py", "--steps", "3")
    found = {r["model"]: r for r in records}
    assert {name: r["verdict"] for name, r in found.items()} == {"cnn": "healthy", "seq": "healthy"}
    assert [layer["name"] for layer in found["cnn"]["layers"]] == ["conv2d", "batch_normalization", "conv2d_1", "dense"]
    assert found["seq"]["input"] == "float32[16, 16, 8] (the Keras input shape, free dimensions 16)"
    assert [layer["name"] for layer in found["seq"]["layers"]] == ["simple_rnn", "conv1d", "layer_normalization", "dense"]


# -- the twin's layers against Keras's own definitions (torch, in-process) --------------------------
@pytest.fixture
def twin():
    torch = pytest.importorskip("torch")
    from gradlint.verify import keras_twin

    torch.manual_seed(0)
    return keras_twin


@pytest.mark.slow
def test_glorot_uniform_and_he_normal_use_keras_fans(twin):
    from gradlint.verify.keras_init import keras_init

    dense = twin.Dense({"units": 300}, (500,))
    limit = math.sqrt(6 / (500 + 300))  # Keras: fans of the (in, units) kernel
    assert dense.weight.shape == (300, 500) and float(dense.weight.detach().abs().max()) <= limit
    assert math.isclose(float(dense.weight.detach().std()), limit / math.sqrt(3), rel_tol=0.02)
    assert float(dense.bias.detach().abs().max()) == 0.0
    kernel = keras_init({"name": "he_normal"}, (3, 3, 64, 128))  # fan_in = 3 * 3 * 64
    std = math.sqrt(2 / 576)
    assert math.isclose(float(kernel.std()), std, rel_tol=0.03)  # truncated at 2 sigma, rescaled to keep it
    assert float(kernel.abs().max()) <= 2 * std / 0.87962566103423978 + 1e-6
    big = twin.Dense({"units": 64, "kernel_initializer": {"name": "random_normal", "stddev": 3.0}}, (256,))
    assert math.isclose(float(big.weight.detach().std()), 3.0, rel_tol=0.03)


@pytest.mark.slow
def test_recurrent_kernels_are_orthogonal_and_lstm_forget_bias_is_one(twin):
    import torch

    lstm = twin.FACTORIES["LSTM"]({"units": 16}, (10, 8))
    w = lstm.weight_hh_l0.detach()  # (4 * 16, 16): Keras's (16, 64) orthogonal kernel, transposed
    assert torch.allclose(w.T @ w, torch.eye(16), atol=1e-5)
    bias = lstm.bias_ih_l0.detach()
    assert bias[16:32].eq(1).all() and bias[:16].eq(0).all() and bias[32:].eq(0).all()
    assert not lstm.bias_hh_l0.requires_grad  # Keras has one bias: the second torch bias stays out of training
    out = lstm(torch.randn(2, 10, 8))
    assert out.shape == (2, 16)  # return_sequences=False: the last output


@pytest.mark.slow
def test_batch_normalization_uses_keras_epsilon_and_momentum_over_the_last_axis(twin):
    import torch

    bn = twin.FACTORIES["BatchNormalization"]({}, (5, 5, 3))
    assert (bn.eps, bn.momentum) == (1e-3, pytest.approx(0.01))
    x = torch.randn(4, 5, 5, 3) * 3 + 1
    y = bn(x)
    assert torch.allclose(y.mean(dim=(0, 1, 2)), torch.zeros(3), atol=1e-5)


@pytest.mark.slow
def test_conv_same_padding_pads_after_like_keras(twin):
    import torch
    from torch.nn import functional as F

    conv = twin.Conv({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (28, 28, 2), 2)
    x = torch.randn(1, 28, 28, 2)
    y = conv(x)
    assert y.shape == (1, 14, 14, 4)  # ceil(28 / 2)
    # Keras (TensorFlow) puts the odd pixel of 'same' padding after: here 0 before, 1 after.
    expected = F.conv2d(F.pad(x.movedim(-1, 1), (0, 1, 0, 1)), conv.weight, conv.bias, 2).movedim(1, -1)
    assert torch.allclose(y, expected, atol=1e-6)
    causal = twin.Conv({"filters": 1, "kernel_size": 3, "padding": "causal"}, (10, 1), 1)
    step = torch.zeros(1, 10, 1)
    step[0, 5, 0] = 1.0
    out = causal(step) - causal(torch.zeros(1, 10, 1))
    assert out[0, :5].abs().max() == 0  # nothing before the impulse: causal


# -- against TensorFlow itself, where it is installed -----------------------------------------------
TF_MODEL = '''
model = keras.Sequential([
    keras.Input(shape=(12, 6)),
    layers.Conv1D(8, 3, padding="same", activation="tanh"),
    layers.LSTM(10, return_sequences=True),
    layers.GRU(8),
    layers.BatchNormalization(),
    layers.Dense(16, activation="sigmoid"),
    layers.LayerNormalization(),
    layers.Dense(3),
])
'''


def _load_keras_weights(module, keras_layer, kind: str) -> None:
    import torch

    from gradlint.verify.keras_twin import _gru_order

    weights = [torch.from_numpy(w.copy()) for w in keras_layer.get_weights()]
    with torch.no_grad():
        if kind == "Dense":
            module.weight.copy_(weights[0].T)
            module.bias.copy_(weights[1])
        elif kind == "Conv1D":
            module.weight.copy_(weights[0].permute(2, 1, 0))
            module.bias.copy_(weights[1])
        elif kind == "LSTM":
            module.weight_ih_l0.copy_(weights[0].T)
            module.weight_hh_l0.copy_(weights[1].T)
            module.bias_ih_l0.copy_(weights[2])
        elif kind == "GRU":
            units = weights[1].shape[0]
            module.weight_ih_l0.copy_(_gru_order(weights[0].T, units))
            module.weight_hh_l0.copy_(_gru_order(weights[1].T, units))
            module.bias_ih_l0.copy_(_gru_order(weights[2][0], units))
            module.bias_hh_l0.copy_(_gru_order(weights[2][1], units))
        elif kind in ("BatchNormalization", "LayerNormalization"):
            module.weight.copy_(weights[0])
            module.bias.copy_(weights[1])


@pytest.mark.slow
def test_twin_gradients_match_tensorflow_on_the_same_weights_and_input():
    tf = pytest.importorskip("tensorflow")
    torch = pytest.importorskip("torch")
    import numpy as np

    from gradlint.verify.keras_twin import build as build_twin

    spec = models(TF_MODEL)["model"]
    namespace: dict = {}
    exec(KERAS + TF_MODEL, namespace)  # noqa: S102 — our own model definition, built with real Keras
    keras_model = namespace["model"]
    x = np.random.default_rng(0).standard_normal((4, 12, 6)).astype("float32")
    target = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")

    twin_model = build_twin(spec.twin, torch.from_numpy(x[:2]))
    keras_layers = [layer for layer in keras_model.layers if layer.get_weights()]
    twin_layers = [(name, m) for name, m in twin_model.named_children() if any(True for _ in m.parameters())]
    for (name, module), keras_layer, layer in zip(twin_layers, keras_layers,
                                                  [s for s in spec.twin["layers"] if s["kind"] != "Activation"]):
        _load_keras_weights(module, keras_layer, layer["kind"])

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(keras_model(x, training=True) - target))
    tf_norms = [math.sqrt(sum(float(tf.reduce_sum(tf.square(g))) for g in tape.gradient(loss, layer.trainable_weights)))
                for layer in keras_layers]
    twin_model.train()
    torch_loss = torch.nn.functional.mse_loss(twin_model(torch.from_numpy(x)), torch.from_numpy(target))
    torch_loss.backward()
    twin_norms = [math.sqrt(sum(float(p.grad.pow(2).sum()) for p in m.parameters() if p.grad is not None))
                  for _, m in twin_layers]
    assert math.isclose(float(loss), float(torch_loss), rel_tol=1e-3)
    for tf_norm, twin_norm in zip(tf_norms, twin_norms):
        assert math.isclose(tf_norm, twin_norm, rel_tol=0.03)
