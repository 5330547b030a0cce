"""Keras / TensorFlow code through the same facts: GL201, GL208, GL301, GL302, GL401, GL402, GL403 (and no GL203)."""

from __future__ import annotations

from conftest import codes_and_lines


# -- GL402: probabilities into a loss that expects logits -------------------------------------------
def test_subclassed_softmax_model_compiled_with_from_logits(lint):
    findings = lint("""
        import tensorflow as tf

        class Classifier(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.hidden = tf.keras.layers.Dense(128, activation="relu")
                self.out = tf.keras.layers.Dense(10, activation="softmax")

            def call(self, inputs):
                x = self.hidden(inputs)
                return self.out(x)

        model = Classifier()
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    """)
    assert codes_and_lines(findings) == [("GL402", 14)]
    assert "compiled (line 15)" in findings[0].message and "activation='softmax'" not in findings[0].message
    assert 'Dense(10, activation="softmax")' in findings[0].message


def test_sequential_with_sigmoid_output_and_inline_bce_from_logits(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        model = keras.Sequential([layers.Dense(32, activation="relu"), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    """)
    assert codes_and_lines(findings) == [("GL402", 5)]


def test_model_add_ending_in_softmax_activation_layer_in_a_tape_loop(lint):
    findings = lint("""
        import tensorflow as tf
        from tensorflow.keras import Sequential, layers, losses

        model = Sequential()
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(10))
        model.add(layers.Activation("softmax"))
        loss_fn = losses.CategoricalCrossentropy(from_logits=True)
        for x, y in dataset:
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                loss = loss_fn(y, probs)
    """)
    assert codes_and_lines(findings) == [("GL402", 12)]


def test_functional_model_whose_output_is_rebound_x(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        def build():
            inputs = keras.Input(shape=(20,))
            x = layers.Dense(64, activation="relu")(inputs)
            x = layers.Dense(5, activation="softmax")(x)
            model = keras.Model(inputs=inputs, outputs=x)
            model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            return model
    """)
    assert codes_and_lines(findings) == [("GL402", 9)]


def test_tf_nn_with_logits_losses_on_probabilities(lint):
    findings = lint("""
        import tensorflow as tf

        probs = tf.nn.softmax(logits)
        ce = tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=probs)
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tf.sigmoid(z))
        ok = tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)
    """)
    assert codes_and_lines(findings) == [("GL402", 4), ("GL402", 5)]


def test_keras_probabilities_with_probability_losses_are_fine(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        binary = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
        binary.compile(optimizer="adam", loss="binary_crossentropy")
        multi = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])
        multi.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy())
        logits = keras.Sequential([layers.Dense(16, activation="softmax"), layers.Dense(10)])
        logits.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """) == []


def test_model_output_behind_a_branch_is_not_guessed(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        model = keras.Sequential([layers.Dense(16, activation="relu")])
        if probabilities:
            model.add(layers.Dense(10, activation="softmax"))
        else:
            model.add(layers.Dense(10))
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """) == []


# -- GL401 / GL403: log of a probability, unguarded singular operations ------------------------------
def test_tf_log_of_softmax_and_sigmoid_directly_and_via_a_variable(lint):
    findings = lint("""
        import tensorflow as tf
        from tensorflow import keras

        a = tf.math.log(tf.nn.softmax(logits))
        b = tf.math.log(tf.sigmoid(z))
        p = keras.activations.softmax(logits)
        nll = -tf.reduce_sum(onehot * tf.math.log(p), axis=-1)
        stable = tf.nn.log_softmax(logits)
        guarded = tf.math.log(tf.nn.softmax(logits) + 1e-9)
    """)
    assert codes_and_lines(findings) == [("GL401", 4), ("GL401", 5), ("GL401", 7)]
    assert findings[0].fix is not None and findings[0].fix.edits[0].content == "tf.nn.log_softmax(logits)"
    assert findings[1].fix.edits[0].content == "tf.math.log_sigmoid(z)"


def test_tf_division_by_norm_sqrt_of_sum_of_squares_and_log_of_norm(lint):
    findings = lint("""
        import tensorflow as tf

        def embed(x):
            n = tf.norm(x, axis=1, keepdims=True)
            unit = x / n
            length = tf.sqrt(tf.reduce_sum(tf.square(x), axis=-1))
            log_len = tf.math.log(tf.norm(x))
            return unit, length, log_len
    """)
    assert codes_and_lines(findings) == [("GL403", 5), ("GL403", 6), ("GL403", 7)]
    assert "tf.math.l2_normalize" in findings[0].message


def test_tf_guarded_singularities_are_fine(lint):
    assert lint("""
        import tensorflow as tf

        def embed(x, grads):
            unit = tf.math.l2_normalize(x, axis=1)
            safe = x / (tf.norm(x, axis=1, keepdims=True) + 1e-8)
            length = tf.sqrt(tf.reduce_sum(tf.square(x), axis=-1) + 1e-12)
            floor = x / tf.maximum(tf.norm(x), 1e-6)
            frozen = x / tf.norm(tf.stop_gradient(x))
            return unit, safe, length, floor, frozen
    """) == []


# -- GL301 / GL302: Keras initializers ---------------------------------------------------------------
def test_kernel_initializer_objects_and_strings(lint):
    findings = lint("""
        import tensorflow as tf
        from tensorflow import keras
        from tensorflow.keras import layers

        wide = keras.initializers.RandomNormal(stddev=3.0)
        model = keras.Sequential([
            layers.Dense(64, activation="relu", kernel_initializer=wide),
            layers.Dense(64, kernel_initializer=tf.keras.initializers.RandomUniform(-2, 2)),
            layers.Dense(64, kernel_initializer="ones"),
            layers.Dense(64, kernel_initializer=keras.initializers.Constant(0.5)),
            layers.Dense(10, kernel_initializer=keras.initializers.TruncatedNormal(stddev=1.5)),
        ])
    """)
    assert codes_and_lines(findings) == [("GL301", 5), ("GL301", 8), ("GL302", 9), ("GL302", 10), ("GL301", 11)]


def test_bias_gamma_small_and_default_initializers_are_fine(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        model = keras.Sequential([
            layers.Dense(64, kernel_initializer="he_normal", bias_initializer="ones"),
            layers.BatchNormalization(gamma_initializer="ones"),
            layers.Dense(64, kernel_initializer=keras.initializers.RandomNormal()),
            layers.Dense(64, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02)),
            layers.Dense(64, bias_initializer=keras.initializers.Constant(0.1)),
            layers.Dense(64, kernel_initializer="zeros"),
            layers.Embedding(1000, 64, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0)),
        ])
    """) == []


def test_tf_variables_from_raw_random_and_constant_tensors(lint):
    findings = lint("""
        import tensorflow as tf

        W1 = tf.Variable(tf.random.normal([784, 256]))
        W2 = tf.Variable(tf.random.normal([256, 10], stddev=0.01))
        W3 = tf.Variable(tf.ones([256, 10]))
        b1 = tf.Variable(tf.ones([256]))
        theta = tf.Variable(tf.random.normal([1]), name="theta")
        optimizer = tf.optimizers.SGD(learning_rate=0.01)
    """)
    assert codes_and_lines(findings) == [("GL301", 3), ("GL302", 5)]


def test_custom_layer_add_weight_kernel_of_ones(lint):
    findings = lint("""
        from tensorflow import keras

        class Linear(keras.layers.Layer):
            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")
                self.gamma = self.add_weight(shape=(self.units,), initializer="ones")
                self.bias = self.add_weight(shape=(self.units,), initializer="ones")
    """)
    assert codes_and_lines(findings) == [("GL302", 5)]


# -- GL208 / GL201: clipping --------------------------------------------------------------------------
def test_keras_clip_thresholds_that_never_clip(lint):
    findings = lint("""
        import tensorflow as tf
        from tensorflow import keras

        adam = keras.optimizers.Adam(1e-3, clipnorm=1e4)
        sgd = keras.optimizers.SGD(0.01, global_clipnorm=1.0)

        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x))
            grads = tape.gradient(loss, model.trainable_variables)
            grads, _ = tf.clip_by_global_norm(grads, 5000.0)
            sgd.apply_gradients(zip(grads, model.trainable_variables))
    """)
    assert codes_and_lines(findings) == [("GL208", 4), ("GL208", 11)]


def test_clip_by_value_outside_a_gradient_step_is_a_value_clamp(lint):
    assert lint("""
        import tensorflow as tf

        x = tf.clip_by_value(x, -1e6, 1e6)
    """) == []


LSTM_TAPE = """
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    model = keras.Sequential([layers.Embedding(20000, 128), layers.LSTM(128), layers.Dense(1)])
    optimizer = keras.optimizers.Adam({lr}{clip})
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        {between}
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for epoch in range(3):
        for x, y in train_ds:
            train_step(x, y)
"""


def test_gradient_tape_step_on_an_lstm_without_clipping(lint):
    findings = lint(LSTM_TAPE.format(lr="2e-3", clip="", between="pass"))
    assert codes_and_lines(findings) == [("GL201", 15)]
    assert "`model` uses keras LSTM (line 5)" in findings[0].message


def test_gradient_tape_step_on_an_lstm_under_adam_at_1e_3_is_gl210(lint):
    findings = lint(LSTM_TAPE.format(lr="1e-3", clip="", between="pass"))
    assert codes_and_lines(findings) == [("GL210", 15)]
    assert lint(LSTM_TAPE.format(lr="1e-3", clip="", between="pass"), select=None) == []  # GL210 is off by default


def test_gradient_tape_step_clipped_between_or_by_the_optimizer(lint):
    assert lint(LSTM_TAPE.format(lr="2e-3", clip="", between="grads, _ = tf.clip_by_global_norm(grads, 1.0)")) == []
    assert lint(LSTM_TAPE.format(lr="2e-3", clip=", global_clipnorm=1.0", between="pass")) == []


def test_fit_on_recurrent_model_with_unclipped_optimizer(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        rnn = keras.Sequential([layers.Embedding(5000, 64), layers.GRU(64), layers.Dense(1)])
        rnn.compile(optimizer="sgd", loss="binary_crossentropy")
        rnn.fit(x_train, y_train, epochs=3)

        clipped = keras.Sequential([layers.Embedding(5000, 64), layers.GRU(64), layers.Dense(1)])
        clipped.compile(optimizer=keras.optimizers.Adam(clipnorm=1.0), loss="binary_crossentropy")
        clipped.fit(x_train, y_train, epochs=3)

        cnn = keras.Sequential([layers.Conv1D(32, 3), layers.GlobalMaxPooling1D(), layers.Dense(1)])
        cnn.compile(optimizer="adam", loss="binary_crossentropy")
        cnn.fit(x_train, y_train, epochs=3)
    """)
    assert codes_and_lines(findings) == [("GL201", 5)]
    assert "`rnn` uses keras GRU (line 4)" in findings[0].message


# -- GL203 has no meaning in TensorFlow -----------------------------------------------------------------
def test_gradient_tape_loops_never_need_zero_grad(lint):
    findings = lint("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
        optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
        for epoch in range(10):
            for x, y in dataset:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(model(x) - y))
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
    """)
    assert findings == []


def test_gl201_evidence_is_not_borrowed_from_another_model_bound_to_the_same_name(lint):
    assert lint("""
        from tensorflow import keras

        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
        model.fit(x, y)

        model = keras.Sequential([keras.layers.SimpleRNN(1, input_shape=[None, 1])])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, clipnorm=1.0), loss="mse")
        model.fit(x, y)
    """) == []


def test_gl201_judges_a_fit_by_the_compile_before_it_not_a_later_generation_setting(lint):
    assert lint("""
        import keras

        model = keras.Sequential([keras.layers.LSTM(32, input_shape=[None, 8]), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(global_clipnorm=1.0), loss="mse")
        model.fit(x, y)
        model.compile(sampler="greedy")
    """) == []


# -- GL201 / GL210 on the reviewed Keras corpus (bench/review: DLwP, TensorFlow-Examples, GDL, handson-ml3) ---------
def test_gl201_reads_a_rebound_functional_model_as_it_stands_at_its_compile(lint):
    # DLwP ch. 13: a Dense baseline, then a recurrent model, both `model = keras.Model(inputs, outputs)`.
    findings = lint("""
        import keras
        from keras import layers

        inputs = keras.Input(shape=(120, 14))
        x = layers.Flatten()(inputs)
        x = layers.Dense(16, activation="relu")(x)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        model.fit(train_ds, epochs=10)

        inputs = keras.Input(shape=(120, 14))
        x = layers.SimpleRNN(32)(inputs)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        model.fit(train_ds, epochs=10)

        inputs = keras.Input(shape=(120, 14))
        x = layers.Conv1D(8, 24, activation="relu")(inputs)
        x = layers.GlobalAveragePooling1D()(x)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        model.fit(train_ds, epochs=10)
    """)
    assert codes_and_lines(findings) == [("GL201", 16)]
    assert "`model` uses keras SimpleRNN (line 13)" in findings[0].message


def test_gl201_and_gl210_split_keras_recurrent_models_as_for_pytorch(lint):
    source = """
        import keras
        from keras import layers

        model = keras.Sequential([layers.Input(shape=(120, 14)), layers.{layer}, layers.Dense(1)])
        model.compile(optimizer={optimizer}, loss="mse")
        model.fit(train_ds, epochs=10)
    """

    def codes(layer, optimizer, select=("ALL",)):
        found = codes_and_lines(lint(source.format(layer=layer, optimizer=optimizer), select=select))
        return [(code, row) for code, row in found if code in ("GL201", "GL210")]

    assert codes("LSTM(16)", '"adam"') == [("GL210", 5)]  # Jena forecasting: gated, Adam at 1e-3
    assert codes("Bidirectional(layers.LSTM(32))", '"rmsprop"') == [("GL210", 5)]
    assert codes("LSTM(16)", '"adam"', select=None) == []  # GL210 is off by default
    assert codes("SimpleRNN(16)", '"adam"') == [("GL201", 5)]  # a plain tanh RNN stays GL201's
    assert codes("LSTM(128)", "keras.optimizers.RMSprop(learning_rate=0.01)") == [("GL201", 5)]  # DLwP 8.1's char-LSTM
    assert codes("LSTM(16)", '"sgd"') == [("GL201", 5)]  # the step scales with the gradient


def test_gl201_leaves_a_warmed_up_keras_transformer_alone(lint):
    # DLwP ch. 16's mini-GPT: a Keras 3 `keras.Layer` decoder block, Adam driven by a warm-up schedule.
    source = """
        import keras
        from keras import layers


        class TransformerDecoder(keras.Layer):
            def __init__(self, hidden_dim, intermediate_dim, num_heads):
                super().__init__()
                self.self_attention = layers.MultiHeadAttention(num_heads, hidden_dim // num_heads)
                self.self_attention_layernorm = layers.LayerNormalization()
                self.feed_forward_1 = layers.Dense(intermediate_dim, activation="relu")
                self.feed_forward_2 = layers.Dense(hidden_dim)
                self.feed_forward_layernorm = layers.LayerNormalization()

            def call(self, inputs):
                x = self.self_attention(query=inputs, key=inputs, value=inputs, use_causal_mask=True)
                x = self.self_attention_layernorm(x + inputs)
                residual = x
                x = self.feed_forward_2(self.feed_forward_1(x))
                return self.feed_forward_layernorm(x + residual)


        class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
            def __init__(self):
                self.rate = 2e-4
                self.warmup_steps = 1_000.0

            def __call__(self, step):
                return self.rate * keras.ops.minimum(step / self.warmup_steps, 1.0)


        inputs = keras.Input(shape=(None,), dtype="int32")
        x = layers.Embedding(32000, 512)(inputs)
        for i in range(8):
            x = TransformerDecoder(512, 2056, 8)(x)
        outputs = layers.Dense(32000)(x)
        mini_gpt = keras.Model(inputs, outputs)
        mini_gpt.compile(optimizer=keras.optimizers.Adam({rate}), loss="sparse_categorical_crossentropy")
        mini_gpt.fit(train_ds, epochs=8)
    """
    assert lint(source.format(rate="WarmupSchedule()")) == []
    findings = lint(source.format(rate="2e-4"))
    assert codes_and_lines(findings) == [("GL201", 37)]
    assert "TransformerDecoder → MultiHeadAttention" in findings[0].message


def test_gl201_evidence_is_not_borrowed_for_a_pretrained_preset(lint):
    # DLwP ch. 16: a LoRA fine-tune of a Gemma preset in the notebook that built its own LSTM model.
    findings = lint("""
        import keras
        import keras_hub
        from keras import layers

        lstm = keras.Sequential([layers.Embedding(20000, 128), layers.SimpleRNN(64), layers.Dense(1)])
        lstm.compile(optimizer="sgd", loss="binary_crossentropy")
        lstm.fit(train_ds, epochs=3)

        gemma_lm = keras_hub.models.GemmaCausalLM.from_preset("gemma_2b_en")
        gemma_lm.backbone.enable_lora(rank=8)
        gemma_lm.compile(optimizer=keras.optimizers.Adam(5e-5), loss="sparse_categorical_crossentropy")
        gemma_lm.fit(instructions_ds, epochs=1)
    """)
    assert codes_and_lines(findings) == [("GL201", 6)]


def test_gl201_follows_a_tape_step_through_a_name_for_the_trainable_variables(lint):
    # TensorFlow-Examples v2: `trainable_variables = lstm_net.trainable_variables` before tape.gradient.
    findings = lint("""
        import tensorflow as tf
        from tensorflow.keras import Model, layers


        class RNN(Model):
            def __init__(self):
                super().__init__()
                self.rnn_layer = layers.SimpleRNN(units=32)
                self.out = layers.Dense(10)

            def call(self, x):
                return self.out(self.rnn_layer(x))


        rnn_net = RNN()
        optimizer = tf.optimizers.SGD(0.01)


        def run_optimization(x, y):
            with tf.GradientTape() as g:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=rnn_net(x)))
            trainable_variables = rnn_net.trainable_variables
            gradients = g.gradient(loss, trainable_variables)
            optimizer.apply_gradients(zip(gradients, trainable_variables))
    """)
    assert codes_and_lines(findings) == [("GL201", 24)]
    assert "`rnn_net` uses keras self.rnn_layer (line 12)" in findings[0].message


# -- issue 13, the Keras part: what is trained decides -----------------------------------------------
def test_gl202_judges_a_compiled_optimizer_by_the_model_it_trains(lint):
    # A notebook: a function named `model`, then two models under the same name. RMSprop(0.1) on the
    # 3-parameter `Dense(1)` is at the linear-model band (10x the ceiling), which is still in range; on the
    # two-layer MLP it is GL202's, and so is 0.2 on the linear model.
    source = """
        from tensorflow import keras

        def model(inputs):
            return inputs @ W + b

        model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate={deep}), loss="mse")
        model.fit(inputs, targets, epochs=5)

        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate={linear}), loss="mse")
        model.fit(inputs, targets, epochs=5)
    """
    assert codes_and_lines(lint(source.format(deep=0.1, linear=0.1))) == [("GL202", 7)]
    assert codes_and_lines(lint(source.format(deep=0.01, linear=0.2))) == [("GL202", 11)]


def test_gl301_small_uniform_layers_over_a_fan_in_the_code_fixes(lint):
    # U(0, 1) has a root mean square of 0.58: over 2 inputs the output scale is 0.8 (a 2-D linear
    # classifier); over 784 inputs it is 16. A name bound to the same literal in two cells is that value.
    source = """
        import tensorflow as tf
        import torch

        input_dim = {fan_in}
        output_dim = 1
        input_dim = {fan_in}

        class LinearModel(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.W = torch.nn.Parameter(torch.rand(input_dim, output_dim))
                self.b = torch.nn.Parameter(torch.zeros(output_dim))

            def forward(self, inputs):
                return torch.matmul(inputs, self.W) + self.b

        W = tf.Variable(tf.random.uniform(({fan_in}, 2)))
        optimizer = torch.optim.SGD(LinearModel().parameters(), lr=0.1)
    """
    assert codes_and_lines(lint(source.format(fan_in=2))) == []
    assert codes_and_lines(lint(source.format(fan_in=784))) == [("GL301", 11), ("GL301", 17)]


def test_gl301_a_variable_restored_from_a_tf_checkpoint_is_overwritten(lint):
    findings = lint("""
        import tensorflow as tf

        W = tf.Variable(tf.random.normal([784, 10]), name="weight")
        b = tf.Variable(tf.zeros([10]), name="bias")
        optimizer = tf.optimizers.Adam(0.01)
        checkpoint = tf.train.Checkpoint(**{"W": W, "b": b, "optimizer": optimizer})
        saver = tf.train.CheckpointManager(checkpoint, directory="./ckpt", max_to_keep=5)
        saver.save()

        # Reset the variables to test restore.
        W = tf.Variable(tf.random.normal([784, 10]), name="weight")
        b = tf.Variable(tf.zeros([10]), name="bias")
        vars_to_load = {"W": W, "b": b, "optimizer": optimizer}
        checkpoint = tf.train.Checkpoint(**vars_to_load)
        checkpoint.restore(tf.train.latest_checkpoint("./ckpt"))

        W_a = tf.Variable(tf.random.normal([784, 10]))
        tf.train.Checkpoint(W_a=W_a).restore("./other")
        W_b = tf.Variable(tf.random.normal([784, 10]))
        tf.train.Checkpoint(W_b=W_b).write("./other")
    """, select=("GL301",))
    # The first W is the one trained: the checkpoint it is saved in is never restored. W_b is only written.
    assert codes_and_lines(findings) == [("GL301", 3), ("GL301", 19)]


def test_gl302_a_constant_weight_with_no_hidden_layer_after_it(lint):
    # Softmax regression with W = ones: every logit starts equal, and the targets give each output unit
    # its own gradient (p_k - y_k) from the first step: nothing to break. With a hidden layer, the
    # constant hidden units are the symmetry GL302 is about.
    sole = lint("""
        import tensorflow as tf

        W = tf.Variable(tf.ones([784, 10]), name="weight")
        b = tf.Variable(tf.zeros([10]), name="bias")

        def logistic_regression(x):
            return tf.nn.softmax(tf.matmul(x, W) + b)
    """)
    assert codes_and_lines(sole) == []
    hidden = lint("""
        import tensorflow as tf

        W1 = tf.Variable(tf.ones([784, 256]))
        W2 = tf.Variable(tf.random.normal([256, 10], stddev=0.05))

        def mlp(x):
            return tf.matmul(tf.nn.relu(tf.matmul(x, W1)), W2)
    """)
    assert codes_and_lines(hidden) == [("GL302", 3)]


def test_gl302_the_only_layer_of_a_keras_or_torch_model(lint):
    keras_linear = """
        from tensorflow import keras

        model = keras.Sequential([{hidden}keras.layers.Dense(1, kernel_initializer="ones")])
        model.compile(optimizer="sgd", loss="mse")
    """
    assert codes_and_lines(lint(keras_linear.format(hidden=""))) == []
    assert codes_and_lines(lint(keras_linear.format(hidden="keras.layers.Dense(8), "))) == [("GL302", 3)]
    torch_linear = """
        import torch.nn as nn

        net = nn.Linear(2, 1)
        nn.init.ones_(net.weight){more}
    """
    assert codes_and_lines(lint(torch_linear.format(more=""))) == []
    assert codes_and_lines(lint(torch_linear.format(more="\n        head = nn.Linear(1, 1)"))) == [("GL302", 4)]


def test_gl401_advice_is_tensorflow_for_a_tf_log_of_a_helpers_sigmoid(lint):
    findings = lint("""
        import tensorflow as tf

        def discriminator(x):
            hidden = tf.nn.relu(tf.matmul(x, W1) + b1)
            return tf.nn.sigmoid(tf.matmul(hidden, W2) + b2)

        disc_real = discriminator(real)
        disc_fake = discriminator(fake)
        disc_loss = -tf.reduce_mean(tf.math.log(disc_real) + tf.math.log(1. - disc_fake))
    """, select=("GL401",))
    assert codes_and_lines(findings) == [("GL401", 9), ("GL401", 9)]
    assert "use tf.math.log_sigmoid(logits)" in findings[0].message
    assert "use tf.math.log_sigmoid(-logits)" in findings[1].message
    assert not any("F.logsigmoid" in f.message for f in findings)
