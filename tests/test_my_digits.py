"""My digits: the bounded collection, its zip (round trip, IDX files torchvision reads) and refused zips."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest

from mnist_demo import digits_zip, my_digits
from mnist_demo.data import read_idx
from mnist_demo.digits_zip import DigitsZipError, idx_bytes, write_idx
from mnist_demo.my_digits import CollectionFull, MyDigits, ink_of
from mnist_demo.reading.geometry import from_ink


def digit_image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 8:20] = rng.integers(0, 256, (16, 12), dtype=np.uint8)
    return image


def ink_map(seed: int, side: int = 112) -> np.ndarray:
    ink = np.zeros((side, side), np.uint8)
    ink[20 + seed % 10: 90, 50:62] = 255
    return ink


def collection(n: int = 23) -> MyDigits:
    digits = MyDigits()
    for i in range(n):
        digits.add(digit_image(i), i % 10, ink_map(i) if i % 3 else None, "drawing" if i % 2 else "picture")
    return digits


def test_add_count_delete_and_cap():
    digits = MyDigits(cap=5)
    added = [digits.add(digit_image(i), label) for i, label in enumerate([3, 3, 7, 0, 9])]
    assert digits.counts() == [1, 0, 0, 2, 0, 0, 0, 1, 0, 1]
    with pytest.raises(CollectionFull, match="at most 5"):
        digits.add(digit_image(9), 1)
    assert digits.remove(added[1].id) and not digits.remove(added[1].id)
    assert digits.counts()[3] == 1 and len(digits) == 4
    digits.add(digit_image(9), 1)  # room again
    assert [d.label for d in digits.by_label()[3]] == [3]


@pytest.mark.parametrize("label", [-1, 10, 2.5, True, "3"])
def test_bad_labels_refused(label):
    with pytest.raises(ValueError, match="label"):
        MyDigits().add(digit_image(0), label)


def test_bad_images_refused():
    with pytest.raises(ValueError, match="28x28"):
        MyDigits().add(np.zeros((27, 28), np.uint8), 1)
    with pytest.raises(ValueError, match="ink"):
        MyDigits().add(digit_image(0), 1, ink=np.zeros((300, 300), np.uint8))


def test_prepared_drawing_keeps_the_input_and_the_ink():
    prepared = from_ink(ink_map(4))
    digit = MyDigits().add_prepared(prepared, 1)
    assert digit.image.shape == (28, 28) and digit.image.dtype == np.uint8
    np.testing.assert_array_equal(digit.ink, ink_map(4))
    again = from_ink(digit.ink)  # the ink prepares to the same model input
    np.testing.assert_array_equal(np.round(again.image * 255).astype(np.uint8), digit.image)
    with pytest.raises(ValueError, match="no digit"):
        MyDigits().add_prepared(from_ink(np.zeros((112, 112), np.uint8)), 1)


def test_a_large_pictures_ink_is_cropped_and_shrunk():
    class Picture:
        steps = [("grey", None), ("ink", np.pad(np.full((400, 200), 255, np.uint8), 300))]

    ink = ink_of(Picture())
    assert max(ink.shape) <= my_digits.INK_SIDE and ink.max() == 255


def test_zip_round_trip(tmp_path):
    digits = collection()
    data = digits.to_zip(tmp_path / "my-digits.zip")
    assert (tmp_path / "my-digits.zip").read_bytes() == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        rows = list(csv.DictReader(io.StringIO(zf.read("labels.csv").decode())))
    assert {"labels.csv", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "README.txt"} <= names
    assert sum(n.startswith("images/") for n in names) == 23 and len(rows) == 23
    assert rows[0]["file"] == "images/00001-0.png" and rows[0]["label"] == "0"

    back = MyDigits.from_zip(tmp_path / "my-digits.zip")
    assert len(back) == 23 and back.counts() == digits.counts()
    for a, b in zip(digits, back, strict=True):
        assert a.label == b.label and a.source == b.source
        np.testing.assert_array_equal(a.image, b.image)
        assert (a.ink is None) == (b.ink is None)
        if a.ink is not None:
            np.testing.assert_array_equal(a.ink, b.ink)


def test_idx_files_read_back_by_torchvision_and_ours(tmp_path):
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images, labels = collection().arrays()
    write_idx(tmp_path / "images", images)
    write_idx(tmp_path / "labels", labels.astype(np.uint8))
    np.testing.assert_array_equal(read_image_file(str(tmp_path / "images")).numpy(), images)
    np.testing.assert_array_equal(read_label_file(str(tmp_path / "labels")).numpy(), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "images"), images)
    # the zip's IDX members are the same bytes
    with zipfile.ZipFile(io.BytesIO(collection().to_zip())) as zf:
        assert zf.read("train-images-idx3-ubyte") == idx_bytes(images)
    with pytest.raises(ValueError, match="uint8"):
        idx_bytes(np.zeros((2, 2), np.float32))


def test_an_idx_only_zip_is_accepted():
    images, labels = collection(12).arrays()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("train-images-idx3-ubyte", idx_bytes(images))
        zf.writestr("train-labels-idx1-ubyte", idx_bytes(labels.astype(np.uint8)))
    back = MyDigits.from_zip(buffer.getvalue())
    np.testing.assert_array_equal(back.arrays()[0], images)
    assert all(d.source == "imported" for d in back)


def zip_with(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def png(side_h: int, side_w: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (side_w, side_h)).save(out, "PNG")
    return out.getvalue()


GOOD_PNG = png(28, 28)


@pytest.mark.parametrize("members, message", [
    ({"other.txt": b"hi"}, "not a My digits zip"),
    ({"labels.csv": b"name,value\n"}, "header"),
    ({"labels.csv": b"file,label\nimages/00001-3.png,3\n"}, "missing"),
    ({"labels.csv": b"file,label\nimages/00001-3.png,12\n", "images/00001-3.png": GOOD_PNG}, "label"),
    ({"labels.csv": b"file,label\nimages/00001-3.png,x\n", "images/00001-3.png": GOOD_PNG}, "label"),
    ({"labels.csv": b"file,label\n../../etc/passwd,3\n"}, "not an images"),
    ({"labels.csv": b"file,label\nimages/00001-3.png,3\n", "images/00001-3.png": png(28, 29)}, "28x28"),
    ({"labels.csv": b"file,label\nimages/00001-3.png,3\n", "images/00001-3.png": b"\x89PNG broken"}, "PNG"),
    ({"labels.csv": b"file,label,source,ink\nimages/00001-3.png,3,drawing,ink/00001-3.png\n",
      "images/00001-3.png": GOOD_PNG, "ink/00001-3.png": png(500, 20)}, "at most"),
    ({"train-images-idx3-ubyte": idx_bytes(np.zeros((2, 28, 28), np.uint8)),
      "train-labels-idx1-ubyte": idx_bytes(np.array([1, 11], np.uint8))}, "0 to 9"),
    ({"train-images-idx3-ubyte": idx_bytes(np.zeros((2, 28, 27), np.uint8)),
      "train-labels-idx1-ubyte": idx_bytes(np.array([1, 1], np.uint8))}, "28x28"),
    ({"train-images-idx3-ubyte": idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-5],
      "train-labels-idx1-ubyte": idx_bytes(np.array([1, 1], np.uint8))}, "length"),
])
def test_bad_zips_refused(members, message):
    with pytest.raises(DigitsZipError, match=message):
        MyDigits.from_zip(zip_with(members))


def test_not_a_zip_and_limits_refused(monkeypatch):
    with pytest.raises(DigitsZipError, match="not a zip"):
        MyDigits.from_zip(b"PK no zip at all")
    many = {f"junk/{i}": b"" for i in range(digits_zip.MAX_MEMBERS + 1)}
    with pytest.raises(DigitsZipError, match="files"):
        MyDigits.from_zip(zip_with(many))
    bomb = zip_with({"labels.csv": b"file,label\n", "big": b"\0" * (digits_zip.MAX_TOTAL_BYTES + 1)})
    with pytest.raises(DigitsZipError, match="unpacks"):
        MyDigits.from_zip(bomb)
    rows = "".join(f"images/{i:05d}-1.png,1\n" for i in range(1, 8)).encode()
    with pytest.raises(DigitsZipError, match="at most 5"):
        MyDigits.from_zip(zip_with({"labels.csv": b"file,label\n" + rows}), cap=5)
    monkeypatch.setattr(digits_zip, "MAX_ZIP_BYTES", 100)
    with pytest.raises(DigitsZipError, match="larger"):
        MyDigits.from_zip(collection(3).to_zip())


def test_a_lying_header_is_caught():
    """A member whose central directory understates its size is refused, not read past its claim."""
    rows = "".join(f"images/{i:05d}-1.png,1\n" for i in range(1, 400)).encode()
    data = bytearray(zip_with({"labels.csv": b"file,label\n" + rows}))
    central = data.index(b"PK\x01\x02")
    data[central + 24: central + 28] = (100).to_bytes(4, "little")  # uncompressed size: 100 bytes
    with pytest.raises(DigitsZipError, match="could not be read|more than"):
        digits_zip.read_zip(bytes(data))


def test_extend_from_zip_is_all_or_nothing():
    digits = collection(8)
    small = MyDigits(cap=10)
    small.add(digit_image(0), 0)
    small.add(digit_image(1), 1)
    small.add(digit_image(2), 2)
    with pytest.raises(CollectionFull, match="room for 7"):
        small.extend_from_zip(digits.to_zip())
    assert len(small) == 3
    assert small.extend_from_zip(collection(7).to_zip()) == 7 and small.full


def test_a_zips_file_count_is_checked_before_its_directory_is_parsed(monkeypatch):
    many = zip_with({f"j/{i}": b"" for i in range(digits_zip.MAX_MEMBERS + 1)})
    lying = bytearray(zip_with({f"j/{i}": b"" for i in range(20_000)}))  # 20,000 entries, the end record says 1
    end = lying.rindex(b"PK\x05\x06")
    lying[end + 8:end + 12] = (1).to_bytes(2, "little") * 2

    def parsed_whole(*args, **kwargs):
        raise AssertionError("zipfile parsed the whole directory")

    monkeypatch.setattr(digits_zip.zipfile, "ZipFile", parsed_whole)
    with pytest.raises(DigitsZipError, match="holds 1009 files"):
        digits_zip.read_zip(many)
    with pytest.raises(DigitsZipError, match="list of files"):
        digits_zip.read_zip(bytes(lying))


def test_png_text_chunks_are_not_inflated():
    from PIL import Image, PngImagePlugin

    from mnist_demo.reading.files import load_picture

    info = PngImagePlugin.PngInfo()
    for n in range(8):  # each inflates to ~1 MB (Pillow's per-chunk cap), 8 MB for a 28x28 picture
        info.add_text(f"note{n}", "x" * 1_000_000, zip=True)
    out = io.BytesIO()
    Image.new("L", (28, 28)).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    assert len(data) < 100_000  # small on the wire
    assert not any(k.startswith("note") for k in load_picture(data).info)
    rows = b"file,label\nimages/00001-3.png,3\n"
    digits = digits_zip.read_zip(zip_with({"labels.csv": rows, "images/00001-3.png": data}))
    assert digits[0][1] == 3


def test_export_cells_cannot_be_spreadsheet_formulas():
    from mnist_demo.classroom.export import dataset_zip
    from mnist_demo.classroom.store import Drawing

    names = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "Ada", "a=b"]
    drawings = [Drawing(i, name, 3, 3, 0.9, "digitnet", 0.0, np.zeros((28, 28), np.uint8)) for i, name in enumerate(names)]
    with zipfile.ZipFile(io.BytesIO(dataset_zip(drawings))) as zf:
        table = list(csv.DictReader(io.StringIO(zf.read("labels.csv").decode())))
    shown = [row["nickname"] for row in table]
    assert all(cell[:1] not in "=+-@\t" for cell in shown), shown
    assert shown[5:] == ["Ada", "a=b"] and shown[0] == "'" + names[0]
