"""One replica of the DDP test (a module of its own so that spawned processes can import it)."""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from snncc.torch import build_model, make_optimizer, train_step
from snncc.torch.trainer import wrap_ddp
from snn_specs import make_ir


def batch(ir, size: int, seed: int = 5):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(ir.settings.timesteps, size, ir.populations[0].size, generator=gen) < 0.3).float()
    y = torch.randint(0, ir.populations[-1].size, (size,), generator=gen)
    return x, y


def step(ir, x, y, rank: int = 0, world: int = 1):
    """One training step on this replica's share of the batch; returns (gradients, updated weights)."""
    net = build_model(ir)
    model = net if world == 1 else wrap_ddp(net)  # as the trainer does
    optimizer = make_optimizer(ir.settings.optimizer, net.parameters())
    mine = np.array_split(np.arange(y.shape[0]), world)[rank]
    train_step(model, optimizer, x[:, mine], y[mine], batch_total=y.shape[0], replicas=world)
    weights = net.weights()
    return ({n: p.grad.clone() for n, p in weights.items()}, {n: p.detach().clone() for n, p in weights.items()})


def run(rank: int, world: int, init_file: str, spec: tuple, out: str, batch_size: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        args, kwargs = spec
        ir = make_ir(*args, **kwargs)
        x, y = batch(ir, batch_size)
        torch.save(step(ir, x, y, rank, world), f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()
