"""The shared test and benchmark harness: one percentile, machine info, results files, ports, strokes."""

from __future__ import annotations

import json
import random
import socket

import numpy as np
import pytest

from tests import harness


def test_percentile_is_numpys_nearest_method():
    rng = random.Random(0)
    for n in (1, 2, 3, 10, 27, 31, 122, 200):
        values = [rng.uniform(0, 500) for _ in range(n)]
        for q in (0, 5, 50, 90, 95, 99, 100):
            assert harness.percentile(values, q) == float(np.percentile(values, q, method="nearest")), (n, q)
            assert harness.percentile(values, q) in values  # always one of the measured values
    with pytest.raises(ValueError):
        harness.percentile([], 95)


def test_free_port_can_be_bound():
    port = harness.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_machine_info_names_what_figures_depend_on():
    info = harness.machine_info()
    assert info["cores"] >= 1 and info["cpu"] and info["python"] and info["torch"]
    assert len(info["load_avg_1_5_15"]) in (0, 3)
    assert "cores" in harness.describe_machine(info)


def test_results_carry_the_command_and_the_machine(tmp_path):
    md = harness.write_results("example", {"value": 1}, "# Example\n\n| a |\n", out_dir=tmp_path)
    data = json.loads((tmp_path / "example.json").read_text())
    assert data["value"] == 1 and data["command"].startswith("python ") and data["machine"]["cores"] >= 1
    text = md.read_text()
    assert text.startswith("# Example") and data["command"] in text and "cores" in text


def test_command_line_is_relative_to_the_repository():
    assert harness.command_line([str(harness.ROOT / "bench" / "x.py"), "--tab", "draw"]) == \
        "python -m bench.x --tab draw"


def test_every_digit_has_strokes_inside_the_canvas():
    assert sorted(harness.DIGITS) == list(range(10))
    for strokes in harness.DIGITS.values():
        for stroke in strokes:
            assert len(stroke) >= 2 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y in stroke)


def test_a_missing_optional_dataset_skips_with_its_path(tmp_path, environment):
    environment(MNIST_DEMO_DATA=tmp_path)
    mark = harness.needs_dataset("unipen-dev", "the handwriting set")
    assert mark.args[0] is True and str(tmp_path / "unipen-dev") in mark.kwargs["reason"]
    (tmp_path / "unipen-dev").mkdir()
    assert harness.needs_dataset("unipen-dev").args[0] is False
