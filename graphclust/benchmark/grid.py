"""The checked axes of a benchmark grid: data set and model names, seeds, parameters.

Everything here runs before the first fit, so that a misspelt name or parameter fails at
once instead of after hours of runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from graphclust.registry import build_estimator, check_model

__all__ = ["check_datasets", "model_params", "name_list", "seed_list", "share_of"]


def model_params(models: Sequence[str], params: Mapping,
                 also: Sequence[str] = ()) -> dict[str, dict]:
    """Each model's share of ``params``: the keys it takes, type-checked.

    ``max_epochs`` then reaches the contrastive models of a grid and not ``svd-kmeans``,
    which has no such parameter. A key that no model takes (of ``models``, or of ``also``:
    the baselines a grid adds) is an error, so a misspelt parameter never goes unused
    silently.

    Raises
    ------
    ValueError
        Unknown model, a key no model takes, or a value of the wrong type.
    """
    shares = {model: share_of(model, params) for model in [*models, *also]}
    unused = sorted(set(params) - {key for share in shares.values() for key in share})
    if unused:
        raise ValueError(f"no model of the grid takes it: {' / '.join(shares)} has no "
                         f"parameter {', '.join(map(repr, unused))}")
    return {model: shares[model] for model in models}


def share_of(model: str, params: Mapping) -> dict:
    """The keys of ``params`` that ``model`` takes, type-checked for it."""
    accepted = check_model(model)().get_params(deep=False)
    share = {key: value for key, value in params.items() if key in accepted}
    build_estimator(model, share)
    return share


def seed_list(seeds) -> list[int]:
    """``seeds`` as a list: a count ``N`` means ``0..N-1``."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (the number of seeds), got {seeds}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an int (count) or a sequence of ints, got {seeds!r}")
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                            for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    if len(set(seeds)) < len(seeds):  # the same fit twice would count as two runs
        raise ValueError(f"seeds lists a seed twice: {seeds!r}")
    return [int(s) for s in seeds]


def name_list(kind: str, names) -> list[str]:
    """``names`` (one name or several) as a non-empty list of non-empty strings."""
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{kind} must be a non-empty list of names, got {names!r}")
    return names


def check_datasets(names: Sequence[str], root: str | os.PathLike | None) -> None:
    """Refuse a data set name that no loader knows (a missing file fails its runs later)."""
    from graphclust.data.datasets import datasets as dataset_table

    known = {name for row in dataset_table(root) for name in [row["name"], *row["aliases"]]}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise ValueError(
            f"unknown data set(s) {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted(known))}"
        )
