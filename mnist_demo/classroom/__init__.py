"""Class mode's core: its operations behind the teacher gate (`service`), classes and their drawings in SQLite
(`store`), codes, keys and rate limits (`security`), a model on a class's drawings (`evaluate`), the dataset zip
(`export`) and "Train on our class" (`tuning`). No gradio: the tab is `mnist_demo.ui.class_tab`.
"""
