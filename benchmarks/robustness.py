"""Bad input, as a hostile or careless user gives it, and what graphclust does with it.

Every case is generated here from a fixed seed (model files, data files in the published
layouts, arrays, interrupted fits), run in this process, and classified:

* ``result``: a correct result (the input was valid after all, e.g. a byte flip in zip
  padding);
* ``refused``: a ``ValueError``, ``TypeError`` or ``FileNotFoundError`` with a message;
* ``other exception``, ``code ran`` (a marker file a payload would create exists),
  ``input changed`` or ``state changed``: failures, which the table must show as zero.

    python -m benchmarks.robustness

writes benchmarks/results/robustness.md (about a minute on one core; ``--tiny``: a few
cases of each kind). Fits are interrupted through the public ``encoder=`` option: an
encoder whose forward raises from its n-th call. SVDKMeans has no such part; its
interrupted refits are covered by ``tests/test_fit_atomic.py``.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import struct
import tempfile
import traceback
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.torch
import scipy.sparse as sp
import torch

from benchmarks._machine import parse, results_header, script_parser, write_results
from graphclust import SCGCStar, load_dataset
from graphclust.data import to_graph
from graphclust.data.formats.adgc import read_adgc
from graphclust.data.formats.npz import read_npz
from graphclust.data.formats.planetoid import read_planetoid
from graphclust.data.formats.sdcn import read_sdcn
from graphclust.io import load
from graphclust.nn import MLPConfig

CLEAR = (ValueError, TypeError, FileNotFoundError)
RNG = np.random.default_rng(17)
WORK = Path(tempfile.mkdtemp(prefix="graphclust-robustness-"))
MARKER = WORK / "code-ran"


def outcome(run, reference=None) -> str:
    """Run one case; its class (see the module docstring). With ``reference`` (a graph or
    predicted probabilities), a result is compared with what the undamaged file gives."""
    try:
        value = run()
    except CLEAR:
        result = "refused"
    except Exception as error:  # noqa: BLE001 - counting them is the point
        result = f"other exception ({type(error).__name__})"
        if os.environ.get("ROBUSTNESS_DEBUG"):
            traceback.print_exc()
    else:
        result = "result"
        if reference is not None:
            result += ", unchanged" if same(value, reference) else ", values changed"
    if MARKER.exists():
        MARKER.unlink()
        return "code ran"
    return result


def same(value, reference) -> bool:
    if isinstance(reference, np.ndarray):
        return np.array_equal(value, reference)
    return all(torch.equal(getattr(value, key), getattr(reference, key))
               for key in ("x", "edge_index", "y"))


def damage(data: bytes) -> bytes:
    """Flip up to 8 random bytes, or cut the end, or insert 1-16 random bytes."""
    data = bytearray(data)
    kind = RNG.integers(3)
    if kind == 0:
        for position in RNG.integers(0, len(data), RNG.integers(1, 9)):
            data[position] ^= int(RNG.integers(1, 256))
        return bytes(data)
    if kind == 1:
        return bytes(data[: RNG.integers(0, len(data))])
    position = RNG.integers(0, len(data) + 1)
    return bytes(data[:position]) + RNG.bytes(int(RNG.integers(1, 17))) + bytes(data[position:])


class Payload:
    """A pickle that calls ``function(argument)`` when unpickled."""

    def __init__(self, function, argument):
        self.call = (function, (argument,))

    def __reduce__(self):
        return self.call


# ---------------------------------------------------------------------------- model files
def model_cases(table: dict, times) -> None:
    karate = load_dataset("karate")
    path = WORK / "model.gc"
    SCGCStar(2, hidden_dims=(16,), embedding_dim=4, max_epochs=2, pretrain_epochs=1,
             random_state=0).fit(karate).save(path)
    original = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("graphclust.json"))
        tensors = safetensors.torch.load(archive.read("tensors.safetensors"))

    def write(new_header=None, new_tensors=None, target=WORK / "case.gc"):
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("graphclust.json", json.dumps(new_header or header))
            archive.writestr("tensors.safetensors",
                             safetensors.torch.save(new_tensors or tensors))
        return target

    names = ["graphclust.cli:main", "os:system", "builtins:eval", "builtins:exec",
             "subprocess:Popen", "graphclust.io:Path", "graphclust.data:load_dataset",
             "pathlib:Path", "importlib:import_module", "torch:load", "numpy:load",
             "graphclust.io_params:decode_param", "graphclust.nn.config:MLP"]
    for name in names:
        edited = json.loads(json.dumps(header))
        edited["params"]["encoder"] = {"__config__": name, "fields": {
            "argv": ["fit", "--dataset", "karate", "--save", str(MARKER)]}}
        table["model file: names a callable in __config__"].append(
            outcome(lambda edited=edited: load(write(edited))))
    expected = load(path).predict_proba(karate)
    for _ in range(times(200)):
        (WORK / "case.gc").write_bytes(damage(original))
        table["model file: damaged bytes"].append(
            outcome(lambda: load(WORK / "case.gc").predict_proba(karate), expected))
    values = [None, -1, 0, 2**40, 1e308, float("nan"), "x", [], {}, [1, [2]],
              {"__tuple__": [1, 2]}, {"__config__": "os:system", "fields": {}}, True]
    for _ in range(times(200)):
        edited = json.loads(json.dumps(header))
        section = ("params", "fitted")[RNG.integers(2)]
        key = sorted(edited[section])[RNG.integers(len(edited[section]))]
        edited[section][key] = values[RNG.integers(len(values))]
        table["model file: edited header value"].append(
            outcome(lambda edited=edited: load(write(edited)).predict(karate)))
    edits = {"nan": lambda t: t.fill_(float("nan")), "inf": lambda t: t.fill_(float("inf")),
             "row added": lambda t: torch.cat([t, t[:1]]),
             "float64": lambda t: t.double(), "flattened": lambda t: t.reshape(-1)}
    for name in tensors:
        for label, edit in edits.items():
            if label in ("nan", "inf") and not tensors[name].is_floating_point():
                continue
            changed = {**tensors, name: edit(tensors[name].clone())}
            table[f"model file: tensor edited ({label})"].append(
                outcome(lambda changed=changed: load(write(new_tensors=changed))))
        without = {key: value for key, value in tensors.items() if key != name}
        table["model file: tensor missing"].append(
            outcome(lambda without=without: load(write(new_tensors=without))))
    for size in (0, 100, 2**31, 2**32 - 16):
        for member in ("graphclust.json", "tensors.safetensors"):
            data = bytearray(original)
            start = data.index(b"PK\x01\x02")
            while data[start + 46:start + 46 + len(member)] != member.encode():
                start = data.index(b"PK\x01\x02", start + 4)
            struct.pack_into("<I", data, start + 24, size)
            (WORK / "case.gc").write_bytes(bytes(data))
            table["model file: declared member size"].append(
                outcome(lambda: load(WORK / "case.gc")))


# ---------------------------------------------------------------------------- data files
def planetoid_cases(table: dict, root: Path, times) -> None:
    raw = root / "planetoid" / "Cora" / "raw"
    if not raw.is_dir():
        return
    files = sorted(raw.iterdir())
    cora = read_planetoid(root / "planetoid", "cora")
    for index, planted in enumerate(files * 2):
        folder = WORK / f"planetoid-{index}"
        shutil.copytree(raw, folder / "Cora" / "raw")
        function = (os.system, eval)[index // len(files)]
        argument = f"touch {MARKER}" if function is os.system else \
            f"open({str(MARKER)!r}, 'w')"
        with open(folder / "Cora" / "raw" / planted.name, "wb") as stream:
            pickle.dump(Payload(function, argument), stream, protocol=2)
        table["Planetoid: planted pickle (os.system, eval)"].append(
            outcome(lambda folder=folder: read_planetoid(folder, "cora"), cora))
        shutil.rmtree(folder)
    folder = WORK / "planetoid"
    shutil.copytree(raw, folder / "Cora" / "raw")
    for _ in range(times(60)):
        victim = files[RNG.integers(len(files))]
        (folder / "Cora" / "raw" / victim.name).write_bytes(damage(victim.read_bytes()))
        table["Planetoid: damaged raw file"].append(
            outcome(lambda: read_planetoid(folder, "cora"), cora))
        shutil.copy(victim, folder / "Cora" / "raw" / victim.name)


def text_and_archive_cases(table: dict, times) -> None:
    folder = WORK / "sdcn" / "toy"
    (folder / "data").mkdir(parents=True)
    (folder / "graph").mkdir()
    texts = {folder / "data" / "toy.txt": b"1 0 2\n0 1 0\n1 1 1\n0 0 3\n",
             folder / "data" / "toy_label.txt": b"1\n2\n1\n2\n",
             folder / "graph" / "toy_graph.txt": b"0 1\n1 2\n2 3\n"}
    for path, text in texts.items():
        path.write_bytes(text)
    toy = read_sdcn(folder, "toy")
    for _ in range(times(150)):
        for path, text in texts.items():
            path.write_bytes(text)
        victim = list(texts)[RNG.integers(3)]
        victim.write_bytes(damage(texts[victim]))
        table["SDCN: damaged text file"].append(outcome(lambda: read_sdcn(folder, "toy"), toy))
    arrays = {"toy_feat.npy": np.eye(4, dtype=np.float32), "toy_label.npy": np.arange(4) % 2,
              "toy_adj.npy": np.ones((4, 4)) - np.eye(4)}
    archive_cases(table, "A-DGC: damaged archive or member", WORK / "toy.zip",
                  npy_members(arrays), read_adgc, times)


def npy_members(arrays: dict) -> dict[str, bytes]:
    """``name -> .npy bytes`` for each array (as ``np.save`` writes them)."""
    members = {}
    for name, array in arrays.items():
        stream = io.BytesIO()
        np.save(stream, array)
        members[name] = stream.getvalue()
    return members


def write_archive(path: Path, members: dict[str, bytes], method=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def archive_cases(table: dict, category: str, path: Path, members: dict[str, bytes], read,
                  times) -> None:
    """Damage one member (odd cases) or the whole deflated archive (even ones)."""
    write_archive(path, members)
    reference = read(path)
    for index in range(times(150)):
        damaged = dict(members)
        if index % 2:
            victim = list(members)[RNG.integers(len(members))]
            damaged[victim] = damage(members[victim])
        write_archive(path, damaged, zipfile.ZIP_DEFLATED)
        if not index % 2:
            path.write_bytes(damage(path.read_bytes()))
        table[category].append(outcome(lambda: read(path), reference))


def npz_cases(table: dict, times) -> None:
    """Amazon / Coauthor archives: damaged bytes, and well-formed members whose CSR
    indices or declared shapes lie (out of range, negative, huge)."""
    adjacency = sp.csr_matrix(np.ones((4, 4)) - np.eye(4))
    attributes = sp.csr_matrix(np.eye(4, 3, dtype=np.float32))
    arrays = {f"{prefix}_{part}.npy": np.asarray(value) for prefix, matrix in
              (("adj", adjacency), ("attr", attributes)) for part, value in
              (("data", matrix.data), ("indices", matrix.indices),
               ("indptr", matrix.indptr), ("shape", matrix.shape))}
    arrays["labels.npy"] = np.arange(4) % 2
    path = WORK / "toy.npz"
    archive_cases(table, "npz (Amazon, Coauthor): damaged archive or member", path,
                  npy_members(arrays), read_npz, times)
    write_archive(path, npy_members(arrays))
    reference = read_npz(path)
    edits = ("adj_indices.npy", "attr_indices.npy", "adj_shape.npy", "attr_shape.npy")
    for index in range(times(100)):
        edited = {name: array.copy() for name, array in arrays.items()}
        victim = edits[index % len(edits)]
        values = edited[victim]
        position = RNG.integers(len(values))
        values[position] = RNG.choice([-1, -(1 << 31), int(values[position]) + 1,
                                       int(RNG.integers(4, 1 << 31))])
        write_archive(path, npy_members(edited))
        table["npz (Amazon, Coauthor): CSR index or shape edited"].append(
            outcome(lambda: read_npz(path), reference))


# ---------------------------------------------------------------------------- arrays, fit
def array_cases(table: dict, times) -> None:
    dtypes = (np.float32, np.float64, np.int64, np.bool_, np.complex64, object, np.str_)
    for _ in range(times(200)):
        shape = tuple(RNG.integers(0, 5, RNG.integers(0, 4)))
        array = RNG.normal(size=shape).astype(dtypes[RNG.integers(len(dtypes))])
        if array.dtype.kind == "f" and array.size and RNG.random() < 0.3:
            array.flat[0] = (np.nan, np.inf)[RNG.integers(2)]
        before = array.copy()

        def run(array=array):
            graph = to_graph(array)
            graph.x.add_(1.0)

        result = outcome(run)
        same = np.array_equal(array, before, equal_nan=array.dtype.kind in "fc")
        table["to_graph: random arrays"].append(result if same else "input changed")


@dataclass(frozen=True)
class FailingMLPConfig(MLPConfig):
    """The MLP encoder, whose forward raises ``error`` from its ``after``-th call on: an
    exception or a Ctrl-C in the middle of a fit, given through ``encoder=``."""

    after: int = 1
    error: BaseException | None = None

    def build(self, in_channels: int, out_channels: int):
        module = super().build(in_channels, out_channels)
        calls = []

        def fail(*_):
            calls.append(1)
            if len(calls) >= self.after:
                raise self.error

        module.register_forward_hook(fail)
        return module


def fit_cases(table: dict, times) -> None:
    karate = load_dataset("karate")
    encoder = MLPConfig(hidden_dims=(16,))
    # The contrastive start trains the encoder the configuration builds (the linear start
    # grows a new one from its linear map, which the failing hook would not be on).
    model = SCGCStar(2, encoder=encoder, embedding_dim=4, max_epochs=3, pretrain="contrastive",
                     pretrain_epochs=1, random_state=0)
    for after in range(1, 4):
        for error in (RuntimeError("interrupted"), KeyboardInterrupt()):
            model.set_params(encoder=encoder).fit(karate)
            before = {k: v for k, v in vars(model).items() if k.endswith("_")}
            model.set_params(encoder=FailingMLPConfig(hidden_dims=(16,), after=after,
                                                      error=error))
            try:
                model.fit(karate)
                result = "result"
            except (RuntimeError, KeyboardInterrupt):
                result = "refused"
            if result == "result":  # fewer forward calls than `after`: fit finished
                table["fit: refit that finished"].append(result)
                continue
            after_state = {k: v for k, v in vars(model).items() if k.endswith("_")}
            intact = before.keys() == after_state.keys() and all(
                after_state[key] is before[key] for key in before)
            table["fit: exception or Ctrl-C during a refit"].append(
                result if intact else "state changed")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/robustness.md")
    args = parse(parser, argv, "benchmarks.robustness")

    def times(count: int) -> int:
        return max(1, count // 40) if args.tiny else count

    table: dict[str, list[str]] = defaultdict(list)
    try:
        model_cases(table, times)
        planetoid_cases(table, Path(args.root), times)
        text_and_archive_cases(table, times)
        npz_cases(table, times)
        array_cases(table, times)
        fit_cases(table, times)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    lines = [*results_header("Robustness: bad input and interruptions", args.command),
             "Seed 17. `refused`: a ValueError, TypeError or FileNotFoundError with a message "
             "(for fit: the interruption "
             "propagated and the previous model was intact). `result, unchanged`: the "
             "damage left the file valid and the same data or model came out (e.g. a byte "
             "in zip padding, or Planetoid's `ind.cora.x`/`.y`, which the reader does not "
             "need). `result, values changed`: the damage left a well-formed file with other "
             "numbers (a digit changed in a text file, a flipped byte inside an array's "
             "data): no reader can tell that from data without a checksum (the shared data "
             "folder's `MD5SUMS`). `result` alone: valid input (an edited header value that "
             "fit allows, an array to_graph accepts). Other outcomes would be failures.",
             "", "| category | cases | outcomes |", "|---|---:|---|"]
    failures = 0
    for category, outcomes in table.items():
        counts = Counter(outcomes)
        failures += sum(n for kind, n in counts.items()
                        if not kind.startswith(("result", "refused")))
        cells = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
        lines.append(f"| {category} | {len(outcomes)} | {cells} |")
    total = sum(len(outcomes) for outcomes in table.values())
    lines += ["", f"{total} cases, {failures} failures (other exception, code ran, input "
              "changed or state changed)."]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
