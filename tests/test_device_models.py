"""Models exported for the page's own runtime (device_models) and the files the page fetches (ui/device.py)."""

from __future__ import annotations

import copy
import gc
import gzip

import numpy as np
import onnxruntime
import pytest
import torch

from mnist_demo import device_models
from mnist_demo.catalog import shipped
from mnist_demo.data import DataMissingError, load_split
from mnist_demo.models import build_model, probabilities
from mnist_demo.ui import device
from tests.harness import run_coroutine


def mnist_batch(count: int = 64) -> torch.Tensor:
    try:
        images = load_split("mnist", "test").images[:count]
    except DataMissingError as exc:
        pytest.skip(str(exc))
    return images.float().div(255).unsqueeze(1)


@pytest.mark.parametrize("name", [n for n in shipped() if device_models.exportable(shipped()[n].model)])
def test_every_shipped_model_runs_the_same_in_onnx_runtime(name):
    """The exported graph (model + its head) gives PyTorch's probabilities on real digits."""
    model = shipped()[name].model
    file = device_models.device_file(model)
    x = mnist_batch()
    with torch.inference_mode():
        expected = probabilities(model, model(x)).numpy()
    session = onnxruntime.InferenceSession(file.data, providers=["CPUExecutionProvider"])
    got = session.run([device_models.OUTPUT], {device_models.INPUT: x.numpy()})[0]
    assert np.abs(got - expected).max() < 1e-5
    assert device_models.find(file.digest) is file
    assert gzip.decompress(file.gzipped) == file.data


def test_the_numpy_network_keeps_the_server_road():
    assert device_models.device_file(build_model("s2-numpy-cnn", seed=0)) is None


def test_a_file_lives_as_long_as_its_model_and_a_copy_gets_its_own():
    model = build_model("s5-lenet", seed=1).eval()
    file = device_models.device_file(model)
    assert device_models.device_file(model) is file  # exported once
    twin = copy.deepcopy(model)
    with torch.no_grad():
        next(twin.parameters()).add_(1.0)  # a taught copy has other weights, so another file
    assert device_models.device_file(twin).digest != file.digest
    digest = file.digest
    del model, file, twin
    gc.collect()
    assert device_models.find(digest) is None  # the store holds nothing its models do not


def test_two_models_with_the_same_weights_share_one_file_that_outlives_either():
    model = build_model("s5-lenet", seed=2).eval()
    twin = copy.deepcopy(model)  # the same weights loaded twice (two apps in one process, a reload)
    file = device_models.device_file(model)
    assert device_models.device_file(twin) is file
    del twin
    gc.collect()
    assert device_models.find(file.digest) is file  # the first model still serves its file


def serve(path: str, accept: str = "gzip, br", method: str = "GET") -> tuple[int, dict, bytes]:
    """One request through the DeviceFiles middleware (anything else reaches a stand-in app: 418)."""
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "method": method, "headers": [(b"accept-encoding", accept.encode())]}
    run_coroutine(device.DeviceFiles(app)(scope, None, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_runtime_files_are_served_compressed_and_cached_for_a_year():
    for asset in device.assets().values():
        status, headers, body = serve("/" + asset.url, accept="gzip, deflate")
        assert status == 200
        assert headers[b"content-encoding"] == b"gzip" and body == asset.gzipped
        assert b"immutable" in headers[b"cache-control"] and b"max-age=31536000" in headers[b"cache-control"]
    wasm = device.assets()["wasm"]
    status, headers, body = serve("/" + wasm.url, accept="gzip, deflate, br, zstd")
    assert headers[b"content-encoding"] == b"br" and body == wasm.brotli and len(body) < 2.5e6
    status, headers, body = serve("/" + wasm.url, accept="identity")
    assert status == 200 and b"content-encoding" not in headers and body[:4] == b"\0asm"
    assert sum(len(a.gzipped) for a in device.assets().values()) < 4.2e6  # what a first visit adds, runtime side


def test_model_files_by_content_and_nothing_else():
    file = device_models.device_file(shipped()["digitnet"].model)
    status, headers, body = serve(f"/device/m/{file.name}")
    assert status == 200 and gzip.decompress(body) == file.data
    assert serve("/device/m/0123456789abcdef0123.onnx")[0] == 404
    assert serve("/device/a/../../app.py")[0] == 404
    assert serve("/" + device.assets()["ort"].url, method="POST")[0] == 404
    assert serve("/gradio_api/info")[0] == 418  # everything else goes on to Gradio


def test_the_page_script_carries_the_servers_constants():
    from mnist_demo.reading import geometry

    script = device.page_script().decode()
    for name in device.GEOMETRY_CONSTANTS:
        assert f'"{name}": {getattr(geometry, name)}' in script.split("\n", 1)[0]
