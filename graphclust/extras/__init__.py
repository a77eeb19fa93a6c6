"""Optional extras: ideas from the broader deep-learning literature applied to our encoders.

Nothing in the core package imports this package. Each extra is switched on by passing one
of its encoder configurations as ``encoder=`` to an estimator (or a part of one, e.g. a
norm placement, to a configuration); ``benchmarks/extras_ablations.py`` measures each
against the plain model.
"""
