"""mnist_demo: draw a digit, watch a CNN recognize it, train networks and look inside them.

The core (data, reading, models, training, inspection, classroom, weights) never imports gradio;
the browser UI lives in `mnist_demo.ui`.
"""

from .settings import quiet_openmp

quiet_openmp()  # before anything imports torch

__version__ = "0.1.0"
