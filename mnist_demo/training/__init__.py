"""The road of a training: recipe -> engine (yields progress) -> metrics -> card.

`recipes` holds every recipe and option list, `engine` the one training loop shared by the
command line and the browser, `metrics` the evaluation, `card` the weights card, `job` a
training started from the browser, run in a process of its own (`worker` is that process's side,
`preload` what its fork server loads once), `slots` the global cap on trainings and the bounded
line.
"""
