"""Shared fixtures: the data folder, and the real app served in-process for browser tests."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MNIST_DEMO_DATA", str(ROOT.parent / "shared" / "data"))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The real Gradio app, launched once per test run on a free local port, with the app's own limits."""
    from mnist_demo.ui.app import build_app, launch_options

    demo = build_app()
    port = free_port()
    demo.launch(**{**launch_options(), "server_name": "127.0.0.1", "server_port": port, "prevent_thread_lock": True,
                   "quiet": True})
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
