import subprocess
import sys

import psutil
import pytest
import torch

from graphclust.data.synthetic import make_sbm
from graphclust.memory import (
    DEFAULT_MINI_BATCH,
    FULL_BATCH_LOSS_FLOPS,
    RUNTIME_BYTES,
    SMALLEST_BATCH,
    TrainingMemoryError,
    check_fits,
    choose_batch_size,
    epoch_flops,
    estimate_peak_memory,
    positive_pair_bound,
)
from graphclust.objectives import positive_weights
from graphclust.objectives.held_out import MAX_CANDIDATES, MAX_PAIRS
from graphclust.sampling import CSRGraph, available_memory_bytes
from graphclust.sampling import csr as csr_module
from graphclust.sampling.csr import csr_build_bytes

GIB = 2**30


@pytest.fixture(scope="module")
def graph():
    return make_sbm(300, 3, 8, avg_degree=6, random_state=0)


@pytest.mark.parametrize("kind", ["power", "influence"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_pair_bound_covers_the_exact_positives(graph, kind, order):
    exact = positive_weights(graph.edge_index, 300, order, kind)._nnz()
    bound = positive_pair_bound(graph.edge_index, 300, order)
    assert exact <= bound <= 300**2
    if order == 1:  # A + I: one walk per non-zero
        assert bound == exact == 300 + graph.edge_index.shape[1]


def test_estimate_parts_add_up_and_grow_with_the_graph():
    small = estimate_peak_memory(10_000, 250_000, 64)
    large = estimate_peak_memory(100_000, 2_500_000, 64)
    assert small.total == sum(small.parts.values())
    # At a fixed degree and chunk every part but the fixed ones is linear in the nodes.
    fixed = small.parts["parameters"] + RUNTIME_BYTES
    assert large.total - fixed == pytest.approx(10 * (small.total - fixed))
    assert "positives" in small.describe() and "GiB" in small.describe()
    denser = estimate_peak_memory(10_000, 500_000, 64)
    assert denser.parts["positives"] > 3 * small.parts["positives"]  # (1 + degree) ** order


def test_mini_batch_memory_is_linear_in_the_nodes():
    totals = [estimate_peak_memory(n, 25 * n, 64, batch_size=1024).total
              for n in (10**6, 2 * 10**6, 3 * 10**6)]
    assert totals[2] - totals[1] == totals[1] - totals[0]
    assert totals[0] < estimate_peak_memory(10**6, 25 * 10**6, 64).total / 10


def test_float64_costs_more_than_float32():
    single = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6)
    double = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6,
                                  dtype=torch.float64)
    assert single.parts["edges"] == double.parts["edges"]
    assert double.parts["features"] == 2 * single.parts["features"]


def test_full_batch_flops_are_quadratic():
    n, f, hidden, d = 1000, 50, (20,), 8
    encoder = 2 * (50 * 20 + 20 * 8)
    assert epoch_flops(n, f, hidden, d) == 3 * (2.0 * n * n * d + n * encoder)
    assert epoch_flops(2 * n, f, hidden, d) > 3.9 * epoch_flops(n, f, hidden, d) - 3 * 2 * n \
        * encoder
    # Mini-batch epochs grow linearly: the candidates per batch are capped.
    ratio = epoch_flops(10**6, f, hidden, d, batch_size=1024) / epoch_flops(
        10**5, f, hidden, d, batch_size=1024)
    assert ratio == pytest.approx(10)


def test_graphs_of_two_batches_and_more_train_in_batches():
    plenty = 64 * GIB
    assert choose_batch_size(2 * DEFAULT_MINI_BATCH - 1, 13_000, 334,
                             available_bytes=plenty) is None
    for n_nodes in (2 * DEFAULT_MINI_BATCH, 4057, 10**6):
        assert choose_batch_size(n_nodes, 25 * n_nodes, 64, available_bytes=plenty) == \
            DEFAULT_MINI_BATCH


# nodes, directed edge entries, features, classes of the development graphs (the loaders'
# sizes; Coauthor CS and Amazon Photo as in benchmarks/results/quality/deep_large).
_DEVELOPMENT_GRAPHS = {"dblp": (4057, 7056, 334, 4), "cora": (2708, 10556, 1433, 7),
                       "digits": (1797, 25070, 64, 10), "photo": (7650, 238162, 745, 8),
                       "cs": (18333, 163788, 6805, 15)}


@pytest.mark.parametrize("name", sorted(_DEVELOPMENT_GRAPHS))
def test_development_graphs_with_8_gib(name):
    n, e, f, k = _DEVELOPMENT_GRAPHS[name]
    batch = choose_batch_size(n, e, f, n_clusters=k, available_bytes=8 * GIB)
    assert batch == (None if name == "digits" else DEFAULT_MINI_BATCH)
    # A message-passing encoder keeps full batch on every one of them (the cost rule).
    assert choose_batch_size(n, e, f, n_clusters=k, available_bytes=8 * GIB,
                             passes_messages=True) is None


@pytest.mark.parametrize("n_features", [64, 745, 6805])
def test_message_passing_graphs_of_100k_nodes_and_more_train_in_batches(n_features):
    # With wide features the epoch cost ratio alone would keep full batch (a mini-batch
    # epoch encodes every node about 9 times): the loss budget decides.
    n, e = 100_000, 900_000
    assert epoch_flops(n, 6805) < epoch_flops(n, 6805, batch_size=DEFAULT_MINI_BATCH)
    assert 6 * n * n * 32 > FULL_BATCH_LOSS_FLOPS
    assert choose_batch_size(n, e, n_features, available_bytes=64 * GIB,
                             passes_messages=True) == DEFAULT_MINI_BATCH
    assert choose_batch_size(n, e, 6805, available_bytes=64 * GIB, passes_messages=True,
                             max_full_batch_loss_flops=float("inf")) is None


def test_full_batch_that_does_not_fit_falls_back_to_batches():
    n, e, f = 2000, 200_000, 1000  # under two batches: full batch if it fits
    full = estimate_peak_memory(n, e, f).total
    assert choose_batch_size(n, e, f, available_bytes=2 * full) is None
    just_enough = int(estimate_peak_memory(n, e, f, batch_size=n // 2).total / 0.8) + 1
    assert full > 0.8 * just_enough
    assert choose_batch_size(n, e, f, available_bytes=just_enough) == n // 2


def test_batch_is_halved_until_it_fits():
    n, e, f = 10**6, 25 * 10**6, 64
    fits_256 = estimate_peak_memory(n, e, f, batch_size=256).total
    assert estimate_peak_memory(n, e, f, batch_size=512).total > fits_256
    batch = choose_batch_size(n, e, f, available_bytes=int(fits_256 / 0.8) + 1)
    assert batch == 256


def test_nothing_fits_raises_a_memory_error_saying_what_to_change():
    with pytest.raises(TrainingMemoryError) as caught:
        choose_batch_size(10**6, 25 * 10**6, 64, available_bytes=GIB // 4,
                          device_name="cuda:0")
    assert isinstance(caught.value, MemoryError)
    message = str(caught.value)
    assert f"batch_size={SMALLEST_BATCH}" in message and "cuda:0" in message
    for advice in ("embedding_dim", "fewer feature columns", "device"):
        assert advice in message
    # The choice already tried its smallest batch: a smaller one is no advice.
    assert "smaller batch_size" not in message


def test_check_fits_passes_within_the_headroom():
    estimate = estimate_peak_memory(1000, 5000, 10)
    check_fits(estimate, estimate.total * 2, "cpu", "full batch")
    with pytest.raises(TrainingMemoryError, match="full batch.*pass a smaller batch_size"):
        check_fits(estimate, estimate.total, "cpu", "full batch")


def test_a_graph_too_small_for_a_batch_is_not_advised_a_smaller_one():
    with pytest.raises(TrainingMemoryError) as caught:
        choose_batch_size(100, 500, 10**6, available_bytes=2**20)
    assert "full batch" in str(caught.value) and "batch_size" not in str(caught.value)


def test_available_memory_of_the_cpu():
    free = available_memory_bytes("cpu")
    assert 0 < free <= psutil.virtual_memory().total
    with pytest.raises(ValueError, match="no memory probe"):
        available_memory_bytes("meta")


def test_the_held_out_input_is_one_more_copy_of_the_features():
    plain = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6)
    held_out = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6,
                                    held_out_input=True)
    assert held_out.parts["features"] == plain.parts["features"] * 4 // 3
    assert held_out.total - plain.total == 5000 * 100 * 4


def test_the_start_snapshots_are_copies_of_its_map_and_adam_moments():
    plain = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6)
    linear = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6,
                                  start_snapshots=20)
    encoder = estimate_peak_memory(5000, 50_000, 100, n_positive_pairs=10**6,
                                   start_snapshots=20, linear_start=False)
    assert plain.parts["start snapshots"] == 0
    assert linear.total - plain.total == 20 * 3 * 4 * (100 * 32 + 32)
    assert encoder.parts["start snapshots"] == 20 * 3 * plain.parts["parameters"] // 4


def test_a_capped_epoch_costs_its_batches_and_one_pass_for_the_target():
    f, hidden, d = 745, (256,), 32
    # Below the cap an epoch seeds every node either way.
    assert epoch_flops(30_000, f, hidden, d, batch_size=1024, max_batches=32) == \
        epoch_flops(30_000, f, hidden, d, batch_size=1024)
    # Above it only the target's forward pass grows with the graph.
    encoder = 2 * (745 * 256 + 256 * 32)
    grown = epoch_flops(2 * 10**6, f, hidden, d, batch_size=1024, max_batches=32) - \
        epoch_flops(10**6, f, hidden, d, batch_size=1024, max_batches=32)
    assert grown == pytest.approx(10**6 * encoder)


def test_message_passing_prices_the_capped_epoch_it_will_train():
    # 49,000 nodes, 745 features: an uncapped mini-batch epoch costs more than full batch,
    # an epoch of 32 batches less, so the sampler's cap takes seed batches.
    sizes = dict(available_bytes=64 * GIB, passes_messages=True)
    assert choose_batch_size(49_000, 490_000, 745, **sizes) is None
    assert choose_batch_size(49_000, 490_000, 745, max_batches=32, **sizes) == \
        DEFAULT_MINI_BATCH


def test_sizes_the_estimate_cannot_read_are_refused():
    with pytest.raises(ValueError, match="n_nodes must be an integer >= 1"):
        estimate_peak_memory(0, 0, 5)  # had been a ZeroDivisionError
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        estimate_peak_memory(100, 500, 5, batch_size=0)
    # Below the smallest batch the choice had trained a million nodes full batch.
    with pytest.raises(ValueError, match=f"mini_batch must be an integer >= {SMALLEST_BATCH}"):
        choose_batch_size(10**6, 10**7, 100, available_bytes=64 * GIB, mini_batch=32)


# One process's peak resident memory growth while it computes the clustering term on N
# embeddings as training does: a mini-batch epoch's whole-graph target (no gradient), or
# a full-batch step's term with its backward pass.
_CLUSTERING_PEAK = r'''
import sys, psutil, torch
torch.set_num_threads(1)
from graphclust.benchmark.measure import peak_resident_bytes, reset_peak_resident
from graphclust.nn.heads import StudentTHead
from graphclust.objectives.composed import SelfTraining
n, k, full = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "full"
z = torch.nn.functional.normalize(torch.randn(n, 32), dim=1).requires_grad_(full)
head, term = StudentTHead(k, 32), SelfTraining("start")
with torch.no_grad():
    prior = term.prior(head(z[:100]))  # loads the kernels before the baseline
reset_peak_resident()  # ru_maxrss would hold pytest's own peak, carried across exec
before = psutil.Process().memory_info().rss
if full:
    q = head(z)
    term(term.target(q, prior), q).backward()
else:
    with torch.no_grad():
        q = head(z)
    p = term.target(q, prior)
print(peak_resident_bytes() - before)
'''


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory read from /proc (Linux)")
@pytest.mark.parametrize(("batch_size", "part"), [(None, "clustering"), (1024, "epoch target")])
def test_the_clustering_term_is_counted_as_it_grows_with_the_clusters(batch_size, part):
    """The Student-t assignments and their target hold three N x K tensors at once in a
    mini-batch epoch's whole-graph pass, eight in a full-batch step with its gradients:
    counted as two and four, a fit of many clusters went past its estimate."""
    n, clusters = 40_000, (250, 1000)
    peaks = [int(subprocess.run(
        [sys.executable, "-c", _CLUSTERING_PEAK, str(n), str(k),
         "full" if batch_size is None else "batch"],
        capture_output=True, text=True, check=True).stdout) for k in clusters]
    estimated = [estimate_peak_memory(n, 10 * n, 16, n_clusters=k, batch_size=batch_size)
                 .parts[part] for k in clusters]
    per_copy = n * (clusters[1] - clusters[0]) * 4  # one N x K float32 tensor more
    measured = (peaks[1] - peaks[0]) / per_copy
    assert measured <= (estimated[1] - estimated[0]) / per_copy + 0.5


def test_the_start_s_held_out_checks_are_counted():
    """A check scores at most MAX_PAIRS held-out pairs against MAX_CANDIDATES more nodes;
    its logits and their exponentials (logsumexp) were the peak of a 50k-node fit, which
    the estimate did not count."""
    sizes = (50_000, 1_250_000, 64)
    counted = estimate_peak_memory(*sizes, held_out=0.1).parts["held-out checks"]
    assert counted == 2 * MAX_PAIRS * (MAX_CANDIDATES + MAX_PAIRS) * 4
    assert "held-out checks" not in estimate_peak_memory(*sizes).parts
    # A small graph is scored against all its nodes, on its share of the edges.
    small = estimate_peak_memory(300, 6000, 16, held_out=0.1).parts["held-out checks"]
    assert small == 2 * 300 * 300 * 4
    with pytest.raises(ValueError, match="held_out"):
        estimate_peak_memory(*sizes, held_out=1.5)
    # The held-out run trains on a list of the other 90% of the edge entries.
    edges = estimate_peak_memory(*sizes, held_out=0.1).parts["held-out edges"]
    assert edges == 16 * round(0.9 * sizes[1])


def test_a_mini_batch_fit_counts_the_csr_build():
    """Building the CSR sorts three E-entry int64 arrays at once (CSRGraph.from_edge_index),
    the peak of a 1M-node fit: more than the CSR and the id buffers it leaves."""
    n, e = 1_000_000, 25_000_000
    sampling = estimate_peak_memory(n, e, 64, batch_size=1024).parts["sampling"]
    assert sampling == 8 * (3 * e + 2 * (n + 1))
    # With fewer than 2N/3 entries the CSR and the id buffers it leaves outweigh the build.
    sparse = estimate_peak_memory(n, n // 4, 64, batch_size=1024).parts["sampling"]
    assert sparse == 8 * (3 * n + n // 4)


def test_the_estimate_and_the_csr_build_count_the_build_alike(monkeypatch):
    """The fit's estimate and the build's own check read one figure: a graph whose build
    the estimate counts at X bytes is built with X available and refused with one less."""
    n, e = 50, 400
    edges = torch.randint(0, n, (2, e), generator=torch.Generator().manual_seed(0))
    counted = estimate_peak_memory(n, e, 8, batch_size=8).parts["sampling"]
    assert counted == csr_build_bytes(n, e) == 8 * (3 * e + 2 * (n + 1))
    monkeypatch.setattr(csr_module, "available_memory_bytes", lambda device: counted)
    assert CSRGraph.from_edge_index(edges, n).num_edges == e
    monkeypatch.setattr(csr_module, "available_memory_bytes", lambda device: counted - 1)
    with pytest.raises(MemoryError, match=f"{counted:,} bytes"):
        CSRGraph.from_edge_index(edges, n)


@pytest.mark.parametrize("held_out", ["0.1", None, True])
def test_a_held_out_share_that_is_not_a_number_is_named(held_out):
    # "0.1" and None had failed inside the range check: "'<=' not supported between
    # instances of 'int' and 'str'", naming no argument.
    with pytest.raises(TypeError, match="held_out must be a real number"):
        estimate_peak_memory(300, 6000, 16, held_out=held_out)
