"""Every tab and view in a zh-CN browser speaks Chinese: walk the Draw tab (a digit drawn, one kept in My digits),
the Train tab, the Visualize tab, the Class tab (start, the key's step, the class's screen, the dashboard with a
class's drawings, the projector view) and a student's phone joined by the link, and find no Latin-letter word a
person reads outside an allow-list: model and layer names, units, dataset and file-format names, optimizer names,
the nicknames students typed. Pickers are opened so their choices count too."""

from __future__ import annotations

import re

from tests.harness import CANVAS, DIGITS, draw_strokes, needs_dataset, seed_class, touch_strokes

pytestmark = needs_dataset("unipen-dev", "gives a class real handwriting")

# Names, not words: what stays Latin in a Chinese page (compared case-insensitively).
ALLOWED = {
    # datasets, sources and file formats
    "mnist", "fashion-mnist", "unipen", "idx", "png", "csv", "zip", "json", "safetensors", "onnx", "sqlite",
    "postgresql", "labels.csv", "qr",
    # networks, layers and methods by their names
    "digitnet", "fashionnet", "fastnet", "lenet", "bn-cnn", "numpy", "cnn", "mlp", "conv", "relu", "sigmoid",
    "tanh", "softmax", "grad-cam", "sobel", "conv2d", "linear", "maxpool2d", "avgpool2d", "flatten", "dropout",
    "batchnorm2d", "batchnorm1d", "normalize", "identity", "logsoftmax", "pytorch", "examples", "pytorch/examples",
    "sgd", "adam", "adamw", "adadelta", "onecycle", "cosine",
    # math: variables of a formula, units
    "x", "y", "p", "px", "s", "ms", "kb", "mb", "utc",
    # the page's frame: the bilingual language selector, Gradio's footer
    "english", "language", "api", "gradio", "ctrl", "z",
    # data people typed (nicknames given by tests/harness.seed_class and the phone below)
    "ada", "bo", "cy", "dee", "eli",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-./]*")
URL = re.compile(r"https?://\S+")
# What a person reads: the page's text and the values of its fields (not the hidden values of radio buttons and
# checkboxes, whose labels are text), the open picker's choices; not Gradio's transient "processing" marks.
VISIBLE_TEXT_JS = """() => {
  const main = document.querySelector('.gradio-container') || document.body;
  let text = main.innerText;
  const unseen = (e) => { const r = e.getBoundingClientRect(); return r.width <= 1 || r.height <= 1; };
  const marks = [...main.querySelectorAll('[data-testid=status-tracker], .progress-text, .meta-text, .eta-bar'),
                 ...[...document.querySelectorAll('[aria-live]')].filter(unseen)];  // screen readers' only
  for (const mark of marks)
    if (mark.innerText.trim()) text = text.split(mark.innerText.trim()).join(' ');
  const values = [...main.querySelectorAll('input, textarea')].filter(i => i.offsetParent
    && !['password', 'file', 'radio', 'checkbox'].includes(i.type)).map(i => i.value);
  const options = [...document.querySelectorAll('[role=option], [role=listbox] li')].map(o => o.innerText);
  return [text, ...values, ...options].join('\\n'); }"""


def english_words(text: str, also_allowed: set[str] = frozenset()) -> set[str]:
    """The Latin-letter words of `text` that are neither allowed names nor codes (any word with a digit: a class
    code, a model key like s5-lenet, a shape like 28x28)."""
    found = set()
    for word in WORD.findall(URL.sub(" ", text)):
        word = word.strip("'-./")
        if word and not any(c.isdigit() for c in word) and word.lower() not in ALLOWED | also_allowed:
            found.add(word)
    return found


def open_pickers(page, root: str) -> str:
    """The choices of every visible dropdown under `root` (each opened, read, closed)."""
    texts = []
    for picker in page.locator(f"{root} input[role=listbox], {root} .wrap input[aria-expanded]").all():
        if not picker.is_visible():
            continue
        picker.click()
        page.wait_for_timeout(300)
        texts.append(page.evaluate(VISIBLE_TEXT_JS))
        page.keyboard.press("Escape")
    return "\n".join(texts)


def test_every_view_in_a_chinese_browser_is_in_chinese(browser, app_url, app_classroom):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_function("() => document.querySelector('#language input:checked')?.value === 'zh'",
                           timeout=30_000)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=30_000)
    seen: dict[str, set[str]] = {}
    data_words: set[str] = set()  # what the test typed or the app made up: the key, the class code

    def look(view: str, root: str = "body") -> None:
        page.wait_for_timeout(600)
        seen[view] = english_words(page.evaluate(VISIBLE_TEXT_JS) + "\n" + open_pickers(page, root), data_words)

    draw_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[5])
    page.wait_for_function("() => document.querySelector('#draw-status').innerText.includes('5')", timeout=30_000)
    look("draw", "#tab-draw")
    page.locator("#teach-5").click()
    page.wait_for_selector("#my-digits img", timeout=30_000)
    look("draw: a digit kept", "#tab-draw")

    tabs = page.locator("#tabs button[role=tab]")
    tabs.nth(1).click()
    look("train", "#tab-train")
    tabs.nth(2).click()
    page.wait_for_selector("#viz-maps img", timeout=60_000)
    look("visualize", "#tab-visualize")

    tabs.nth(3).click()
    look("class: start")
    page.locator("#class-title input, #class-title textarea").first.fill("七年级二班")
    page.locator("#class-create").click()
    page.wait_for_function("() => document.querySelector('#class-teacher-key input, #class-teacher-key textarea')"
                           "?.value.length > 10", timeout=30_000)
    key = page.locator("#class-teacher-key input, #class-teacher-key textarea").first.input_value()
    data_words.add(key.lower())
    # a random key splits into words at "_" (one key in many reads as "...x_A_q..."): each piece is data too
    data_words |= {w.strip("'-./").lower() for w in WORD.findall(key)}
    pretty = page.locator("#class-dash-code input, #class-dash-code textarea").first.input_value()
    data_words.add(pretty.lower())  # a class code is data, with or without a digit in it
    data_words |= {w.strip("'-./").lower() for w in WORD.findall(pretty)}  # "3NZE-PRHJ" reads as "NZE-PRHJ"
    look("class: the key's step")
    page.locator("#class-show-screen").click()
    page.wait_for_selector("#class-qr svg", timeout=30_000)
    look("class: the class's screen")
    code = pretty.replace("-", "")
    seed_class(app_classroom.store, code)
    page.locator("#class-open").click()
    page.wait_for_function("() => document.querySelectorAll('#class-wall figure').length >= 30", timeout=60_000)
    # the leaderboard's headers come with the same answer, but a loaded machine renders the table later
    page.wait_for_function("() => document.querySelector('#class-leaderboard')?.innerText.includes('昵称')",
                           timeout=30_000)
    look("class: dashboard", "#class-dashboard")
    page.locator("#class-projector-open").click()
    page.wait_for_selector("#class-projector-wall figure", timeout=30_000)
    look("class: projector view")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="zh-CN").new_page()
    phone.goto(f"{app_url}?class={code}", wait_until="load")
    phone.wait_for_selector("#class-canvas canvas.ink[data-ready='1']", state="visible", timeout=30_000)
    phone.locator("#class-nickname input, #class-nickname textarea").first.fill("Eli")
    phone.locator("#class-canvas canvas.ink").scroll_into_view_if_needed()  # the nickname field scrolled the page
    phone.evaluate("() => window.scrollTo(0, 0)")
    touch_strokes(phone, phone.locator("#class-canvas canvas.ink").bounding_box(), DIGITS[7])
    phone.wait_for_timeout(1000)  # the stroke's end sent (the answer itself may come from the phone's own model)
    phone.locator("#class-teach-7").click()
    phone.wait_for_function("() => document.querySelector('#class-count').innerText.includes('1')", timeout=60_000)
    phone.wait_for_timeout(600)
    seen["student's phone"] = english_words(phone.evaluate(VISIBLE_TEXT_JS), data_words)
    phone.context.close()
    context.close()
    left = {view: sorted(words) for view, words in seen.items() if words}
    assert left == {}, "\n".join(f"{view}: {words}" for view, words in left.items())
