"""Train on our class: the hold-out of the class's drawings, the class models (kept with the class in the store,
bounded in memory, one per class, dropped with the class), and the dashboard's handler end to end on 60 UNIPEN digits drawn through the
canvas path: the picked model and the class-tuned one compared on the held-out drawings, the class model then
read by the class's students who pick it (and by nobody else's)."""

from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest
import torch

from mnist_demo.catalog import DEFAULT_MODEL, shipped
from mnist_demo.classroom import security, tuning
from mnist_demo.classroom.service import Student
from mnist_demo.classroom.store import Drawing
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session
from tests.harness import needs_dataset, run_coroutine
from tests.test_class_security import desk, request


def collect(generator) -> list:
    async def run():
        return [update async for update in generator]

    return run_coroutine(run())


def test_every_fifth_drawing_of_each_digit_is_held_out_in_the_order_given():
    labels = [3] * 7 + [5] * 4 + [3] * 4  # ids 1..15, numbered #101..#115 in their class
    drawings = [Drawing(i + 1, "", label, None, None, "", 0.0, np.full((28, 28), i, np.uint8), number=i + 101)
                for i, label in enumerate(labels)]
    split = tuning.split_drawings(list(reversed(drawings)))  # any order in: by id out
    assert split.held_ids == [105, 114]  # the 5th and 10th 3, by the numbers the class sees; the 5 has only four
    assert len(split.taught) == 13 and len(split.held) == 2 and split.counts[3] == 11 and split.counts[5] == 4
    assert split.held.images[0, 0, 0].item() == 4 and split.held.labels.tolist() == [3, 3]


def test_class_models_are_one_per_class_kept_with_it_bounded_in_memory_and_dropped(class_db):
    models = tuning.ClassModels(class_db, limit=2)
    entry = shipped()[DEFAULT_MODEL]
    codes = [class_db.create_class(name)[0].code for name in "ABC"]
    made = {code: tuning.ClassModel(code, entry, DEFAULT_MODEL, "d", None, [], 0.0) for code in codes}
    a, b, c = codes
    models.put(made[a])
    models.put(made[b])
    models.put(made[a])  # training again replaces: still one for A
    assert len(models) == 2 and models.get(a).entry is entry
    models.put(made[c])  # the least recently used (B) leaves memory, not the store
    assert len(models) == 2 and models.get(c).entry is entry
    again = models.get(b)  # read back from the store: the same weights, a network of its own
    assert again.entry.key == f"class:{b}" and again.entry.model is not entry.model
    assert all(torch.equal(x, y) for x, y in zip(again.entry.model.state_dict().values(),
                                                  entry.model.state_dict().values(), strict=True))
    class_db.delete_class(c)
    assert models.drop(c) and models.get(c) is None and not models.drop(c)


def test_training_needs_the_teacher_key_and_enough_drawings(class_db, class_ui):
    info, key = class_db.create_class("few")
    for call in (lambda: collect(class_ui.on_train(desk(info.code, "wrong", request(), Session(), model=DEFAULT_MODEL))),
                 lambda: collect(class_ui.on_train(desk(security.new_code(), key, request("10.0.0.2"), Session(),
                                                        model=DEFAULT_MODEL))),
                 lambda: class_ui.on_train_stop(desk(info.code, "", request("10.0.0.3")))):
        with pytest.raises(gr.Error, match="do not open a dashboard"):
            call()
    [update] = collect(class_ui.on_train(desk(info.code, key, request(), Session(), model=DEFAULT_MODEL)))
    assert update[0] == t("class.train_few", "en", min=tuning.MIN_DRAWINGS, count=0)


def unipen_class(class_db, count_per_digit: int = 6):
    """A class of 60 UNIPEN digits (6 of each, writers of the IBM site, the hardest for the default model) drawn
    through the canvas path, as four students would give them; and one payload per digit for a student to draw."""
    from mnist_demo import handwriting as hw
    from mnist_demo.models import evaluating

    info, key = class_db.create_class("7B")
    model = shipped()[DEFAULT_MODEL].model
    digits = [d for d in hw.load_unipen() if d.source == "ibm"]
    payloads, given = {}, []
    for label in range(10):
        mine = [d for d in digits if d.label == label][:count_per_digit + 1]
        payloads[label] = hw.render_payload(hw.to_canvas(mine[-1].strokes))
        given += [(n, label, hw.prepared_canvas(digit)) for n, digit in enumerate(mine[:count_per_digit])]
    x = torch.from_numpy(np.stack([image for _, _, image in given]).astype(np.float32) / 255).unsqueeze(1)
    with torch.inference_mode(), evaluating(model):
        answers = model(x).argmax(1).tolist()
    for (n, label, image), answer in zip(given, answers, strict=True):
        class_db.add_drawing(info.code, f"student-{n % 4}", image, label, answer=answer, confidence=0.5, model=DEFAULT_MODEL)
    return info, key, payloads


@pytest.mark.slow
@needs_dataset("unipen-dev", "the class draws UNIPEN digits")
def test_train_on_our_class_compares_on_held_out_drawings_and_students_can_pick_it(class_db, classroom, class_ui):
    info, key, payloads = unipen_class(class_db)
    other, _ = class_db.create_class("other class")
    updates = collect(class_ui.on_train(desk(info.code, key, request(), Session(), model=DEFAULT_MODEL)))
    message, table, train_button, stop_button = updates[-1]
    assert message.startswith("✅"), message
    assert train_button["interactive"] is True and stop_button["interactive"] is False
    found = classroom.models.get(info.code)
    assert found is not None and found.entry.key == f"class:{info.code}"
    result = found.result
    assert (result.trained_on, result.held_out) == (50, 10) and len(found.held_ids) == 10  # every 5th of 6 per digit
    assert result.mine_before is not None and result.mine_after is not None and result.mnist_after > 0.97
    assert "held-out class drawings (10)" in table and f"#{found.held_ids[0]}" in table
    assert f"{result.mine_before:.1%}" in table and f"{result.mine_after:.1%}" in table
    assert found.entry.model is not shipped()[DEFAULT_MODEL].model  # a copy was tuned
    assert any("Training on 50 drawings" in str(u[0]) or "Waiting" in str(u[0]) for u in updates[:-1])

    # A student of this class picks the class model: it reads (and is recorded with) their drawings
    student = Student(info.code, info.title, DEFAULT_MODEL, "student-new")
    picked, line, device_config = class_ui.on_student_model("class", student, "en")
    assert picked.use_class_model and line == t("class.class_model_on", "en")
    # ... and their page runs it itself: exported when it was made, kept with it in the store
    file = json.loads(device_config)["models"][f"class:{info.code}"]
    assert file["url"].endswith(".onnx") and class_db.class_model(info.code).onnx is not None
    assert classroom.student_entry(picked) is found.entry
    assert classroom.student_entry(student).key == DEFAULT_MODEL  # the default until they pick it
    class_ui.give(4, payloads[4], picked, "", "en")
    assert class_db.student_drawings(info.code, "student-new")[0].model == f"class:{info.code}"
    # ... and only this class's: a student of another class picking "class" gets no class model
    stranger, line, _ = class_ui.on_student_model("class", Student(other.code, "", DEFAULT_MODEL, "x"), "en")
    assert classroom.student_entry(stranger).key == DEFAULT_MODEL and line == t("class.no_class_model", "en")

    # Deleting the class drops its model
    class_ui.on_delete(desk(info.code, key), True)
    assert classroom.models.get(info.code) is None and classroom.student_entry(picked).key == DEFAULT_MODEL
