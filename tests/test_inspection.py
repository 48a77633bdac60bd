"""The inspection core against independent computations: hooks, hand-computed receptive fields, F.conv2d."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mnist_demo import inspection as ins
from mnist_demo import pictures
from mnist_demo.models import MODELS, build_model

ALL_MODELS = list(MODELS)


def digit_like() -> np.ndarray:
    """A "7"-ish stroke: enough ink for every gradient to be non-zero."""
    image = np.zeros((28, 28), np.float32)
    image[6:9, 7:21] = 1.0
    for row in range(9, 23):
        col = 20 - (row - 9) // 2
        image[row, col - 1:col + 2] = 1.0
    return image


@pytest.fixture(scope="module", params=ALL_MODELS)
def model(request):
    return build_model(request.param, seed=0).eval()


def spatial_layers(model) -> list[torch.nn.Module]:
    return [m for m in model.modules() if ins.is_conv(m) or ins.is_pool(m)]


def hooked_outputs(model, x, modules) -> list[torch.Tensor]:
    """Outputs of `modules` during an ordinary model(x) call, recorded with forward hooks."""
    seen: dict[int, torch.Tensor] = {}
    handles = [m.register_forward_hook(lambda mod, i, o: seen.setdefault(id(mod), o.detach())) for m in modules]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return [seen[id(m)] for m in modules]


def test_trace_reproduces_the_model(model):
    x = ins.as_input(digit_like())
    with torch.no_grad():
        steps = ins.trace(model, x)
        assert torch.allclose(steps[-1].output, model(x), atol=1e-6)


def test_feature_maps_have_the_layers_output_shapes(model):
    x = ins.as_input(digit_like())
    layers = spatial_layers(model)
    acts = ins.feature_maps(model, x)
    expected = [tuple(o.shape[1:]) for o in hooked_outputs(model, x, layers)]
    assert [m.values.shape for m in acts.maps] == expected
    assert len(acts.maps) == len(layers)
    assert acts.probabilities.shape == (10,) and acts.probabilities.sum() == pytest.approx(1, abs=1e-5)
    for maps in acts.maps:
        side = maps.values.shape[-1]
        grid = maps.render(tile_side=side, gap=1)  # one pixel per value
        columns = pictures.grid_columns(maps.values.shape[0])
        rows = -(-maps.values.shape[0] // columns)
        assert grid.shape == (rows * (side + 1) + 1, columns * (side + 1) + 1, 3)


def test_pool_maps_equal_the_pool_layers_output(model):
    x = ins.as_input(digit_like())
    pools = [m for m in model.modules() if ins.is_pool(m)]
    pooled = [m for m in ins.feature_maps(model, x).maps if m.layer.startswith("pool")]
    for shown, real in zip(pooled, hooked_outputs(model, x, pools), strict=True):
        if shown.chain == shown.layer:  # nothing after the pool but flatten/conv
            np.testing.assert_allclose(shown.values, real[0].numpy(), atol=1e-6)


def test_conv_maps_are_taken_after_the_activation():
    model = build_model("s5-lenet", seed=0).eval()
    x = ins.as_input(digit_like())
    acts = ins.feature_maps(model, x)
    assert acts.maps[0].chain == "conv1 → relu1"
    with torch.no_grad():
        by_hand = torch.relu(model[1](model[0](x)))[0].numpy()
    np.testing.assert_allclose(acts.maps[0].values, by_hand, atol=1e-6)
    digitnet = ins.feature_maps(build_model("digitnet", seed=0).eval(), x)
    assert digitnet.maps[0].chain == "conv1 → bn1 → relu1" and digitnet.maps[0].values.min() >= 0


def test_fully_connected_vectors_and_scores(model):
    acts = ins.feature_maps(model, digit_like())
    linears = [m for m in model.modules() if ins.is_linear(m)]
    assert [v.values.shape[0] for v in acts.vectors] == [m.weight.shape[0] for m in linears]
    assert acts.scores.shape == (10,)
    assert acts.vectors[-1].render().dtype == np.uint8


def test_one_filter_tile_per_filter(model):
    convs = [m for m in model.modules() if ins.is_conv(m)]
    grids = ins.filters(model)
    assert [g.shape for g in grids] == [tuple(c.weight.shape) for c in convs]
    for grid, conv in zip(grids, convs, strict=True):
        n, k = conv.weight.shape[0], conv.weight.shape[-1]
        assert grid.tiles.shape == (n, k, k)
        image = grid.render(tile_side=k, gap=1)
        columns = pictures.grid_columns(n)
        for index in range(n):  # every filter sits in its own cell, zero drawn white
            r, c = divmod(index, columns)
            cell = image[1 + r * (k + 1):1 + r * (k + 1) + k, 1 + c * (k + 1):1 + c * (k + 1) + k]
            np.testing.assert_array_equal(cell, pictures.colorize_diverging(grid.tiles[index], grid.limit))
        weights = conv.weight.detach().numpy()
        expected = weights[:, 0] if weights.shape[1] == 1 else weights.mean(axis=1)
        np.testing.assert_allclose(grid.tiles, expected, atol=1e-7)
    if not convs:
        assert grids == []


def test_zero_weight_is_white_and_the_scale_symmetric():
    colours = pictures.colorize_diverging(np.array([-2.0, 0.0, 2.0, 1.0]))
    assert tuple(colours[1]) == (247, 247, 247)
    assert colours[0][2] > colours[0][0] and colours[2][0] > colours[2][2]  # blue below zero, red above


def check_heatmap(heat: ins.Heatmap) -> None:
    assert heat.values.shape == (28, 28) and heat.values.dtype == np.float32
    assert np.isfinite(heat.values).all()
    assert heat.values.min() >= 0 and heat.values.max() <= 1
    assert heat.values.max() == pytest.approx(1.0) or not heat.values.any()


def test_grad_cam_and_saliency_are_28x28_finite_normalized(model):
    image = digit_like()
    acts, pairs = ins.where_it_looks(model, image, [3, 7])
    has_conv = any(ins.is_conv(m) for m in model.modules())
    for cam, sal in pairs:
        check_heatmap(sal)
        assert sal.values.max() == pytest.approx(1.0)  # the score depends on the pixels
        if has_conv:
            check_heatmap(cam)
        else:
            assert cam.values is None and cam.reason == "no convolution layer"
    assert ins.grad_cam(model, image, 5).target == 5
    check_heatmap(ins.saliency(model, image, 5))


def test_grad_cam_matches_a_hand_computation():
    model = build_model("s5-lenet", seed=1).eval()
    x = ins.as_input(digit_like())
    target = 4
    relu2 = model[5]  # Normalize, conv1, relu1, pool1, conv2, relu2
    kept = {}
    handle = relu2.register_forward_hook(lambda m, i, o: kept.setdefault("a", o))
    try:
        scores = model(x)
    finally:
        handle.remove()
    (grad,) = torch.autograd.grad(scores[0, target], kept["a"])
    cam = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * kept["a"]).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=(28, 28), mode="bilinear", align_corners=False)[0, 0].detach()
    expected = (cam / cam.max()).numpy() if cam.max() > 0 else cam.numpy()
    heat = ins.grad_cam(model, x, target)
    assert heat.layer == "conv2 → relu2"
    np.testing.assert_allclose(heat.values, expected, atol=1e-5)


def test_saliency_matches_the_input_gradient():
    model = build_model("s3-mlp", seed=0).eval()
    x = ins.as_input(digit_like()).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[0, 2], x)
    magnitude = grad[0, 0].abs().numpy()
    np.testing.assert_allclose(ins.saliency(model, x.detach(), 2).values, magnitude / magnitude.max(), atol=1e-6)


def test_targets_may_depend_on_the_prediction():
    model = build_model("s5-lenet", seed=0).eval()
    acts, pairs = ins.where_it_looks(model, digit_like(), lambda p: [int(np.argmax(p))])
    assert pairs[0][0].target == int(np.argmax(acts.probabilities))


def test_overlay_is_a_small_rgb_image():
    overlay = pictures.render_overlay(digit_like(), np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28))
    assert overlay.shape == (224, 224, 3) and overlay.dtype == np.uint8
    untouched = pictures.render_overlay(digit_like(), np.zeros((28, 28), np.float32), size=28)
    np.testing.assert_array_equal(untouched[..., 0], (digit_like() * 255).astype(np.uint8))


# --- architecture table -------------------------------------------------------------------------

HAND_COMPUTED = {  # receptive field side after each conv / pool layer, in order
    "s5-lenet": [5, 6, 14, 16],  # 5; +1·1; +4·2; +1·2
    "s5-lenet-fashion": [5, 6, 14, 16],
    "digitnet": [3, 5, 6, 10, 14, 16],  # 3; +2; +1 (jump 2); +2·2; +2·2; +1·2
    "fashionnet": [3, 5, 6, 10, 14, 16],  # padding does not change the receptive field
    "s4-two-conv": [3, 4, 8, 10],  # 3; +1; +2·2; +1·2
    "s1-bn-cnn": [5, 6],
    "s2-numpy-cnn": [3, 4],
    "fastnet": [5, 9, 11, 19, 23],  # 5 (stride 2); +2·2; +1·2; +2·4; +1·4 (its blocks pool before BN/ReLU)
    "classic": [3, 5, 6],
}


@pytest.mark.parametrize("name", sorted(HAND_COMPUTED))
def test_receptive_fields_match_hand_computed_values(name):
    rows = [r for r in ins.layer_table(build_model(name, seed=0)) if r.kind in ("conv", "pool")]
    assert [r.receptive_field for r in rows] == [(s, s) for s in HAND_COMPUTED[name]]


def test_lenet_table_in_full():
    rows = {r.name: r for r in ins.layer_table(build_model("s5-lenet", seed=0))}
    assert [rows[n].receptive_field[0] for n in ("conv1", "pool1", "conv2", "pool2")] == [5, 6, 14, 16]
    assert [rows[n].jump[0] for n in ("conv1", "pool1", "conv2", "pool2")] == [1, 2, 2, 4]
    assert rows["conv1"].formula == ("(28 + 2·0 − 5) / 1 + 1 = 24",)
    assert rows["pool2"].formula == ("(8 + 2·0 − 2) / 2 + 1 = 4",)
    assert rows["conv1"].params == 6 * 25 + 6 and rows["fc1"].params == 256 * 120 + 120
    assert rows["fc1"].receptive_field is None  # after flatten every unit sees the whole image
    s4 = {r.name: r for r in ins.layer_table(build_model("s4-two-conv"))}
    assert s4["pool2"].formula == ("⌊(11 + 2·0 − 2) / 2⌋ + 1 = 5",)


def test_table_output_shapes_match_a_real_forward(model):
    x = ins.as_input(digit_like())
    rows = ins.layer_table(model)[1:]  # the first row is the input
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    outputs = hooked_outputs(model, x, leaves)
    assert [r.output_shape for r in rows] == [tuple(o.shape[1:]) for o in outputs]
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    for row in rows:
        if row.formula:  # the arithmetic written out gives the real size
            assert int(re.search(r"= (\d+)$", row.formula[-1]).group(1)) == row.output_shape[-1]


def test_output_size_formula_rounds_down_and_says_so():
    assert ins.output_size_formula(28, 3, 2, 1) == ("⌊(28 + 2·1 − 3) / 2⌋ + 1 = 14", 14)
    assert ins.output_size_formula(28, 5, 1, 2) == ("(28 + 2·2 − 5) / 1 + 1 = 28", 28)


# --- convolution step-through -------------------------------------------------------------------

KERNELS_TO_CHECK = {**ins.KERNELS, "random-5x5": np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32),
                    "learned-lenet": ins.first_conv_kernels(build_model("s5-lenet", seed=0))[2]}


@pytest.mark.parametrize("kernel_name", sorted(KERNELS_TO_CHECK))
@pytest.mark.parametrize("padding", ins.PADDINGS)
@pytest.mark.parametrize("stride", ins.STRIDES)
def test_step_through_equals_conv2d(kernel_name, padding, stride):
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32) * digit_like()
    kernel = KERNELS_TO_CHECK[kernel_name]
    steps = ins.conv_steps(image, kernel, padding, stride)
    reference = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                         padding=padding, stride=stride)[0, 0].numpy()
    assert steps.output.shape == reference.shape
    np.testing.assert_allclose(steps.output, reference, atol=1e-5)
    assert steps.count == reference.size == ins.conv_output_size(28, kernel.shape[0], padding, stride) ** 2
    for n in (0, steps.count // 2, steps.count - 1):
        row, col = steps.position(n)
        assert steps.products(n).sum() == pytest.approx(reference[row, col], abs=1e-5)


def test_arithmetic_is_written_out():
    image = np.zeros((28, 28), np.float32)
    image[0, 1], image[1, 1] = 0.5, 1.0
    steps = ins.conv_steps(image, ins.KERNELS["sobel-x"], padding=1, stride=1)
    n = 1  # output (0, 1): the window over padded rows 0-2, columns 1-3
    assert steps.position(n) == (0, 1) and steps.window(n) == (0, 1)
    text = steps.arithmetic(n)
    assert text.splitlines()[0] == "0.00×(-1) + 0.00×0 + 0.00×1"
    assert text.splitlines()[1] == "+ 0.00×(-2) + 0.50×0 + 0.00×2"
    assert text.endswith(f"= {steps.output[0, 1]:.3f}")
    terms = re.findall(r"(-?[\d.]+)×\(?(-?[\d.e-]+)\)?", text)
    assert len(terms) == 9
    assert sum(float(a) * float(b) for a, b in terms) == pytest.approx(steps.output[0, 1], abs=1e-3)


def test_step_pictures_show_the_window_and_the_partial_output():
    steps = ins.conv_steps(digit_like(), ins.KERNELS["laplacian"], padding=2, stride=3)
    picture = pictures.render_conv_input(steps, 5, cell=8)
    assert picture.shape == (32 * 8, 32 * 8, 3)
    top, left = steps.window(5)
    assert tuple(picture[top * 8, left * 8]) == tuple(pictures.WINDOW_COLOUR)
    out = pictures.render_conv_output(steps, 5, cell=4)
    assert tuple(out[-1, -1]) == tuple(pictures.UNFILLED_COLOUR)  # the last position is not computed yet
    assert tuple(pictures.render_conv_output(steps, steps.count - 1, cell=4)[0, 0]) != tuple(pictures.UNFILLED_COLOUR)


def test_images_are_compact():
    model = build_model("digitnet", seed=0).eval()
    acts = ins.feature_maps(model, digit_like())
    total = sum(len(pictures.to_png(m.render(tile_side=1, gap=1))) for m in acts.maps)
    assert total < 100_000, total
