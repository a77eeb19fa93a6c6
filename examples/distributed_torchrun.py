"""Multi-process training with torch.distributed (DistributedDataParallel).

Each process samples its own share of every epoch's seed nodes; gradients are averaged
across processes and the cluster centres (parameters of the model) stay in sync.

One machine, two processes on the CPU (gloo)::

    torchrun --standalone --nproc_per_node=2 examples/distributed_torchrun.py

One machine with 4 GPUs (nccl; each process uses the GPU of its local rank)::

    torchrun --standalone --nproc_per_node=4 examples/distributed_torchrun.py

Two machines with 8 GPUs each (run on both, with the first machine's address)::

    torchrun --nnodes=2 --nproc_per_node=8 --node_rank=<0 or 1> \\
        --rdzv_backend=c10d --rdzv_endpoint=<host of node 0>:29500 \\
        examples/distributed_torchrun.py

Run as a plain script it trains in one process.
"""

import os

import torch
import torch.distributed as dist

from graphclust import SCGCStar, evaluate
from graphclust.data import make_sbm


def main() -> None:
    launched = "WORLD_SIZE" in os.environ
    device = "cpu"
    if launched:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            local_rank = int(os.environ["LOCAL_RANK"])
            torch.cuda.set_device(local_rank)
            device = f"cuda:{local_rank}"
    # Every process builds (or loads) the same graph.
    graph = make_sbm(20_000, 5, 64, avg_degree=20, homophily=0.8, feature_signal=0.6,
                     random_state=0)
    # A short schedule keeps the example under a minute on a laptop CPU.
    model = SCGCStar(n_clusters=5, batch_size=1024, pretrain_epochs=3, max_epochs=5,
                     hidden_dims=(128,), device=device, random_state=0)
    model.fit(graph)
    if not launched or dist.get_rank() == 0:
        scores = evaluate(graph.y.numpy(), model.labels_)
        world = dist.get_world_size() if launched else 1
        print(f"{world} process(es): " + " ".join(f"{k}={v:.3f}" for k, v in scores.items()))
    if launched:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
