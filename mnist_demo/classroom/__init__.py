"""Class mode's core: classes and their drawings in SQLite (`store`), codes, keys and rate limits
(`security`), a model on a class's drawings (`evaluate`) and the dataset zip (`export`). No gradio:
the tab is `mnist_demo.ui.class_tab`.
"""
