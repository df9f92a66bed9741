"""Knowledge distillation for deep students: the teacher rides along the training network and the
loss mixes the hard-label loss with the teacher's softened probabilities.

The trainer's loop is unchanged: during training the network (``TeacherAlongside``) returns the
student's logits and the teacher's scores for the *same* augmented batch side by side, and the
head (``DistillHead``) splits them — ``alpha · T² · KL(teacher_T ‖ student_T) + (1 - alpha) · hard``
(Hinton et al. 2015). Validation, checkpoints and the bundle only ever see the student.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from foveal.deep.setup import Parts


def teacher_scores_fn(teacher, device: torch.device, size: tuple[int, int]):
    """``fn(x01)``: the teacher's per-class scores for float images in [0, 1] (n, C, H, W).

    A torch teacher runs its differentiable score module (logits; leaf log-probabilities for
    hierarchical tasks); any other runtime predicts on the batch rounded to uint8.
    """
    if teacher.runtime == "torch":
        module = teacher.differentiable().module.to(device).eval()
        for p in module.parameters():
            p.requires_grad_(False)
        return _resized(module, tuple(teacher.preprocessing.size), size)
    multilabel = teacher.task.type == "multilabel"

    def scores(x01: torch.Tensor) -> torch.Tensor:
        images = (x01.float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        p = np.clip(teacher.predict_proba(images), 1e-7, 1 - 1e-7)
        s = np.log(p / (1 - p)) if multilabel else np.log(p)
        return torch.as_tensor(s, dtype=torch.float32, device=x01.device)

    return _resized(scores, tuple(teacher.preprocessing.size), size)


def _resized(fn, teacher_size: tuple[int, int], size: tuple[int, int]):
    if teacher_size == tuple(size):
        return fn
    return lambda x01: fn(F.interpolate(x01, size=teacher_size, mode="bilinear", align_corners=False))


class TeacherAlongside(nn.Module):
    """Training-time network: ``cat([student logits, teacher scores], dim=1)`` for one batch."""

    def __init__(self, student: nn.Module, teacher_fn, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.student = student
        self.teacher_fn = teacher_fn
        self.register_buffer("mean", mean.detach().clone().float().view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", std.detach().clone().float().view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.student(x)
        with torch.no_grad():
            teacher = self.teacher_fn(x.float() * self.std.to(x.device) + self.mean.to(x.device))
        return torch.cat([logits, teacher.to(logits.dtype)], dim=1)

    def no_sync(self):  # DDP accumulation passes through
        return self.student.no_sync()


def kd_loss(student_scores: torch.Tensor, teacher_scores: torch.Tensor, temperature: float, multilabel: bool,
            reduction: str = "mean") -> torch.Tensor:
    """T²-scaled distillation loss per sample (or its mean): KL between softened distributions, or for
    multi-label tasks binary cross-entropy against the teacher's softened sigmoids."""
    t = temperature
    if multilabel:
        target = torch.sigmoid(teacher_scores / t)
        per = F.binary_cross_entropy_with_logits(student_scores / t, target, reduction="none").mean(dim=1)
    else:
        log_p_teacher = F.log_softmax(teacher_scores / t, dim=1)
        log_p_student = F.log_softmax(student_scores / t, dim=1)
        per = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=1)
    per = per * t * t
    return per if reduction == "none" else per.mean()


class DistillHead(nn.Module):
    """The student's head, with a training loss that also reads the teacher's scores."""

    def __init__(self, inner: nn.Module, temperature: float, alpha: float, multilabel: bool) -> None:
        super().__init__()
        self.inner = inner
        self.temperature = temperature
        self.alpha = alpha
        self.multilabel = multilabel
        self.n_outputs = inner.n_outputs
        self.kind = getattr(inner, "kind", "")

    def loss(self, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        student, teacher = logits[:, :self.n_outputs], logits[:, self.n_outputs:]
        hard = self.inner.loss(student, target) if weight is None else self.inner.loss(student, target, weight)
        soft = kd_loss(self.inner.scores(student.float()), teacher.float(), self.temperature, self.multilabel,
                       "none")
        soft = soft.mean() if weight is None else (soft * weight).sum() / weight.sum().clamp_min(1e-12)
        return self.alpha * soft + (1 - self.alpha) * hard

    def eval_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.inner.eval_loss(logits, target)

    def proba(self, logits: torch.Tensor) -> torch.Tensor:
        return self.inner.proba(logits)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return self.inner.scores(logits)


@dataclass
class DistillParts(Parts):
    """Parts whose training wrapper runs the teacher alongside the student (validation uses the student)."""

    teacher_fn: object = None

    def rewrap(self, frozen: bool) -> None:
        before = self.train_net
        super().rewrap(frozen)
        if self.train_net is not before:
            self.train_net = TeacherAlongside(self.train_net, self.teacher_fn, self.mean, self.std)

    @classmethod
    def around(cls, parts: Parts, teacher_fn, temperature: float, alpha: float, multilabel: bool) -> "DistillParts":
        values = {f.name: getattr(parts, f.name) for f in fields(parts)}
        values["head"] = DistillHead(parts.head, temperature, alpha, multilabel)
        values["train_net"] = None  # rebuilt (with the teacher alongside) at the first epoch
        return cls(**values, teacher_fn=teacher_fn)


def agreement(task, a: np.ndarray, b: np.ndarray) -> float:
    """Share of samples on which two probability matrices lead to the same decision (fidelity)."""
    from foveal.compress.parity import decisions

    if len(a) == 0:
        return float("nan")
    return float(np.mean([x == y for x, y in zip(decisions(task, a), decisions(task, b))]))
