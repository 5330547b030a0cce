"""gradlint: find the training-code mistakes that make gradients explode, vanish or turn NaN."""

__version__ = "0.1.0"
