"""The per-batch objective that replaces the trainer's forward + loss (``Parts.objective``): the
supervised loss on the labelled batch plus a term on unlabelled images drawn for the same step.

- ``pseudo-label``: the network's own confident predictions on weakly augmented unlabelled images are
  their targets (confidence ≥ threshold), trained on the same view.
- ``fixmatch``: targets from the weak view, loss on a strongly augmented view (Sohn et al., 2020).
- ``dann``: a domain classifier on pre-logit features behind a gradient reversal layer (Ganin et al.).
- ``coral``: the feature covariances of source and target batches aligned (Sun & Saenko, 2016).

Labelled and unlabelled images go through the network in one batch (one DDP forward).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

from foveal.deep.batches import normalize
from foveal.deep.setup import Parts
from foveal.fewer.modules import FewerHead, Twin, coral_loss, dann_lambda
from foveal.fewer.stream import Unlabeled, stream_indices


@dataclass
class FewerParts(Parts):
    """Parts whose training wrapper is a :class:`Twin` (features and domain logits when needed)."""

    features: bool = False

    def rewrap(self, frozen: bool) -> None:
        if self.objective is None:  # AdaBN trains as usual
            return super().rewrap(frozen)
        if self.train_net is not None and frozen == self._wrapped_frozen:
            return
        module = Twin(self.net, self.head.domain, self.features)
        if self.ctx.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            module = DistributedDataParallel(module, device_ids=ids)
        self.train_net = torch.compile(module) if self.compile else module
        self._wrapped_frozen = frozen

    @classmethod
    def around(cls, parts: Parts, domain, features: bool) -> "FewerParts":
        values = {f.name: getattr(parts, f.name) for f in fields(Parts)}
        values["head"] = FewerHead(parts.head, domain).to(parts.device)
        values["train_net"] = None
        if domain is not None:  # trained with the network's first parameter group (same schedule)
            domain.to(parts.device)
            parts.optimizer.param_groups[0]["params"].extend(domain.parameters())
        return cls(**values, features=features)


@dataclass
class Objective:
    """``method`` on ``unlabeled``: μ unlabelled images per labelled one in every batch."""

    method: str
    unlabeled: Unlabeled
    mu: int
    threshold: float = 0.95
    weight: float = 1.0  # of the DANN / CORAL term (the pseudo-label terms use 1, as FixMatch)
    strong: object = None  # the strong augmentation (fixmatch)

    def unlabeled_batch(self, loop, step: int, size: int) -> torch.Tensor:
        ctx = loop.ctx
        idx = stream_indices(len(self.unlabeled), loop.cfg.seed, loop.state.epoch, step, size, ctx.rank, ctx.world)
        return self.unlabeled.images[idx]

    @staticmethod
    def _view(loop, images: torch.Tensor, augment) -> torch.Tensor:
        parts = loop.parts
        x = normalize(augment(images, parts.gen), parts.mean, parts.std).to(parts.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if loop.cfg.channels_last else x

    def __call__(self, loop, x: torch.Tensor, y: torch.Tensor, weight, step: int) -> torch.Tensor:
        parts = loop.parts
        u = self.unlabeled_batch(loop, step, max(2, len(x) * self.mu))
        views = [self._view(loop, u, parts.augment)]
        if self.method == "fixmatch":
            views.append(self._view(loop, u, self.strong))
        reverse = dann_lambda(loop.state.updates / max(parts.schedule.total, 1)) if self.method == "dann" else 0.0
        with parts.inputs().autocast():
            logits, feats, domain = parts.train_net(torch.cat([x, *views]), reverse)
            n = len(x)
            supervised = parts.head.loss(logits[:n].float(), y) if weight is None else \
                parts.head.loss(logits[:n].float(), y, weight)
            extra = self._extra(parts.head, logits.float(), feats, domain, n, len(u))
        return supervised + extra

    def _extra(self, head: FewerHead, logits, feats, domain, n: int, m: int) -> torch.Tensor:
        if self.method in ("pseudo-label", "fixmatch"):
            weak = logits[n:n + m]
            trained = logits[n + m:] if self.method == "fixmatch" else weak
            confidence, target = head.proba(weak.detach()).max(dim=1)
            mask = (confidence >= self.threshold).float()
            head.counts[0] += m  # device-side sums: no copy from the host, so no wait for the GPU
            head.counts[1] += mask.sum().to(head.counts.dtype)
            return (F.cross_entropy(trained, target, reduction="none") * mask).mean()
        if self.method == "coral":
            return self.weight * coral_loss(feats[:n], feats[n:])
        labels = torch.cat([domain.new_zeros(n), domain.new_ones(m)]).float()
        return self.weight * F.binary_cross_entropy_with_logits(domain.float().squeeze(1), labels)
