"""The app shell in a real browser: it loads, and the language follows the browser or the selector."""

import pytest

pytestmark = pytest.mark.browser


def test_language_follows_browser_and_selector(browser, app_url):
    from mnist_demo.ui.i18n import t

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(app_url)
    page.get_by_role("tab", name=t("tab.train", "zh")).wait_for(timeout=30_000)
    page.get_by_label("English").check()
    page.get_by_role("tab", name=t("tab.train", "en")).wait_for(timeout=10_000)
    context.close()


def test_english_browser_gets_english(page):
    from mnist_demo.ui.i18n import t

    page.get_by_role("tab", name=t("tab.visualize", "en")).wait_for(timeout=10_000)
    assert page.get_by_text(t("app.intro", "en")).is_visible()
