"""Models for the page's own runtime: a network exported to ONNX once, kept while the model lives, named by its content.

The page runs the picked network itself (ONNX Runtime Web) and needs it as an ONNX file: the input
`x` (N, 1, 28, 28) in [0, 1], the output `p` (N, classes), probabilities, with the model's own head
(a softmax, or none for a network that ends in one), so the page does no arithmetic of its own after
the graph. A model is exported the first time it is asked for (shipped ones when the app is built,
a session's or a class's model when it is made: ~0.05 s each, ~0.7 s for the first of the process),
and the file lives as long as the model does (both registries hold it weakly, by the model), so the store is bounded by the models the app keeps (shipped, MAX_HELD_MODELS, classes).
Files are named by their SHA-256, so the browser may cache them forever.

The NumPy network (S2) cannot be traced and keeps the server road (`device_file` returns None).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import threading
import warnings
import weakref
from dataclasses import dataclass

import torch
from torch import nn

from .models import MODELS, probabilities

OPSET = 17  # ONNX Runtime Web 1.30 runs opsets up to 21; 17 has every operator these networks use
INPUT, OUTPUT = "x", "p"


@dataclass(frozen=True)
class DeviceFile:
    """One exported model: its bytes, gzip-compressed for the wire, and its content name."""

    digest: str  # the first 20 hex digits of the ONNX bytes' SHA-256
    data: bytes
    gzipped: bytes

    @property
    def name(self) -> str:
        return f"{self.digest}.onnx"


class _WithHead(nn.Module):
    """The model followed by its probability head (`models.probabilities`), as one graph."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return probabilities(self.model, self.model(x))


def exportable(model: nn.Module) -> bool:
    """Every torch network here; not the NumPy one (its forward pass is NumPy, invisible to a tracer)."""
    name = getattr(model, "spec_name", None)
    return isinstance(model, nn.Module) and not (name in MODELS and MODELS[name].cpu_only)


def to_onnx(model: nn.Module) -> bytes:
    """The model (a copy in eval mode: the shared one is never touched) with its head as ONNX bytes."""
    import onnx

    twin = copy.deepcopy(model).eval()
    twin.spec_name = getattr(model, "spec_name", None)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation on every call
        # dynamo=False: the TorchScript exporter takes ~0.05 s a model; torch.export's takes seconds.
        torch.onnx.export(_WithHead(twin), torch.zeros(1, 1, 28, 28), buffer, input_names=[INPUT],
                          output_names=[OUTPUT], dynamic_axes={INPUT: {0: "n"}, OUTPUT: {0: "n"}},
                          opset_version=OPSET, dynamo=False)
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


_BY_MODEL: weakref.WeakKeyDictionary[nn.Module, DeviceFile] = weakref.WeakKeyDictionary()
_FILES: weakref.WeakValueDictionary[str, DeviceFile] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


def device_file(model: nn.Module | None) -> DeviceFile | None:
    """The model's ONNX file, exported on first call and kept on the model; None for the NumPy network."""
    if model is None or not exportable(model):
        return None
    found = _BY_MODEL.get(model)
    if found is not None:
        return found
    with _LOCK:  # one export at a time: a model asked for twice at once is exported once
        found = _BY_MODEL.get(model)
        if found is None:
            found = _keep(model, to_onnx(model))
    return found


def adopt(model: nn.Module, data: bytes) -> DeviceFile:
    """`data`, an export of `model` made before (a class model's, stored with its class by the server that trained
    it), as the model's file: not exported again, and the same name on every server."""
    with _LOCK:
        found = _BY_MODEL.get(model)
        return found if found is not None else _keep(model, data)


def _keep(model: nn.Module, data: bytes) -> DeviceFile:
    """Hold `data` as the model's file (under _LOCK)."""
    digest = hashlib.sha256(data).hexdigest()[:20]
    # Two live models with the same weights (the shipped ones loaded by two apps) share one file: a second,
    # equal file put under the digest would take it away from the first model when the second one dies.
    found = _FILES.get(digest) or DeviceFile(digest, data, gzip.compress(data, 6, mtime=0))
    _BY_MODEL[model] = found  # the file lives as long as the model (a deep copy gets none)
    _FILES[digest] = found
    return found


def find(digest: str) -> DeviceFile | None:
    """A file exported in this process whose model is still alive, by its digest (the page's request)."""
    return _FILES.get(digest)
