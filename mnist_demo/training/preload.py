"""What the training fork server loads once, so that every training process it forks starts warm.

Imported only in that server (see `runner.process_context`), never in the web server: the training
process's code with torch, torch._dynamo (torch.optim imports it at the first optimizer: seconds
every job would pay again), and MNIST from the data folder of the environment ($MNIST_DEMO_DATA)
with its checksum for the card, which the forked processes share copy-on-write. Data that is
missing here is simply loaded (or reported) by the training that needs it.
"""

import logging

import torch._dynamo  # noqa: F401

from ..data import load_split, resolve_data_dir
from . import card, runner, teach, worker  # noqa: F401

try:
    _root = str(resolve_data_dir().resolve())
    load_split("mnist", "train", _root), load_split("mnist", "test", _root)
    card._checksum("mnist", _root)
except Exception as exc:  # the job that needs the data says what is wrong
    logging.getLogger(__name__).debug("training fork server: no MNIST preloaded (%s)", exc)
