"""The road of a drawing: what a user sends -> the 28x28 model input -> ten probabilities.

`files` reads pictures and canvas payloads safely, `photo` finds the ink in a picture,
`geometry` applies MNIST's geometry to any ink map, and `predict` puts it all together for
every front end (the Draw tab, the API, the benchmarks).
"""
