"""Two app servers, one PostgreSQL database (docs/deploy.md's "several servers"): two `python app.py` processes
on their own ports with the same MNIST_DEMO_DATABASE_URL, each browser tab on one server as a load balancer's
sticky sessions keep it. A teacher opens a class on the first and keeps its dashboard open there; a student
joins by the link on the second and draws: the drawing appears on the teacher's wall, live. A class model
stored meanwhile (as a training on any server stores it) answers the student on the second server, and a
drawing a student gives through the first appears on the wall too. Skips, saying so, without PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from mnist_demo.catalog import DEFAULT_MODEL, shipped
from mnist_demo.classroom import tuning
from mnist_demo.classroom.store import ClassStore
from tests.harness import DIGITS, ROOT, draw_strokes, field, free_port, serve_subprocesses, teacher_opens_a_class

CANVAS = "#class-canvas canvas.ink"


def student_gives(browser, link: str, digit: int, nickname: str, class_model: bool = False):
    """A student's tab on `link`: joins, (picks the class model,) draws `digit` and gives it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(link, wait_until="load")
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", state="visible", timeout=60_000)
    field(page, "class-nickname").fill(nickname)
    if class_model:
        page.locator("#class-student-model").get_by_text("Our class's model").click()
        page.wait_for_function("() => document.querySelector('#class-answer').innerText.includes(\"class's model\")",
                               timeout=30_000)
    draw_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[digit])
    page.wait_for_function(f"() => document.querySelector('#class-answer').innerText.includes('{digit}')",
                           timeout=30_000)
    page.locator(f"#class-teach-{digit}").click()
    page.wait_for_function("() => document.querySelector('#class-count').innerText.includes('given 1')",
                           timeout=30_000)
    return context


def open_class(browser, url: str):
    """A teacher's tab on `url`: opens a class and its dashboard; (context, page, join link, code)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    teacher = context.new_page()
    teacher.goto(url, wait_until="load")
    link, _ = teacher_opens_a_class(teacher, "two servers", dashboard=True)
    return context, teacher, link, link.split("class=")[1]


def test_two_servers_one_postgres_a_student_on_one_the_teacher_on_the_other(browser, postgres_url, tmp_path):
    environment = {"MNIST_DEMO_DATABASE_URL": postgres_url, "MNIST_DEMO_STATE": str(tmp_path / "state"),
                   "MNIST_DEMO_SECRET": "one deployment"}
    with serve_subprocesses(2, env=environment) as (first, second):
        teacher_context, teacher, _, code = open_class(browser, first.url)
        assert "PostgreSQL " + postgres_url.rsplit("/", 1)[1] in teacher.locator("#class-privacy").inner_text()

        # A student on the second server: on the first server's wall, live
        on_second = student_gives(browser, f"{second.url}?class={code}", 7, "Ada")
        teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length === 1",
                                  timeout=30_000)
        assert "Ada" in teacher.locator("#class-wall figcaption").first.inner_text()

        # A class model stored (as "Train on our class" on any server stores it) answers on the second server
        db = ClassStore(url=postgres_url)
        base = shipped()[DEFAULT_MODEL]
        card = {**base.card, "title": "DigitNet + class two servers"}
        tuning.ClassModels(store=db).put(tuning.ClassModel(code, tuning.Entry(tuning.model_key(code), base.model, card),
                                                           DEFAULT_MODEL, "DigitNet", None, [], 0.0))
        on_second_again = student_gives(browser, f"{second.url}?class={code}", 1, "Bo", class_model=True)
        on_first = student_gives(browser, f"{first.url}?class={code}", 3, "Cy")
        teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length === 3",
                                  timeout=30_000)
        captions = " ".join(teacher.locator("#class-wall figcaption").all_inner_texts())
        assert all(name in captions for name in ("Ada", "Bo", "Cy"))
        by_name = {d.nickname: d for d in db.all_drawings(code)}
        assert by_name["Bo"].model == f"class:{code}" and by_name["Ada"].model == by_name["Cy"].model == DEFAULT_MODEL
        db.close()
        for context in (on_second, on_second_again, on_first, teacher_context):
            context.close()


def nginx_program() -> str:
    """Debian's nginx (/usr/sbin may be off a user's PATH); without it the test skips, or fails where CI requires
    the two-server tests to run (MNIST_DEMO_REQUIRE_POSTGRES: tests/run.sh installs nginx there)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        if os.environ.get("MNIST_DEMO_REQUIRE_POSTGRES"):
            pytest.fail("nginx is required here (MNIST_DEMO_REQUIRE_POSTGRES) for docs/nginx.conf: apt-get install nginx")
        pytest.skip("no nginx here (apt-get install nginx) for docs/nginx.conf")
    return found


def test_two_servers_behind_docs_nginx_conf_keep_each_browser_on_one_server(browser, postgres_url, tmp_path):
    """docs/nginx.conf as written (its ports and log moved into this test's): a teacher and two students, every
    page through nginx, work as on one server; the log shows each browser's requests all went to one server."""
    program = nginx_program()
    environment = {"MNIST_DEMO_DATABASE_URL": postgres_url, "MNIST_DEMO_STATE": str(tmp_path / "state"),
                   "MNIST_DEMO_SECRET": "one deployment",
                   "MNIST_DEMO_TRUSTED_PROXIES": "1"}
    with serve_subprocesses(2, env=environment) as (first, second):
        port, log = free_port(), tmp_path / "access.log"
        site = ((ROOT / "docs" / "nginx.conf").read_text().replace("127.0.0.1:7501", f"127.0.0.1:{first.port}")
                .replace("127.0.0.1:7502", f"127.0.0.1:{second.port}").replace("listen 8080", f"listen 127.0.0.1:{port}")
                .replace("/var/log/nginx/mnist-demo.log", str(log)))
        (tmp_path / "site.conf").write_text(site)
        user = "user root;" if os.geteuid() == 0 else ""  # workers as root only when the test runs as root
        temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                             "scgi"))
        (tmp_path / "nginx.conf").write_text(f"{user} daemon off; pid {tmp_path / 'nginx.pid'}; error_log "
                                             f"{tmp_path / 'error.log'}; events {{}} http {{ {temp} include "
                                             f"{tmp_path / 'site.conf'}; }}")
        nginx = subprocess.Popen([program, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(url + "config", timeout=5)
                    break
                except OSError:
                    if time.monotonic() > deadline or nginx.poll() is not None:
                        raise
                    time.sleep(0.3)
            teacher_context, teacher, link, _ = open_class(browser, url)
            assert link.startswith(url)  # the join link is nginx's address, not a server's
            students = [student_gives(browser, link, digit, name) for digit, name in ((7, "Ada"), (3, "Bo"))]
            teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length === 2",
                                      timeout=30_000)
            for context in (*students, teacher_context):
                context.close()
        finally:
            nginx.terminate()
            nginx.wait(timeout=30)
    servers_of: dict[str, set[str]] = {}
    for row in log.read_text().splitlines():
        browser_id, server = row.rsplit(" browser=", 1)[1], row.split(" server=", 1)[1].split(" ")[0]
        servers_of.setdefault(browser_id, set()).add(server)
    browsers = [b for b, servers in servers_of.items() if len(servers) == 1 and len(b) == 32]
    assert len(browsers) >= 3 and all(len(servers) == 1 for servers in servers_of.values()), servers_of
