"""DDP under torchrun: environment detection, process group, metric all-reduce, rank-0-only writes.

``torchrun --nproc-per-node N -m foveal train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK;
foveal then joins the process group (NCCL on GPUs, gloo on CPU), shards each epoch's
sample order by rank (see ``batches.epoch_order``) and lets only rank 0 write files.
``--batch-size`` is per process, as with torchrun generally.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) outside it."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
            int(os.environ.get("LOCAL_RANK", 0)))


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    from foveal.errors import ConfigError

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda given, but no CUDA device is available", "use --device cpu or auto")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"unknown --device {name!r}", "use auto, cpu or cuda")


def setup(device_name: str = "auto") -> DistContext:
    """Join the process group when launched by torchrun; otherwise a single-process context."""
    rank, world, local = env_world()
    device = pick_device(device_name, local)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistContext(rank=rank, world=world, local_rank=local, device=device)


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Sum per-rank numbers (loss sums, counts, seconds) over all ranks."""
    if not ctx.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True when ``flag`` is set on any rank (so all ranks stop at the same update)."""
    if not ctx.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def sync_buffers(model: torch.nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's buffers (batch-norm statistics) everywhere, so every rank holds the same model."""
    if ctx.enabled:
        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)


def state_hash(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def gather_hashes(model: torch.nn.Module, ctx: DistContext) -> list[str]:
    """Every rank's weight hash (rank 0 records them, proving the replicas agree); none in a single
    process, where there is nothing to compare (hashing resnet18 costs 0.06 s)."""
    if not ctx.enabled:
        return []
    mine = state_hash(model)
    out: list = [None] * ctx.world
    dist.all_gather_object(out, mine)
    return out
