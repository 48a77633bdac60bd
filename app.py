"""Start the web app: `python app.py` (http://127.0.0.1:7860).

Binds to 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise (Hugging Face Spaces sets 0.0.0.0).

Keep imports under the `__main__` guard: every training process (multiprocessing) runs this
file's top level again, and gradio there would cost each training seconds of start-up.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if __name__ == "__main__":
    from mnist_demo import settings

    settings.load()  # every setting, read once, now
    from mnist_demo.training.runner import warm_up
    from mnist_demo.ui.app import build_app, launch_options

    warm_up()  # the trainer's fork server imports torch now, not when the first student presses Train
    demo = build_app()
    demo.launch(**launch_options(demo))
