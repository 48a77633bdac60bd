"""Start the web app: `python app.py` (http://127.0.0.1:7860).

Binds to 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise (Hugging Face Spaces sets 0.0.0.0).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from mnist_demo.ui.app import build_app, launch_options  # noqa: E402

if __name__ == "__main__":
    build_app().launch(**launch_options())
