"""The learning-rate range test (Smith 2017): raise the lr exponentially batch by batch,
record the smoothed loss, suggest the lr where it falls fastest."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import numpy as np

from foveal.config import TrainConfig, augment_overrides
from foveal.data.task import Task
from foveal.errors import ConfigError


def lr_range_test(cfg: TrainConfig, task: Task, images: np.ndarray, targets: np.ndarray,
                  min_lr: float = 1e-6, max_lr: float = 1.0, steps: int = 100) -> dict:
    """Train ``steps`` batches at exponentially growing lr; returns lrs, losses and the suggestion."""
    from foveal.deep.batches import ImageTensor
    from foveal.deep.distributed import DistContext, pick_device
    from foveal.deep.setup import build_parts
    from foveal.deep.trainer import Loop, forward_loss, prepare_batch, epoch_batches, seed_everything

    if not 0 < min_lr < max_lr or steps < 5:
        raise ConfigError(f"--min-lr {min_lr}, --max-lr {max_lr}, --steps {steps} do not make a range",
                          "use 0 < --min-lr < --max-lr and at least 5 steps")
    cfg = replace(cfg, schedule="none", warmup_epochs=0.0, ema=False, epochs=1)
    seed_everything(cfg.seed, False)
    ctx = DistContext(device=pick_device(cfg.device))
    loop = Loop(cfg, task, build_parts(cfg, task, images, targets, ctx, augment=(augment_overrides(cfg), False)), ctx)
    loop.parts.rewrap(False)
    train = ImageTensor.from_numpy(images, targets)
    scales = [g["lr"] / cfg.lr for g in loop.parts.optimizer.param_groups]
    lrs, losses, batches, epoch = [], [], [], 0
    loop.parts.net.train()
    for i in range(steps):
        if not batches:
            batches, epoch = epoch_batches(loop, len(train), epoch), epoch + 1
        lr = min_lr * (max_lr / min_lr) ** (i / (steps - 1))
        for group, scale in zip(loop.parts.optimizer.param_groups, scales):
            group["lr"] = lr * scale
        x, y = prepare_batch(loop, train, batches.pop(0))
        loss = forward_loss(loop, x, y)
        loop.parts.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        loop.parts.optimizer.step()
        if not math.isfinite(loss.item()):
            break
        lrs.append(lr)
        losses.append(loss.item())
        if len(losses) > 10 and smooth(losses)[-1] > 4 * min(smooth(losses)):
            break
    return {"lrs": lrs, "losses": losses, "smoothed": smooth(losses), "suggested": suggest(lrs, smooth(losses))}


def smooth(losses: list[float], beta: float = 0.9) -> list[float]:
    """Bias-corrected exponential moving average."""
    out, avg = [], 0.0
    for i, value in enumerate(losses, 1):
        avg = beta * avg + (1 - beta) * value
        out.append(avg / (1 - beta**i))
    return out


def suggest(lrs: list[float], smoothed: list[float]) -> float:
    """The lr of the steepest descent of the smoothed loss, but at most a tenth of the lr at its minimum."""
    if len(lrs) < 3:
        raise ConfigError("the loss diverged right away", "lower --min-lr")
    stop = int(np.argmin(smoothed)) + 1
    slopes = np.gradient(np.array(smoothed[:stop]), np.log10(lrs[:stop])) if stop >= 2 else np.array([0.0])
    return float(min(lrs[int(np.argmin(slopes))], lrs[stop - 1] / 10))


def plot(result: dict, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(result["lrs"], result["losses"], alpha=0.3, label="loss")
    ax.plot(result["lrs"], result["smoothed"], label="smoothed")
    ax.axvline(result["suggested"], color="red", linestyle="--", label=f"suggested {result['suggested']:.2g}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss", title=title)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()
