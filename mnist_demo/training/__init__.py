"""The road of a training: recipe -> engine (yields progress) -> metrics -> card.

`recipes` holds every recipe and option list, `engine` the one training loop shared by the
command line and the browser, `metrics` the evaluation, `card` the weights card, `runner` the one
runtime for work in a process of its own (the line, the process, its pipe, stopping, crashes, cleanup;
`preload` what its fork server loads once), `job` a training started from the browser (`worker` its
process's side), `teach` a teaching of My digits or a class's drawings, `slots` the global cap on trainings
and the bounded line.
"""
