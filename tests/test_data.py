"""Data loading: shapes, label counts, both layouts, and the clear error when files are missing."""

import shutil

import pytest
import torch

from mnist_demo import data

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_splits_have_mnist_shapes(name):
    train, test = data.load_split(name, "train"), data.load_split(name, "test")
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 28, 28)
    assert train.labels.dtype == torch.int64 and int(train.labels.max()) == 9
    assert int(train.images.max()) == 255 and int(train.images.min()) == 0


def test_label_counts_are_the_published_ones():
    test = data.load_split("mnist", "test")
    assert torch.bincount(test.labels).tolist() == MNIST_TEST_COUNTS
    assert data.load_split("mnist", "train").labels[0].item() == 5  # the well-known first sample
    assert torch.bincount(data.load_split("fashion-mnist", "test").labels).tolist() == [1000] * 10


def test_loaded_once_and_kept_in_memory():
    assert data.load_split("mnist", "test") is data.load_split("mnist", "test")


def test_torchvision_layout_is_accepted(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source = data.resolve_data_dir() / "mnist"
    for stem in data.SPLIT_FILES["test"]:
        shutil.copy(source / f"{stem}.gz", raw / f"{stem}.gz")
    split = data.load_split("mnist", "test", tmp_path)
    assert torch.equal(split.labels, data.load_split("mnist", "test").labels)


def test_missing_files_give_one_clear_error(tmp_path, monkeypatch):
    def no_internet(root, info):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download", no_internet)
    with pytest.raises(data.DataMissingError) as err:
        data.load_split("fashion-mnist", "train", tmp_path / "nowhere")
    message = str(err.value)
    assert "nowhere" in message and "train-images-idx3-ubyte.gz" in message and "MNIST_DEMO_DATA" in message


def test_cli_reports_missing_data_without_traceback(tmp_path, monkeypatch, capsys):
    from mnist_demo import train

    monkeypatch.setattr(data, "_download", lambda root, info: (_ for _ in ()).throw(OSError("offline")))
    code = train.main(["--model", "s5-lenet", "--data-dir", str(tmp_path), "--out", str(tmp_path / "w")])
    assert code == 2
    assert "data not found" in capsys.readouterr().err


def test_checksum_is_stable():
    assert data.data_checksum("mnist") == data.data_checksum("mnist")
    assert data.data_checksum("mnist").startswith("sha256:")


def test_a_cut_idx_file_is_refused_with_its_name(tmp_path):
    """An IDX file that ends before its declared shape is filled (a download cut short) says so."""
    import gzip

    from mnist_demo.data import read_idx

    header = bytes([0, 0, 8, 3]) + (4).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    whole, cut = tmp_path / "whole-idx3-ubyte.gz", tmp_path / "cut-idx3-ubyte.gz"
    whole.write_bytes(gzip.compress(header + bytes(range(256)) * 12 + bytes(64)))
    cut.write_bytes(gzip.compress(header + bytes(1000)))
    images = read_idx(whole)
    assert images.shape == (4, 28, 28) and images.flags.writeable and images[0, 0, 5] == 5
    with pytest.raises(ValueError, match="cut-idx3-ubyte.gz ends after 1000 of its 3136 values"):
        read_idx(cut)
