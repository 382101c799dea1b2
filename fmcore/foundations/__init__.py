"""Foundations (slides: gradient descent): the loss l(θ) and GD/SGD on 2-parameter datasets."""
