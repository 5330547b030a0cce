"""The Keras front-end fills the same facts: GL101, GL102 and GL202 fire on Keras code unchanged."""

from __future__ import annotations

from conftest import codes_and_lines


def test_sigmoid_dense_stack_in_sequential_list(lint):
    findings = lint("""
        import tensorflow as tf

        model = tf.keras.Sequential([
            tf.keras.layers.Dense(64, activation="sigmoid", input_shape=[10]),
            tf.keras.layers.Dense(64, activation="sigmoid"),
            tf.keras.layers.Dense(64, activation=tf.nn.sigmoid),
            tf.keras.layers.Dense(1),
        ])
    """)
    assert codes_and_lines(findings) == [("GL101", 3)]
    assert "keras Sequential" in findings[0].message


def test_model_add_in_a_loop_with_activation_layers(lint):
    findings = lint("""
        from keras import Sequential, layers

        model = Sequential()
        for _ in range(4):
            model.add(layers.Dense(32))
            model.add(layers.Activation("sigmoid"))
        model.add(layers.Dense(1))
    """)
    assert codes_and_lines(findings) == [("GL101", 3)]


def test_normalization_between_resets_the_functional_chain(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        inputs = keras.Input(shape=(8,))
        x = layers.Dense(16, activation="sigmoid")(inputs)
        x = layers.Dense(16, activation="sigmoid")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dense(16, activation="sigmoid")(x)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
    """) == []


def test_functional_chain_without_normalization(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        def build():
            inputs = keras.Input(shape=(8,))
            x = layers.Dense(16, activation="sigmoid")(inputs)
            x = layers.Dense(16, activation="sigmoid")(x)
            x = layers.Dense(16, activation="sigmoid")(x)
            return keras.Model(inputs, layers.Dense(1)(x))
    """)
    assert codes_and_lines(findings) == [("GL101", 6)]


def test_subclassed_model_call(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.d1 = layers.Dense(8, activation="sigmoid")
                self.d2 = layers.Dense(8, activation="sigmoid")
                self.d3 = layers.Dense(8, activation="sigmoid")

            def call(self, x):
                return self.d3(self.d2(self.d1(x)))
    """)
    assert codes_and_lines(findings) == [("GL101", 12)]


def test_keras_optimizer_learning_rate_and_schedules(lint):
    findings = lint("""
        import tensorflow as tf
        from tensorflow import keras

        LR = 0.5
        fixed = tf.optimizers.SGD(learning_rate=2.0)
        adam = keras.optimizers.Adam(learning_rate=LR)
        decayed = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.5, 100, 0.9))
        default = keras.optimizers.SGD()
    """)
    assert codes_and_lines(findings) == [("GL202", 5), ("GL202", 6)]
    assert "constant LR in line 4" in findings[1].message


def test_lr_callback_passed_to_fit_is_a_schedule(lint):
    assert lint("""
        from tensorflow import keras

        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.5), loss="mse")
        model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau(patience=2)])
    """) == []


def test_model_add_belongs_to_its_own_binding_of_the_name(lint):
    assert lint("""
        from tensorflow.keras import layers, models

        model = models.Sequential()
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(1))
        model = models.Sequential()
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(1))
        model = models.Sequential()
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(1))
    """) == []


def test_only_one_branch_of_an_if_builds_the_model(lint):
    assert lint("""
        from tensorflow.keras import layers, models

        def build(deeper):
            model = models.Sequential()
            for _ in range(3):
                model.add(layers.Dense(64, activation="relu"))
            if deeper:
                model.add(layers.Dense(64, activation="relu"))
                model.add(layers.Dense(64, activation="relu"))
            else:
                model.add(layers.Dense(64, activation="relu"))
                model.add(layers.Dense(64, activation="relu"))
            model.add(layers.Dense(64, activation="relu"))
            model.add(layers.Dense(10))
            return model
    """) == []


def test_functional_encoder_and_decoder_are_separate_chains(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        enc_in = keras.Input(shape=(784,))
        x = layers.Dense(256, activation="relu")(enc_in)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        code = layers.Dense(32, activation="relu")(x)
        encoder = keras.Model(enc_in, code)

        dec_in = keras.Input(shape=(32,))
        x = layers.Dense(64, activation="relu")(dec_in)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dense(256, activation="relu")(x)
        out = layers.Dense(784, activation="sigmoid")(x)
        decoder = keras.Model(dec_in, out)
    """) == []


def test_functional_residual_adds_keep_the_shortest_path(lint):
    assert lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        inputs = keras.Input(shape=(64,))
        x = inputs
        for _ in range(6):
            y = layers.Dense(64, activation="tanh")(x)
            y = layers.Dense(64, activation="tanh")(y)
            x = layers.Add()([x, y])
        model = keras.Model(inputs, layers.Dense(1)(x))
    """) == []


def test_deep_functional_plain_stack_is_still_found(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        inputs = keras.Input(shape=(64,))
        x = layers.Dense(64, activation="relu")(inputs)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dense(64, activation="relu")(x)
        outputs = layers.Dense(1)(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
    """)
    assert codes_and_lines(findings) == [("GL102", 5)]


def test_selu_stacks_are_self_normalizing(lint):
    assert lint("""
        from tensorflow import keras

        model = keras.Sequential(
            [keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal") for _ in range(20)]
            + [keras.layers.Dense(10, activation="softmax")]
        )
        model2 = keras.Sequential([
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            keras.layers.Dense(10, activation="softmax"),
        ])
    """) == []


def test_a_name_rebound_by_raw_tensorflow_ops_starts_a_new_chain(lint):
    # TensorFlow-Examples' VAE: the test-time decoder rebuilt from noise reuses the name `decoder`.
    assert lint("""
        import tensorflow as tf

        encoder = tf.nn.tanh(tf.matmul(input_image, weights["encoder_h1"]) + biases["encoder_b1"])
        z_mean = tf.matmul(encoder, weights["z_mean"]) + biases["z_mean"]
        z_std = tf.matmul(encoder, weights["z_std"]) + biases["z_std"]
        z = z_mean + tf.exp(z_std / 2) * eps

        decoder = tf.matmul(z, weights["decoder_h1"]) + biases["decoder_b1"]
        decoder = tf.nn.tanh(decoder)
        decoder = tf.matmul(decoder, weights["decoder_out"]) + biases["decoder_out"]
        decoder = tf.nn.sigmoid(decoder)
        train_op = tf.train.RMSPropOptimizer(learning_rate=0.001).minimize(vae_loss(decoder, input_image))

        decoder = tf.matmul(noise_input, weights["decoder_h1"]) + biases["decoder_b1"]
        decoder = tf.nn.tanh(decoder)
        decoder = tf.matmul(decoder, weights["decoder_out"]) + biases["decoder_out"]
        decoder = tf.nn.sigmoid(decoder)
    """) == []


def test_arithmetic_on_a_layer_output_keeps_its_chain(lint):
    findings = lint("""
        from tensorflow import keras
        from tensorflow.keras import layers

        inputs = keras.Input(shape=(8,))
        x = layers.Dense(16, activation="sigmoid")(inputs) * mask
        x = layers.Dense(16, activation="sigmoid")(x) * mask
        x = layers.Dense(16, activation="sigmoid")(x)
        model = keras.Model(inputs, layers.Dense(1)(x))
    """)
    assert codes_and_lines(findings) == [("GL101", 5)]


def test_keras_3_layer_subclass_is_a_model_block(lint):
    findings = lint("""
        import keras
        from keras import layers

        class Gates(keras.Layer):
            def __init__(self):
                super().__init__()
                self.d1 = layers.Dense(8, activation="sigmoid")
                self.d2 = layers.Dense(8, activation="sigmoid")
                self.d3 = layers.Dense(8, activation="sigmoid")

            def call(self, x):
                return self.d3(self.d2(self.d1(x)))
    """)
    assert codes_and_lines(findings) == [("GL101", 12)]
