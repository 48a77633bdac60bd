"""The teacher's screens without a browser: the key only in its private step, the class's screen and the
projector view without it, the teacher card, the projector's live wall, the join link in the browser's language
and no server folder in the privacy note or the page's /config (tests/browser/test_screens.py looks at them)."""

from __future__ import annotations

import json
import types

import gradio as gr

from mnist_demo.classroom import security
from mnist_demo.ui.session import Session
from tests.test_class_security import desk, digit_image, request


def flat(outputs) -> str:
    """Everything a handler sends to the page, as one string."""
    return json.dumps(outputs, default=lambda o: getattr(o, "__dict__", str(o)), ensure_ascii=False)


def test_the_key_comes_first_in_a_private_step_and_never_on_the_class_screen(class_db, class_ui):
    out, p = class_ui.on_create("7B", "en", request()), class_ui.p
    key = out[p.teacher_key]
    assert out[p.key_step]["visible"] is True and out[p.created]["visible"] is False and out[p.choose]["visible"] is False
    assert class_db.check_key(out[p.dash_code], key) is not None and out[p.dash_key] == key  # one click to the dashboard
    assert key not in flat([out[p.code_md], out[p.link], out[p.qr]])  # the class's screen
    hidden_step, cleared_key, card, shown_screen = class_ui.on_show_screen()
    assert hidden_step["visible"] is False and cleared_key == "" and card["visible"] is False
    assert shown_screen["visible"] is True


def test_the_teacher_card_holds_code_key_and_link_for_the_right_key_only(class_db, class_ui, a_class):
    info, key = a_class
    session = Session()
    card = class_ui.on_card(desk(security.pretty_code(info.code), key, request(), session, "zh"))
    text = open(card["value"], encoding="utf-8").read()
    assert card["visible"] and key in text and security.pretty_code(info.code) in text and "教师密钥" in text
    assert f"?class={info.code}" in text
    try:
        class_ui.on_card(desk(info.code, key[:-1] + "x", request("10.9.9.9"), session))
        raise AssertionError("a card for a wrong key")
    except gr.Error:
        pass
    session.close()


def test_the_projector_view_shows_the_class_to_the_room_and_nothing_of_the_teacher(class_db, class_ui, a_class):
    info, key = a_class
    other, _ = class_db.create_class("8C")  # another class's drawings: nothing of them in this class's view
    for _ in range(3):
        class_db.add_drawing(other.code, "student-x", digit_image(4), 4, answer=4, confidence=0.9)
    session = Session()
    out, p = class_ui.on_project(desk(info.code, key, request(), session, "zh")), class_ui.p
    code, qr, stats, wall = out[p.projector_code], out[p.projector_qr], out[p.projector_stats], out[p.projector_wall]
    assert out[p.dash]["visible"] is False and out[p.projector_view]["visible"] is True and out[p.projecting] is True
    assert key not in flat([code, qr, stats, wall])
    assert security.pretty_code(info.code) in code and "<svg" in qr and "课堂代码" in code
    assert 'class="wall big"' in wall and wall.index('data-number="2"') < wall.index('data-number="1"')  # newest first
    assert 'class="wrong"' in wall  # given 7, answered 2: framed
    assert "2 名学生" in stats and "%" in stats
    # the timer refreshes the view on screen only: the projector's wall when projecting
    class_db.add_drawing(info.code, "student-c", digit_image(3), 3, answer=3, confidence=0.9)
    tick = class_ui.on_tick(desk(info.code, key, request(), session), None, True)
    assert set(tick) == {p.seen, p.projector_stats, p.projector_wall}  # nothing of the dashboard under it
    assert tick[p.projector_wall].count("<figure") == 3 and "3 drawings" in tick[p.projector_stats]
    assert 'data-number="3"' in tick[p.projector_wall] and "data-id" not in tick[p.projector_wall]  # the class's #3
    assert class_ui.on_unproject() == (gr.update(visible=True), gr.update(visible=False), False)
    session.close()


def test_a_class_link_opened_in_a_chinese_browser_joins_in_chinese(class_db, class_ui, a_class):
    info, _ = a_class
    r = types.SimpleNamespace(**{**vars(request(query={"class": info.code})),
                                 "headers": {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}})
    out = class_ui.on_join_link("en", None, r)  # the selector may still say "en" while the page loads
    p = class_ui.p
    assert "课堂" in out[p.joined] and "你已经提交了" in out[p.count]
    again = class_ui.on_language("zh", out[p.student])
    assert "你已经提交了" in again[p.count]  # the ten buttons are the Localizer's (tests/test_i18n.py)


def test_no_server_folder_in_the_privacy_note_or_the_pages_config(class_db):
    from mnist_demo.classroom.service import Classroom
    from mnist_demo.ui.app import build_app

    demo = build_app(Classroom(class_db))
    config = json.dumps(demo.get_config_file(), default=str)
    assert "classes.sqlite3" in config and str(class_db.folder.resolve()) not in config
    assert str(class_db.folder) not in config
