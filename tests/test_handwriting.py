"""UNIPEN pen strokes rendered as the browser canvas renders them, and splits that keep a writer on one side.

Data: UNIPEN 1a (International Unipen Foundation; Guyon et al., ICPR 1994), CC BY 4.0,
doi:10.5281/zenodo.1195803, from the data folder's unipen-dev/.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_demo import handwriting as hw
from mnist_demo import weights
from mnist_demo.canvas_spec import BRUSH, INK_SIDE
from mnist_demo.catalog import WEIGHTS_DIR
from mnist_demo.reading.files import decode_ink_payload
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture


@pytest.fixture(scope="module")
def digits():
    try:
        return hw.load_unipen()
    except hw.HandwritingMissingError as exc:
        pytest.skip(str(exc))


def sample(digits, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [digits[i] for i in rng.choice(len(digits), n, replace=False)]


def test_reads_all_four_sites(digits):
    assert len(digits) == 7714
    assert {d.source for d in digits} == set(hw.SITES)
    assert {d.label for d in digits} == set(range(10))
    assert all(s.ndim == 2 and s.shape[1] == 2 for d in digits[:100] for s in d.strokes)


def test_missing_folder_gives_a_clear_error(tmp_path):
    with pytest.raises(hw.HandwritingMissingError, match="unipen-dev"):
        hw.load_unipen(tmp_path)


def test_unknown_site_is_refused(digits):
    with pytest.raises(ValueError, match="unknown UNIPEN site"):
        hw.load_unipen(sites=["nowhere"])


def test_strokes_are_placed_on_the_canvas_upright_with_their_aspect():
    strokes = [np.array([[0.0, 100.0], [0.0, 0.0]]), np.array([[-10.0, 100.0], [10.0, 100.0]])]  # a T, y up
    placed = hw.to_canvas(strokes, size=0.7)
    points = np.concatenate(placed)
    assert points.min(0) == pytest.approx([0.43, 0.15]) and points.max(0) == pytest.approx([0.57, 0.85])
    assert placed[1][0, 1] == pytest.approx(0.15)  # the bar, at the tablet's top, is at the canvas's top


def test_payload_is_what_decode_ink_payload_reads(digits):
    strokes = hw.to_canvas(digits[0].strokes)
    ink = hw.render_ink(strokes)
    assert ink.shape == (INK_SIDE, INK_SIDE) and ink.dtype == np.uint8 and ink.max() == 255
    decoded = decode_ink_payload(hw.render_payload(strokes))
    assert decoded.shape == (INK_SIDE, INK_SIDE)
    np.testing.assert_array_equal(decoded, ink.astype(np.float32) / 255)


def test_brush_width_is_the_canvas_brush():
    ink = hw.render_ink([np.array([[0.2, 0.5], [0.8, 0.5]])])
    column = ink[:, INK_SIDE // 2].astype(np.float32) / 255
    assert column.sum() == pytest.approx(BRUSH * INK_SIDE, rel=0.03)  # a horizontal line's thickness
    dot = hw.render_ink([np.array([[0.5, 0.5]])]).astype(np.float32) / 255
    assert dot.sum() == pytest.approx(np.pi * (BRUSH * INK_SIDE / 2) ** 2, rel=0.05)  # a tap is a round dot


def test_picture_is_dark_ink_on_white_and_prepares_like_the_canvas(digits):
    strokes = hw.to_canvas(digits[1].strokes)
    picture = hw.render_picture(strokes)
    assert picture.shape == (hw.PICTURE_SIDE, hw.PICTURE_SIDE, 3) and picture[0, 0].tolist() == [255, 255, 255]
    assert picture.min() < 40
    canvas = from_ink(hw.render_ink(strokes).astype(np.float32) / 255).image
    assert np.abs(from_picture(picture).image - canvas).mean() < 0.05


def test_default_model_reads_most_rendered_unipen_digits(digits):
    model, _ = weights.load(WEIGHTS_DIR / "digitnet.safetensors")
    chosen = sample(digits, 300)
    canvas = np.stack([from_ink(decode_ink_payload(hw.render_payload(hw.to_canvas(d.strokes)))).image for d in chosen])
    picture = np.stack([from_picture(hw.render_picture(hw.to_canvas(d.strokes))).image for d in chosen])
    labels = np.array([d.label for d in chosen])
    with torch.inference_mode():
        for images in (canvas, picture):
            predicted = model(torch.from_numpy(images).unsqueeze(1)).argmax(1).numpy()
            assert (predicted == labels).mean() >= 0.9


def test_leave_one_site_out_keeps_sites_and_writers_apart(digits):
    splits = hw.leave_one_site_out(digits)
    assert set(splits) == set(hw.SITES)
    for site, (train, test) in splits.items():
        assert len(train) + len(test) == len(digits)
        assert {digits[i].source for i in test} == {site} and site not in {digits[i].source for i in train}
        assert not {digits[i].writer for i in train} & {digits[i].writer for i in test}


def test_writer_folds_keep_a_writer_in_one_fold_and_are_balanced(digits):
    folds = hw.writer_folds(digits, k=5)
    writer_fold: dict[str, int] = {}
    for d, f in zip(digits, folds, strict=True):
        assert writer_fold.setdefault(d.writer, int(f)) == f
    sizes = np.bincount(folds, minlength=5)
    assert sizes.min() >= 0.8 * len(digits) / 5, sizes
    assert not np.array_equal(folds, hw.writer_folds(digits, k=5, seed=1))


def test_a_persons_sessions_are_one_writer(digits):
    # IBM numbers its sessions r0SWW (session S, writer WW), Toshiba [ft]SWWW...: one person, one writer.
    by_file = {d.file.rsplit("/", 1)[-1]: d.writer for d in digits}
    assert by_file["r0112.dat"] == by_file["r0312.dat"] != by_file["r0113.dat"]
    assert by_file["f1007061.dat"] == by_file["t3007062.dat"] != by_file["f1006061.dat"]
    assert by_file["rkt-dig19.dat"] != by_file["sjb-dig20.dat"]  # other sites: one file, one writer
    sessions = {s: {d.file for d in digits if d.source == s} for s in hw.SITES}
    writers = {s: {d.writer for d in digits if d.source == s} for s in hw.SITES}
    assert len(writers["ibm"]) < len(sessions["ibm"]) and len(writers["syn"]) == len(sessions["syn"])


def test_variants_stay_on_the_canvas_and_differ(digits):
    rng = np.random.default_rng(0)
    for d in sample(digits, 50):
        points = np.concatenate(hw.vary(d.strokes, d.label, rng))
        assert points.min() >= 0.0 and points.max() <= 1.0
    images, labels = hw.canvas_images(sample(digits, 5), variants=2, seed=0)
    assert images.shape == (15, 28, 28) and images.dtype == np.uint8 and labels.shape == (15,)
    assert not np.array_equal(images[0], images[1])


def test_styles_add_a_stroke_or_open_a_zero():
    rng = np.random.default_rng(0)
    seven = [np.array([[0.0, 0.0], [1.0, 0.0], [0.4, 1.0]])]
    assert any(len(hw.add_style(list(seven), 7, rng)) == 2 for _ in range(20))  # the crossed 7
    zero = [np.stack([np.cos(t) * 0.4, np.sin(t) * 0.6], 1) for t in [np.linspace(0, 2 * np.pi, 40)]]
    styled = [hw.add_style(list(zero), 0, rng) for _ in range(40)]
    assert any(len(s) == 2 for s in styled) and any(len(s[0]) < 40 for s in styled)  # slashed, open
    slashes = [s[1] for s in styled if len(s) == 2]
    runs_past = [np.ptp(s[:, 0]) > 0.8 or np.ptp(s[:, 1]) > 1.2 for s in slashes]  # past the 0.8 x 1.2 oval
    assert any(runs_past) and not all(runs_past)
    one = [np.array([[0.5, 0.0], [0.5, 1.0]])]
    assert any(len(hw.add_style(list(one), 1, rng)[0]) > 2 for _ in range(20))  # the long upstroke


def test_training_set_keeps_held_out_writers_out(digits):
    train, held_out, info = hw.training_set(["tos"], variants=1, seed=0, holdout_fold=0)
    tos = [d for d in digits if d.source == "tos"]
    assert info["train_digits"] + info["held_out_writers"]["digits"] == len(tos)
    assert len(train) == 2 * info["train_digits"] and len(held_out) == info["held_out_writers"]["digits"]
    assert train.images.dtype == torch.uint8 and train.images.shape[1:] == (28, 28)
    assert info["sites"] == ["tos"] and "UNIPEN" in info["credit"] and info["checksum"].startswith("sha256:")
    folds = hw.writer_folds(tos, 5, 0)
    assert not {d.writer for d, f in zip(tos, folds, strict=True) if f == 0} & \
        {d.writer for d, f in zip(tos, folds, strict=True) if f != 0}


def test_an_excluded_writer_fold_is_neither_trained_nor_calibrated_on(digits):
    train, held_out, info = hw.training_set(["tos"], variants=0, seed=0, holdout_fold=1, exclude_fold=3)
    tos = [d for d in digits if d.source == "tos"]
    folds = hw.writer_folds(tos, 5, 0)
    assert info["excluded_writers"] == {"fold": 3, "of": 5, "digits": int((folds == 3).sum())}
    assert len(train) == int(((folds != 3) & (folds != 1)).sum()) and len(held_out) == int((folds == 1).sum())
    excluded_images, _ = hw.canvas_images([d for d, f in zip(tos, folds, strict=True) if f == 3])
    trained = {bytes(im) for im in train.images.numpy()} | {bytes(im) for im in held_out.images.numpy()}
    assert not {bytes(im) for im in excluded_images} & trained
    with pytest.raises(ValueError, match="also the held-out fold"):
        hw.training_set(["tos"], variants=0, holdout_fold=2, exclude_fold=2)


def test_unreadable_marks_are_dots_and_straight_lines_that_cannot_be_their_label(digits):
    def digit(label, *strokes):
        return hw.PenDigit(0, "f", "x", label, tuple(np.asarray(s, np.float64) for s in strokes))

    upright, flat = [[0, 0], [0.02, 1], [0, 2]], [[0, 0], [1, 0.05], [2, 0]]
    assert hw.unreadable_mark(digit(4, upright)) == "line" and hw.unreadable_mark(digit(1, upright)) is None
    assert hw.unreadable_mark(digit(1, flat)) == "line" and hw.unreadable_mark(digit(7, [[0, 0], [1.5, 1.5], [3, 3]])) == "line"
    assert hw.unreadable_mark(digit(8, [[5, 5], [5, 5], [5.1, 5]])) == "dot"
    assert hw.unreadable_mark(digit(7, [[0, 0], [2, 0], [1, -3]])) is None  # a real 7
    assert hw.unreadable_mark(digit(4, upright, flat)) is None  # two strokes that cross: not one straight mark
    marked = [d for d in digits if hw.unreadable_mark(d)]
    assert {d.source for d in marked} == {"ibm"} and 40 <= len(marked) <= 80  # IBM's recordings lost strokes


def test_writers_used_recomputes_the_trained_and_held_out_writers_of_a_card(digits):
    _, _, info = hw.training_set(["tos", "app"], variants=0, seed=0, holdout_fold=1, exclude_fold=3)
    trained, held = hw.writers_used(info, digits)
    mine = [d for d in digits if d.source in ("tos", "app")]  # the same folds training_set made
    folds = hw.writer_folds(mine, 5, 0)
    assert held == {d.writer for d, f in zip(mine, folds, strict=True) if f == 1}
    assert trained == {d.writer for d, f in zip(mine, folds, strict=True) if f not in (1, 3)}
    assert len(trained) == info["train_writers"] and not trained & held
    assert not {d.writer for d in digits if d.source in ("syn", "ibm")} & (trained | held)


def test_sparser_keeps_the_ends_and_fewer_points():
    rng = np.random.default_rng(0)
    stroke = np.stack([np.linspace(0, 1, 40), np.linspace(0, 1, 40) ** 2], 1)
    dot = np.array([[0.5, 0.5], [0.51, 0.5]])
    thin, kept = hw.sparser([stroke, dot], rng)
    assert 10 <= len(thin) <= 21 and np.array_equal(thin[0], stroke[0]) and np.array_equal(thin[-1], stroke[-1])
    assert np.array_equal(kept, dot)


def test_the_fine_tuning_base_never_saw_unipen():
    _, card = weights.load(WEIGHTS_DIR / "base" / "digitnet-mnist.safetensors")
    assert card["model"] == "digitnet" and "handwriting" not in card


def test_cli_mixes_handwriting_in_and_records_it_in_the_card(tmp_path, digits):
    import json

    from mnist_demo import train

    out = tmp_path / "hw"
    assert train.main(["--model", "digitnet", "--recipe", "handwriting", "--init",
                       str(WEIGHTS_DIR / "base" / "digitnet-mnist.safetensors"), "--handwriting", "tos",
                       "--handwriting-variants", "0", "--train-subset", "256", "--epochs", "1",
                       "--threads", "2", "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["handwriting"]["sites"] == ["tos"] and card["handwriting"]["held_out_writers"]["fold"] == 0
    assert card["init"]["weights"].endswith("digitnet-mnist.safetensors")
    assert 0.1 < card["calibration"]["temperature"] < 10 and card["calibration"]["ece_after"] >= 0
    assert 0.5 <= card["not_sure_below"] < 1 and card["not_sure_below"] == card["calibration"]["not_sure"]["threshold"]
    assert card["test_accuracy"] > 0.99  # a few steps from the trained base keep it trained
    assert card["handwriting"]["excluded_writers"] is None
    assert train.main(["--model", "digitnet", "--recipe", "handwriting", "--handwriting", "tos",
                       "--handwriting-exclude", "0", "--out", str(tmp_path / "y")]) == 2  # excluded = held out
    assert train.main(["--model", "s5-lenet", "--init", str(WEIGHTS_DIR / "digitnet.safetensors"),
                       "--epochs", "1", "--out", str(tmp_path / "x")]) == 2  # the wrong architecture is refused
