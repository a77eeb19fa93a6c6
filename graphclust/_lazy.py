"""Attributes of a package imported on first use (PEP 562).

torch, torch_geometric and scikit-learn take seconds to import; a package that lists its
public names here answers ``import`` (and the ``graphclust`` command its ``--help``)
without them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_attributes(package: str, table: Mapping[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for names defined elsewhere.

    ``table`` maps each public name to the module that defines it. The first look-up
    imports that module and stores the value in the package, so later look-ups skip
    ``__getattr__``.
    """

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(table[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
