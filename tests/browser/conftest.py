"""Browser-test fixtures: the real app served in-process once per run, Debian's Chromium, a fresh page.
Every test under tests/browser is marked `browser` here, so `-m "not browser"` leaves them all out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import launch_chromium, serve_in_process

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The real Gradio app, launched once per test run on a free local port, on a classroom of its own (a store
    in a temporary folder) and an index of open tabs of its own: (its address, the classroom, the open tabs)."""
    from mnist_demo.classroom.service import Classroom
    from mnist_demo.classroom.store import ClassStore
    from mnist_demo.ui.session import Sessions

    room, sessions = Classroom(ClassStore(tmp_path_factory.mktemp("state"))), Sessions()
    with serve_in_process(classroom=room, sessions=sessions) as app:
        yield app.url, room, sessions
    room.store.close()


@pytest.fixture(scope="session")
def app_url(served):
    return served[0]


@pytest.fixture(scope="session")
def app_classroom(served):
    """The served app's class mode: its store, rate limits and class models."""
    return served[1]


@pytest.fixture(scope="session")
def app_sessions(served):
    """The served app's open tabs (`session.Sessions`): a page's Session by its Gradio session hash."""
    return served[2]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser context (its own Gradio session) on the app, loaded and ready."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#tabs", timeout=30_000)
    yield page
    context.close()
