"""Which process of a data-parallel launch this is (torchrun, accelerate launch, submitit tasks).

A single-process run never starts a process group: every helper here is then a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from stance.errors import StanceError, problem

BACKENDS = ("auto", "nccl", "gloo")


def world_size() -> int:
    """The number of ranks of this launch (1 without torchrun / accelerate / submitit tasks)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank (0 in a single-process run)."""
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """True on rank 0, the only rank that evaluates and writes the run record and the model."""
    return rank() == 0


def adopt_submitit_tasks() -> None:
    """Export torch's ``env://`` variables (RANK, WORLD_SIZE, MASTER_ADDR, ...) in a submitit job
    with several tasks (``hydra.launcher.tasks_per_node=N``); torchrun has already set them."""
    if "RANK" in os.environ or not os.environ.get("SUBMITIT_EXECUTOR"):
        return
    from submitit import JobEnvironment
    from submitit.helpers import TorchDistributedEnvironment

    if JobEnvironment().num_tasks > 1:
        # Keep every GPU visible: accelerate picks cuda:<local rank>, and a cluster that already
        # binds one GPU per task shows it as cuda:0 (local rank % device count).
        TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


def resolve_backend(backend: str, cuda: bool) -> str:
    """``auto`` -> nccl on GPUs, gloo on CPU; an explicit choice is checked."""
    if backend not in BACKENDS:
        raise StanceError(
            problem(
                "distributed.backend",
                f"unknown backend {backend!r}",
                f"use one of {', '.join(BACKENDS)}",
            )
        )
    if backend == "auto":
        return "nccl" if cuda else "gloo"
    if backend == "nccl" and not cuda:
        raise StanceError(
            problem(
                "distributed.backend",
                "nccl needs GPUs and this process sees none",
                "use distributed.backend=gloo (or auto) on CPU",
            )
        )
    return backend


@contextmanager
def session(backend: str, timeout_s: int) -> Iterator[None]:
    """The process group of one training run: started here under a multi-rank launch (the HF
    Trainer then reuses it), destroyed on the way out."""
    if world_size() == 1:
        yield
        return
    import torch
    import torch.distributed as dist
    from accelerate import PartialState

    cuda = torch.cuda.is_available()
    started = not dist.is_initialized()
    if started:
        # accelerate sets the device per local rank and the CPU threads per process
        PartialState(
            cpu=not cuda,
            backend=resolve_backend(backend, cuda),
            timeout=timedelta(seconds=timeout_s),
        )
    try:
        yield
    finally:
        if started and dist.is_initialized():
            dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op without a process group)."""
    if world_size() == 1:
        return  # the linear families never import torch
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


@contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. builds the dataset), the others after it is done.

    Rank 0 releases the others even when it fails, so they fail with the same message instead
    of waiting for the process group's timeout.
    """
    if world_size() == 1:
        yield
        return
    if not is_main():
        barrier()
        yield
        return
    try:
        yield
    finally:
        barrier()
