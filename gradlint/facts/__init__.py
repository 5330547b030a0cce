"""The facts of a file, gathered in one pass (builder.py) and derived lazily from it: names, values,
layers and chains, optimizers, training-step events, model traits. Checks read these; they never walk the tree."""
