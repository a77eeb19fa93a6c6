"""``--set key=value`` and comma-separated names, read from the command line."""

from __future__ import annotations

import ast
from collections.abc import Sequence

__all__ = ["parse_assignment", "parse_sets", "split_names"]

# Options that have their own flag: setting them through --set too would be ambiguous.
FLAG_PARAMS = {"random_state": "--seed", "device": "--device", "verbose": "--quiet",
               "n_jobs": "--threads", "knn_method": "--knn-method"}


def _literal(text: str):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null" or (lowered == "none" and text != "none"):
            return None
        # A bare word: a string such as features=tfidf. Lower-case "none" stays a word:
        # it names the transform and the start "none", and build_estimator reads it as
        # None where a parameter has no such option (batch_size=none).
        return text
    if isinstance(value, list):
        value = tuple(value)  # the command line's spelling of a sequence
    return value


def _plain(value) -> bool:
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))


def parse_assignment(text: str) -> tuple[str, object]:
    """Parse one ``--set key=value``.

    The value is read as a Python literal (``ast.literal_eval``): integers, floats,
    ``True``/``False``/``None`` (also ``true``/``false``/``null``; lower-case ``none`` is
    the word ``"none"``, which :func:`graphclust.build_estimator` reads as ``None`` where
    the parameter has no option of that name), quoted strings,
    tuples and lists (returned as tuples, so ``hidden_dims=256,64`` and
    ``hidden_dims=[256,64]`` are the same); anything that is not a literal is a string.

    Raises
    ------
    ValueError
        No ``=``, an empty key or value, or a literal of another type (dict, set, ...).
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"--set expects key=value with a parameter name as key, got {text!r}")
    if not raw:
        raise ValueError(f"--set {key}= has no value")
    value = _literal(raw)
    if not _plain(value):
        raise ValueError(
            f"--set {key}={raw}: expected a number, bool, None, string or a tuple of them, "
            f"got {type(value).__name__}"
        )
    return key, value


def parse_sets(assignments: Sequence[str] | None) -> dict:
    params: dict = {}
    for text in assignments or ():
        key, value = parse_assignment(text)
        if key in params:
            raise ValueError(f"--set {key} given twice")
        if key in FLAG_PARAMS:
            raise ValueError(f"--set {key}: use {FLAG_PARAMS[key]} instead")
        params[key] = value
    return params


def split_names(text: str, option: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"{option} needs at least one name, got {text!r}")
    return names
