"""Test-session settings that must hold before any test imports a library."""

import os

# Keras 3 picks its backend once, at import; the test extra installs Keras and the README's
# test command installs torch (not TensorFlow), so the Keras oracle tests run on torch.
os.environ.setdefault("KERAS_BACKEND", "torch")
