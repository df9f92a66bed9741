"""The adversarial training loop, with the ordinary trainer's progress, checkpoints, resume and signals.

Why not ``deep.trainer.Loop``: that loop owns one network, one optimizer, one loss over labelled
batches, validation and best-epoch selection. A GAN alternates two optimizers on two networks with
opposing losses and has no validation metric to pick a best epoch by, so bending the supervised loop
to it would add GAN cases to every one of its steps. This loop is compact instead and shares the
pieces that carry the conventions: sample order from ``deep.batches.epoch_order`` (a function of
seed and epoch, so resuming mid-epoch is exact), safetensors checkpoints with JSON metadata and the
RNG / optimizer helpers of ``deep.checkpoint``, ``metrics.csv`` from ``deep.callbacks``, progress
bars from ``foveal.progress``, and the SIGTERM / Ctrl-C handling of ``runs.deep`` (checkpoint at the
next update, then ``Interrupted``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from foveal.synth.data import RealImages
from foveal.synth.models import GanSpec, build

CHECKPOINT = Path("checkpoints") / "last.safetensors"
FORMAT = "foveal-gan-checkpoint"
EMA_DECAY = 0.999  # samples come from an exponential moving average of the generator's weights
MODE_SEEKING = 0.5  # weight of the mode-seeking term (MSGAN uses 1; 0.5 gave cleaner digits here)


@dataclass
class GanOptions:
    epochs: int = 60
    batch_size: int = 32
    seed: int = 0
    lr: float = 2e-4


@dataclass
class GanState:
    """Progress a checkpoint restores: completed epochs, batches into the current one, updates, history."""

    epoch: int = 0
    step: int = 0
    updates: int = 0
    history: list[dict] = field(default_factory=list)
    partial: dict = field(default_factory=lambda: {"d_loss": 0.0, "g_loss": 0.0, "n": 0, "seconds": 0.0})


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, C) → float (n, C, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div(127.5).sub(1.0)


def translate(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Shift each image by up to 1/8 of its side, filling with black (-1): the differentiable
    translation of DiffAugment (Zhao et al. 2020), applied to real and fake images alike so the
    discriminator cannot memorise a small training set."""
    n, c, h, w = images.shape
    s = max(1, h // 8)
    padded = nn.functional.pad(images, (s, s, s, s), value=-1.0)
    dy, dx = torch.randint(0, 2 * s + 1, (2, n, 1), generator=gen)
    rows, cols = dy + torch.arange(h), dx + torch.arange(w)
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


class GanLoop:
    """Generator, discriminator, their optimizers, the noise stream and the progress state."""

    def __init__(self, spec: GanSpec, options: GanOptions) -> None:
        from timm.utils import ModelEmaV3

        from foveal.deep.trainer import StopFlag

        torch.manual_seed(options.seed)
        self.spec, self.options = spec, options
        self.generator, self.discriminator = build(spec)
        self.ema = ModelEmaV3(self.generator, decay=EMA_DECAY, use_warmup=True)
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=options.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=options.lr, betas=betas)
        self.noise = torch.Generator().manual_seed(options.seed)
        self.state = GanState()
        self.stop = StopFlag()
        self.bce = nn.BCEWithLogitsLoss()

    def update(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        """One discriminator step, then one generator step (non-saturating loss plus the mode-seeking
        term of MSGAN, Mao et al. 2019: two noises with the same label must give different images,
        which keeps a conditional generator from ignoring its noise on small data)."""
        n, half = len(real), len(real) // 2
        fake_labels = torch.cat([labels[:half], labels[:half], labels[2 * half:]])
        z = torch.randn(n, self.spec.z_dim, generator=self.noise)
        fake = self.generator(z, fake_labels)
        ones, zeros = torch.ones(n), torch.zeros(n)
        seen_real, seen_fake = translate(real, self.noise), translate(fake, self.noise)
        d_loss = self.bce(self.discriminator(seen_real, labels), ones) + \
            self.bce(self.discriminator(seen_fake.detach(), fake_labels), zeros)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        apart = (fake[:half] - fake[half:2 * half]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
        g_loss = self.bce(self.discriminator(seen_fake, fake_labels), ones) + MODE_SEEKING / (apart + 1e-5)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.ema.update(self.generator, step=self.state.updates + 1)
        return float(d_loss.detach()), float(g_loss.detach())

    def fit(self, real: RealImages, run_dir: Path | None) -> None:
        """Train to ``options.epochs``; on a stop request save a checkpoint and raise ``Interrupted``.

        Batches are class-balanced draws (``deep.batches.sample_weights``): with uniform batches the six
        8s of digits-imbalanced turn up about once in six batches of 32 and the generator never learns
        that label (measured: noise-like 8s with uniform batches, recognisable ones with balanced)."""
        from foveal.deep.batches import batch_slices, epoch_order, sample_weights
        from foveal.progress import track

        x, y = to_tensor(real.images), torch.from_numpy(real.labels)
        weights = sample_weights(real.labels)  # every class drawn equally often: the rare one too
        self.generator.train()
        self.discriminator.train()
        while self.state.epoch < self.options.epochs:
            epoch = self.state.epoch
            batches = batch_slices(epoch_order(len(x), self.options.seed, epoch, weights), self.options.batch_size)
            started = time.perf_counter()
            for idx in track(batches[self.state.step:], f"GAN epoch {epoch + 1}/{self.options.epochs}"):
                d_loss, g_loss = self.update(x[idx], y[idx])
                self._count(d_loss, g_loss, len(idx), started)
                started = time.perf_counter()
                if self.stop.reason:
                    self._interrupt(run_dir)
            self._end_epoch(run_dir)

    def _count(self, d_loss: float, g_loss: float, n: int, started: float) -> None:
        p = self.state.partial
        p["d_loss"] += d_loss * n
        p["g_loss"] += g_loss * n
        p["n"] += n
        p["seconds"] += time.perf_counter() - started
        self.state.step += 1
        self.state.updates += 1

    def _interrupt(self, run_dir: Path | None) -> None:
        from foveal.deep.trainer import Interrupted

        if run_dir is not None:
            self.save(run_dir / CHECKPOINT)
        raise Interrupted(self.stop.reason)

    def _end_epoch(self, run_dir: Path | None) -> None:
        from foveal.deep.callbacks import metrics_csv
        from foveal.files import atomic_write_text
        from foveal.progress import info

        p, s = self.state.partial, self.state
        n = max(p["n"], 1)
        record = {"epoch": s.epoch + 1, "d_loss": round(p["d_loss"] / n, 5), "g_loss": round(p["g_loss"] / n, 5),
                  "seconds": round(p["seconds"], 3)}
        s.history.append(record)
        s.epoch, s.step = s.epoch + 1, 0
        s.partial = GanState().partial
        info(f"GAN epoch {s.epoch}/{self.options.epochs} · d loss {record['d_loss']:.3f} · "
             f"g loss {record['g_loss']:.3f} · {record['seconds']:.1f} s")
        if run_dir is not None:
            self.save(run_dir / CHECKPOINT)
            atomic_write_text(run_dir / "metrics.csv", metrics_csv(s.history))

    def save(self, path: Path) -> Path:
        """Both networks, both optimizers, every RNG and the progress, as one safetensors file."""
        from foveal.deep.checkpoint import optimizer_to_flat, rng_snapshot, save_checkpoint

        tensors: dict[str, torch.Tensor] = {}
        tensors.update({f"G/{k}": v for k, v in self.generator.state_dict().items()})
        tensors.update({f"D/{k}": v for k, v in self.discriminator.state_dict().items()})
        tensors.update({f"E/{k}": v for k, v in self.ema.module.state_dict().items()})
        optimizers = {}
        for name, opt in (("g", self.opt_g), ("d", self.opt_d)):
            flat: dict[str, torch.Tensor] = {}
            optimizers[name] = optimizer_to_flat(opt.state_dict(), flat)
            tensors.update({f"{name}/{k}": v for k, v in flat.items()})
        info = {"format": FORMAT, "version": 1, "spec": self.spec.to_json(), "options": asdict(self.options),
                "state": asdict(self.state), "optimizers": optimizers, "rng": rng_snapshot(self.noise, tensors)}
        return save_checkpoint(path, tensors, info)

    def restore(self, path: Path) -> None:
        """Continue from a checkpoint written by :meth:`save` for the same spec."""
        from foveal.deep.checkpoint import load_checkpoint, optimizer_from_flat, prefixed, rng_restore
        from foveal.errors import BundleError

        tensors, info = load_checkpoint(path)
        if info.get("format") != FORMAT or GanSpec.from_json(info["spec"]) != self.spec:
            raise BundleError(f"{path} is not a checkpoint of this generator", "resume the run folder it came from")
        self.generator.load_state_dict(prefixed(tensors, "G/"))
        self.discriminator.load_state_dict(prefixed(tensors, "D/"))
        self.ema.module.load_state_dict(prefixed(tensors, "E/"))
        self.opt_g.load_state_dict(optimizer_from_flat(info["optimizers"]["g"], prefixed(tensors, "g/")))
        self.opt_d.load_state_dict(optimizer_from_flat(info["optimizers"]["d"], prefixed(tensors, "d/")))
        self.state = GanState(**info["state"])
        rng_restore(info["rng"], tensors, self.noise)
