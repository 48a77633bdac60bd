"""MNIST and Fashion-MNIST as uint8 tensors in memory, read once from the original IDX files.

The data folder comes from `--data-dir`, else the environment variable MNIST_DEMO_DATA, else
./data. Two layouts are accepted: this project's (`mnist/`, `fashion-mnist/` holding the four
.gz files) and torchvision's own (`MNIST/raw/`, `FashionMNIST/raw/`). When the files are missing
they are downloaded through torchvision if the internet is reachable; otherwise `DataMissingError`
says which folder and files are expected.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import settings

DATA_ENV = "MNIST_DEMO_DATA"
TRAIN_SIZE = 60_000  # images in the training split of both datasets
TEST_SIZE = 10_000  # ... and in the test split
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str  # this project's layout
    torchvision_name: str  # torchvision's class and folder name
    classes: tuple[str, ...]


DATASETS = {
    "mnist": DatasetInfo("mnist", "mnist", "MNIST", tuple(str(d) for d in range(10))),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        "fashion-mnist",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}


class DataMissingError(RuntimeError):
    """The dataset files are not in the data folder and could not be downloaded."""


@dataclass(frozen=True)
class Split:
    """One split of a dataset: images (N, 28, 28) uint8 and labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def first(self, n: int | None) -> Split:
        """The first `n` images (all of them for None): S2 trains and tests on the first 1,000."""
        return self if n is None else Split(self.images[:n], self.labels[:n])


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1], the input every model takes."""
    return images.unsqueeze(1).float().div_(255)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder: the argument, else $MNIST_DEMO_DATA, else ./data."""
    return Path(data_dir or settings.current().data).expanduser()


def _candidate_folders(root: Path, info: DatasetInfo) -> list[Path]:
    return [root / info.folder, root / info.torchvision_name / "raw", root]


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _find_split_files(root: Path, info: DatasetInfo, split: str) -> tuple[Path, Path] | None:
    for folder in _candidate_folders(root, info):
        found = [_find_file(folder, stem) for stem in SPLIT_FILES[split]]
        if all(found):
            return found[0], found[1]
    return None


def _download(root: Path, info: DatasetInfo) -> None:
    """Fetch the files through torchvision (into root/<TorchvisionName>/raw)."""
    import torchvision.datasets as tvd

    dataset_class = getattr(tvd, info.torchvision_name)
    for train in (True, False):
        dataset_class(str(root), train=train, download=True)


def _missing_message(root: Path, info: DatasetInfo) -> str:
    files = ", ".join(stem + ".gz" for pair in SPLIT_FILES.values() for stem in pair)
    return (
        f"{info.name} data not found in {root.resolve()}. Expected the four original files "
        f"({files}) in {root / info.folder} (or torchvision's layout {root / info.torchvision_name / 'raw'}), "
        f"and they could not be downloaded (no internet?). Point --data-dir or ${DATA_ENV} at a "
        f"folder that holds them."
    )


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (gzipped or not) into a writable uint8 array of its declared shape.

    The values are read straight into the array, 1 MiB at a time: reading the whole file first and copying
    it into a writable array wrote 47 MB of fresh memory twice, a third of a second of a fast training."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        head = f.read(4)
        dims = np.frombuffer(f.read(4 * head[3]), ">u4").astype(int)
        array = np.empty(dims, np.uint8)
        view, done = memoryview(array).cast("B"), 0
        while done < len(view):
            got = f.readinto(view[done:done + (1 << 20)])
            if not got:
                raise ValueError(f"{path.name} ends after {done} of its {len(view)} values")
            done += got
    return array


def locate(name: str, split: str, data_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Paths of the image and label files, downloading through torchvision if needed."""
    info = DATASETS[name]
    root = resolve_data_dir(data_dir)
    found = _find_split_files(root, info, split)
    if found is None:
        try:
            _download(root, info)
        except Exception as exc:  # no internet, read-only folder, ...
            raise DataMissingError(_missing_message(root, info)) from exc
        found = _find_split_files(root, info, split)
        if found is None:
            raise DataMissingError(_missing_message(root, info))
    return found


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str, root: str) -> Split:
    image_path, label_path = locate(name, split, root)
    images = torch.from_numpy(read_idx(image_path))
    labels = torch.from_numpy(read_idx(label_path).astype(np.int64))
    return Split(images, labels)


def load_split(name: str, split: str, data_dir: str | os.PathLike | None = None) -> Split:
    """One split ("train" or "test") of a dataset, loaded once per process and kept in memory."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    return _load_cached(name, split, str(resolve_data_dir(data_dir).resolve()))


def data_checksum(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """SHA-256 over the four files' decompressed bytes: what a weights card records."""
    digest = hashlib.sha256()
    for split in ("train", "test"):
        for path in locate(name, split, data_dir):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as f:
                digest.update(f.read())
    return "sha256:" + digest.hexdigest()
