"""`gradlint verify`: build the models a script defines and measure their real gradients.

The pipeline, parent side (no torch): discover.py finds models in the static facts and their
constructor arguments, slice.py cuts each file down to definitions, runner.py starts one child
process per model. Child side (torch): child.py loads the sliced module, inputs.py makes an input,
measure.py runs forward/backward and N steps. Back in the parent, verdict.py judges the numbers
and report.py prints them.

Keras models run no user code at all: keras_models.py (with keras_layers.py, keras_calls.py and
keras_training.py) turns the static facts into a JSON layer spec, and the child builds a PyTorch
twin from it (keras_twin.py, keras_init.py) with Keras's shapes, activations and initializers.
"""
