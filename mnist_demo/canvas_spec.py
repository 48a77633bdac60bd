"""What the browser drawing canvas draws with, in one home for the UI's JavaScript and the Python renderer.

`ui/canvas.py` writes these into its script, `reading/files.py` accepts payloads of that size and
no larger, and `handwriting.py` renders pen strokes with them, so a recorded drawing replayed in
Python gives the ink map the page would have sent.
"""

INK_SIDE = 112  # the payload's side in pixels: 4x MNIST's field, plenty for preprocessing
BRUSH = 0.075  # stroke width as a share of the canvas side (MNIST-like thickness for a full-size digit)
