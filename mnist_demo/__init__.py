"""mnist_demo: draw a digit, watch a CNN recognize it, train networks and look inside them.

The core (data, preprocess, models, training, inspection, weights) never imports gradio;
the browser UI lives in `mnist_demo.ui`.
"""

import os

# Let OpenMP threads that wait for work sleep instead of spinning (set before torch is imported, or it
# has no effect; a value already in the environment wins). On a busy machine (a laptop with a browser
# open, a shared server) spinning threads steal the cores the work needs: one fastnet epoch on 2 threads
# of a loaded 2-core machine took 78-115 s spinning and 31-38 s passive.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
