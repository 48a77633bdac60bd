"""Shared by every test: the data folder (as the app: $MNIST_DEMO_DATA, else ./data) and no analytics.
Browser fixtures live in tests/browser/conftest.py; helpers in tests/harness.py."""

from __future__ import annotations

import os
import tempfile

import pytest

from mnist_demo import settings
from tests.harness import ROOT

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Absolute, so the CLI tests' subprocesses and any working directory see the same folder as the app would
# from the repository root; missing files are downloaded there through torchvision where the internet is reachable.
os.environ.setdefault("MNIST_DEMO_DATA", str(ROOT / "data"))
# Any late call of the app (a class dashboard tick in flight after a test) lands in a temporary state folder,
# never ./state.
os.environ.setdefault("MNIST_DEMO_STATE", tempfile.mkdtemp(prefix="mnist-demo-state-"))
settings.load()  # the app reads its settings once, at its start: here, with the defaults above


@pytest.fixture
def environment():
    """`environment(NAME=value, OTHER=None)`: change environment variables for one test (None: unset) and read the
    settings again, as a restarted app would; both are restored after the test."""
    with pytest.MonkeyPatch.context() as patch:
        def change(**variables) -> settings.Settings:
            for name, value in variables.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, str(value))
            return settings.load()

        yield change
    settings.load()


@pytest.fixture(scope="session")
def postgres_server_url():
    """A PostgreSQL server for the tests named `postgres`: $MNIST_DEMO_TEST_DATABASE_URL (a server's postgres
    database, e.g. CI's service), else a throwaway cluster of Debian's PostgreSQL started here for the run.
    Without PostgreSQL the tests say so and skip, unless $MNIST_DEMO_REQUIRE_POSTGRES is set (CI): then they fail."""
    from tests.harness import PostgresUnavailable, postgres_server

    if os.environ.get("MNIST_DEMO_TEST_DATABASE_URL"):
        yield os.environ["MNIST_DEMO_TEST_DATABASE_URL"]
        return
    try:
        server = postgres_server()
        url = server.__enter__()
    except (PostgresUnavailable, ImportError) as exc:
        if os.environ.get("MNIST_DEMO_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here (MNIST_DEMO_REQUIRE_POSTGRES) but: {exc}")
        pytest.skip(f"no PostgreSQL for these tests: {exc}")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server_url):
    """The URL of a new empty database on the test server, dropped after the test."""
    from tests.harness import drop_database, new_database

    url = new_database(postgres_server_url)
    yield url
    drop_database(url)


@pytest.fixture
def class_db(tmp_path):
    """A fresh class store."""
    from mnist_demo.classroom.store import ClassStore

    s = ClassStore(tmp_path / "state")
    yield s
    s.close()


@pytest.fixture
def classroom(class_db):
    """Class mode over a fresh store, with its own rate limits and class models."""
    from mnist_demo.classroom.service import Classroom

    return Classroom(class_db)


@pytest.fixture
def class_ui(classroom):
    """The Class tab's handlers over `classroom` and its components (in a tab of a Blocks of their own: a handler
    with more than four outputs answers with a dict keyed by them, `class_ui.p`)."""
    import gradio as gr

    from mnist_demo.ui.class_tab import ClassTab, components
    from mnist_demo.ui.i18n import Localizer

    with gr.Blocks(), gr.Tabs(), gr.Tab("class"):
        p = components(classroom, Localizer())
    return ClassTab(classroom, p)


@pytest.fixture
def a_class(class_db):
    """A class "7B" with two drawings: Ada's 1 (answered 1) and Bo's 7 (answered 2); (its info, its teacher key)."""
    from tests.test_class_security import digit_image

    info, key = class_db.create_class("7B")
    class_db.add_drawing(info.code, "student-a", digit_image(1), 1, nickname="Ada", answer=1, confidence=0.9)
    class_db.add_drawing(info.code, "student-b", digit_image(2), 7, nickname="Bo", answer=2, confidence=0.8)
    return info, key
