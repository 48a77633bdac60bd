"""The command line: a short training run measurably improves accuracy; evaluate prints the report."""

import json

from mnist_demo import evaluate, train


def test_short_training_improves_accuracy_and_writes_a_card(tmp_path, capsys):
    out = tmp_path / "lenet"
    code = train.main(["--model", "s5-lenet", "--recipe", "s1", "--epochs", "1", "--train-subset", "3000", "--batch-size", "32",
                       "--threads", "2", "--out", str(out)])
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["test_accuracy"] > 0.80  # untrained: ~10%
    assert card["recipe"]["train_subset"] == 3000 and card["seed"] == 0
    capsys.readouterr()
    assert evaluate.main([str(out.with_suffix(".safetensors"))]) == 0
    report = capsys.readouterr().out
    assert f"accuracy: {card['test_accuracy']:.2%}" in report
    assert "confusion matrix" in report and report.count("\n") > 25


def test_bad_hyperparameters_are_refused_cleanly(tmp_path, capsys):
    assert train.main(["--model", "s5-lenet", "--lr", "-1", "--out", str(tmp_path / "x")]) == 2
    assert "lr must be" in capsys.readouterr().err


def test_evaluate_reports_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nope")
    assert evaluate.main([str(bad)]) == 2
    assert "not a safetensors file" in capsys.readouterr().err
