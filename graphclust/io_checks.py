"""Bounded reads of model-file members and checks of the tensors loaded from them.

Nothing in a model file is trusted to size memory: a zip member's declared size is
compared with a limit before a byte is inflated, and the read itself stops at the limit (a
member that inflates past its declared size is corrupt). The tensors are then compared,
name by name, with what the saved parameters imply (:func:`check_tensors`), so a file
with NaN centres or a tensor of another shape is refused at load time instead of
predicting garbage or failing deep inside torch.
"""

from __future__ import annotations

import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch.nn.modules import module as torch_module

from graphclust._zip import check_member

__all__ = ["TensorSpec", "check_tensors", "read_member", "tensors_at_most"]

#: ``name -> (shape, dtype)``; a shape entry is an int, or a string naming a size that must
#: be equal wherever the same string appears (e.g. ``"n"``: the number of fitted nodes).
TensorSpec = dict[str, tuple[tuple, torch.dtype]]


def read_member(archive: zipfile.ZipFile, name: str, where: str, max_bytes: int,
                note: str = "") -> bytes:
    """The bytes of member ``name``, refusing one larger than ``max_bytes`` (``note``
    follows the limit in the message: where it comes from).

    Raises
    ------
    ValueError
        The member is missing, declares or inflates to more than ``max_bytes``, or is
        corrupted (bad CRC, truncated or invalid compressed data); ``where`` (the file)
        and the member are named.
    """
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{where} is corrupted: no member {name} inside") from None
    check_member(archive, info, f"{where}: member {name}")
    if info.file_size > max_bytes:
        raise ValueError(
            f"{where}: member {name} declares {info.file_size} bytes, more than the limit "
            f"of {max_bytes}{note} (pass a larger max_bytes to load a model this large)"
        )
    try:
        with archive.open(info) as stream:
            data = stream.read(max_bytes + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise ValueError(f"{where} is corrupted: member {name} cannot be read "
                         f"({type(error).__name__}: {error})") from None
    if len(data) > max_bytes:
        raise ValueError(f"{where}: member {name} inflates to more than {max_bytes} bytes"
                         f"{note}")
    return data


@contextmanager
def tensors_at_most(limit: int) -> Iterator[None]:
    """Stop a build of modules once it has registered more than ``limit`` parameters and
    buffers.

    A model file's parameters are checked by building the modules they describe (on the
    meta device, which allocates no tensor data) and comparing them with the file's
    tensors. The build itself is still Python objects and time a layer: 10**5 layers
    named by a 64 kB file took 83 s and 2.7 GB before the comparison refused them. Each
    parameter and persistent buffer is a tensor of the file, so a build that registers
    more than the file holds (``limit``) is refused as it goes. Only this thread's
    registrations count.
    """
    registered = 0
    builder = threading.get_ident()  # the hooks are global: other threads' modules pass

    def count(module, name, tensor):
        nonlocal registered
        if threading.get_ident() != builder:
            return
        registered += tensor is not None
        if registered > limit:
            raise ValueError(f"the saved parameters describe networks of more than {limit} "
                             "tensors, more than the file holds")

    handles = [torch_module.register_module_parameter_registration_hook(count),
               torch_module.register_module_buffer_registration_hook(count)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _describe(shape: tuple) -> str:
    return "(" + ", ".join(str(dim) for dim in shape) + ("," if len(shape) == 1 else "") + ")"


def check_tensors(tensors: dict[str, torch.Tensor], spec: TensorSpec) -> None:
    """Every tensor of ``spec`` present with its dtype and shape, finite, and no other.

    Raises
    ------
    ValueError
        Naming the first tensor that is missing, unexpected, of another dtype or shape,
        or holds NaN or infinite values.
    """
    missing = sorted(set(spec) - set(tensors))
    extra = sorted(set(tensors) - set(spec))
    if missing or extra:
        raise ValueError(
            "the tensors do not match the saved parameters"
            + (f"; missing: {', '.join(missing[:5])}" if missing else "")
            + (f"; unexpected: {', '.join(extra[:5])}" if extra else "")
        )
    sizes: dict[str, int] = {}
    for name, (shape, dtype) in spec.items():
        tensor = tensors[name]
        if tensor.dtype != dtype:
            raise ValueError(f"tensor {name} has dtype {tensor.dtype}, expected {dtype}")
        wrong = tensor.dim() != len(shape)
        if not wrong:
            # Symbols take the size first seen, so every later use must agree with it.
            wanted = tuple(sizes.setdefault(dim, actual) if isinstance(dim, str) else dim
                           for dim, actual in zip(shape, tensor.shape, strict=True))
            wrong = tuple(tensor.shape) != wanted
        if wrong:
            raise ValueError(f"tensor {name} has shape {_describe(tuple(tensor.shape))}, "
                             f"expected {_describe(shape)} from the saved parameters")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"tensor {name} holds NaN or infinite values")
