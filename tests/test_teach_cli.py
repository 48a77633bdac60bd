"""`python -m mnist_demo.train --extra-data my-digits.zip`: MNIST plus My digits, recorded in the card."""

import json

import numpy as np

from mnist_demo import train
from mnist_demo.my_digits import MyDigits


def test_extra_data_is_trained_on_and_recorded(tmp_path, capsys):
    digits = MyDigits()
    for i in range(20):
        image = np.zeros((28, 28), np.uint8)
        image[6:22, 12 + i % 3: 15 + i % 3] = 255  # a column of ink: a 1
        digits.add(image, 1)
    zipped = tmp_path / "my-digits.zip"
    digits.to_zip(zipped)
    out = tmp_path / "lenet"
    code = train.main(["--model", "s5-lenet", "--recipe", "s1", "--epochs", "1", "--train-subset", "1000",
                       "--threads", "2", "--extra-data", str(zipped), "--extra-repeats", "3", "--out", str(out)])
    assert code == 0
    assert "extra data: 20 digits from my-digits.zip, x3" in capsys.readouterr().out
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["extra_data"]["digits"] == 20 and card["extra_data"]["repeats"] == 3
    assert card["extra_data"]["digits_per_label"][1] == 20 and len(card["extra_data"]["sha256"]) == 64


def test_a_bad_extra_zip_is_refused_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert train.main(["--model", "s5-lenet", "--extra-data", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "not a zip" in capsys.readouterr().err
    assert train.main(["--model", "s5-lenet", "--extra-data", str(tmp_path / "none.zip"),
                       "--out", str(tmp_path / "x")]) == 2
