"""Estimator settings shared by benchmark scripts."""

# The recipe the extras were measured with: the encoder's own contrastive start of 50 steps,
# DEC's equal-size target and alpha 0.1. It was the default before the linear start
# (pretrain="linear"), which the extras' encoders cannot take (they have no from_linear),
# so their ablations keep it for the plain model and every variant alike.
EXTRAS_RECIPE = {"pretrain": "contrastive", "pretrain_epochs": 50, "size_prior": "uniform",
                 "alpha": 0.1}
