"""Settings: every environment variable in one module (`mnist_demo.settings`), read once, typed, named in the
README's table exactly as the module says."""

from __future__ import annotations

import dataclasses
import re

import pytest

from mnist_demo import settings
from mnist_demo.settings import Settings
from tests.harness import ROOT

TEST_ONLY = {"MNIST_DEMO_TEST_DATABASE_URL", "MNIST_DEMO_REQUIRE_POSTGRES", "MNIST_DEMO_SOAK_SESSIONS"}


def variables() -> set[str]:
    return {f.metadata["variable"] for f in dataclasses.fields(Settings)}


def test_the_readme_table_is_the_settings_module():
    assert settings.readme_table() in (ROOT / "README.md").read_text()


def test_only_the_settings_module_reads_the_environment():
    readers = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "mnist_demo").rglob("*.py"))
               if path.name != "settings.py" and re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text())]
    assert readers == []


def test_every_variable_the_code_and_docs_name_is_a_setting():
    texts = [path.read_text() for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
                                           *(ROOT / "mnist_demo").rglob("*.py")]]
    named = set(re.findall(r"MNIST_DEMO_[A-Z_]+[A-Z]", "\n".join(texts)))
    assert len(variables()) > 20 and named - variables() - TEST_ONLY == set()


def test_values_are_typed_empty_means_the_default_and_a_bad_number_is_named():
    read = Settings.from_environment({"MNIST_DEMO_MAX_QUEUE": "7", "MNIST_DEMO_QUEUE_SECONDS": "12.5",
                                      "MNIST_DEMO_TRUST_PROXY": "yes", "MNIST_DEMO_STATE": " /srv/state ",
                                      "MNIST_DEMO_TRAIN_THREADS": "", "MNIST_DEMO_TRUSTED_PROXIES": "two",
                                      "GRADIO_SERVER_PORT": "7101", "UNRELATED": "x"})
    assert (read.max_queue, read.queue_seconds, read.trust_proxy, read.state, read.train_threads,
            read.trusted_proxies, read.server_port) == (7, 12.5, True, "/srv/state", None, None, 7101)
    assert Settings.from_environment({}) == Settings() and Settings().sessions_kept == 500
    with pytest.raises(ValueError, match="MNIST_DEMO_MAX_QUEUE"):
        Settings.from_environment({"MNIST_DEMO_MAX_QUEUE": "many"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.max_queue = 1


def test_read_once_until_loaded_again(environment, monkeypatch):
    before = environment(MNIST_DEMO_MAX_QUEUE=11)
    assert settings.current() is before and before.max_queue == 11
    monkeypatch.setenv("MNIST_DEMO_MAX_QUEUE", "12")  # the environment changes under a running app ...
    assert settings.current().max_queue == 11  # ... which keeps what it read at its start
    assert settings.load().max_queue == 12
