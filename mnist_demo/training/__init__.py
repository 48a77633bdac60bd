"""The road of a training: recipe -> engine (yields progress) -> metrics -> card.

`recipes` holds every recipe and option list, `engine` the one training loop shared by the
command line and the browser, `metrics` the evaluation, `card` the weights card, `job` a
training started from the browser in a worker thread, `slots` the global cap on trainings.
"""
