"""Per-task output heads: how many logits the network emits, the training loss, and probabilities.

The network's classifier layer emits ``head.n_outputs`` logits; the head interprets them.
Probabilities always come out as ``(n, n_classes)`` in the task's class order, so
``Task.decode`` and the metrics treat deep and classical models alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from foveal.data.task import PATH_SEP, HierarchicalTask, MultilabelTask, Task


@dataclass
class LossOptions:
    """Loss settings from the config (class weights are computed from the training targets)."""

    loss: str = "ce"
    smoothing: float = 0.0
    soft_targets: bool = False
    weight: torch.Tensor | None = None


class SoftmaxHead(nn.Module):
    """Binary and multiclass: softmax + cross-entropy (or focal loss)."""

    kind = "softmax"

    def __init__(self, n_classes: int, options: LossOptions | None = None) -> None:
        super().__init__()
        from foveal.deep.losses import single_label_criterion

        options = options or LossOptions()
        self.n_outputs = n_classes
        self.criterion = single_label_criterion(options.loss, options.weight, options.smoothing, options.soft_targets)

    def loss(self, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """The batch loss; ``weight`` (n,) makes it a weighted mean of per-sample losses (``--reweight``)."""
        if weight is not None:
            from foveal.deep.losses import per_sample_loss, weighted_mean

            return weighted_mean(per_sample_loss(self.criterion, logits, target), weight)
        return self.criterion(logits, target)

    def eval_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)

    def proba(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().softmax(dim=1)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-class scores for attribution: the logits."""
        return logits


class SigmoidHead(nn.Module):
    """Multi-label: one sigmoid per label + binary cross-entropy (or focal loss)."""

    kind = "sigmoid"

    def __init__(self, n_classes: int, options: LossOptions | None = None) -> None:
        super().__init__()
        from foveal.deep.losses import multilabel_criterion

        options = options or LossOptions()
        self.n_outputs = n_classes
        self.criterion = multilabel_criterion(options.loss, options.weight)

    def loss(self, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        if weight is not None:
            from foveal.deep.losses import per_sample_loss, weighted_mean

            return weighted_mean(per_sample_loss(self.criterion, logits, target.to(logits.dtype)), weight)
        return self.criterion(logits, target.to(logits.dtype))

    def eval_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))

    def proba(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().sigmoid()

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-label scores for attribution: the logits."""
        return logits


class Tree(nn.Module):
    """Index tables for a label tree: nodes (every path prefix), sibling groups, leaf paths."""

    def __init__(self, leaves: list[str]) -> None:
        super().__init__()
        parts = [leaf.split(PATH_SEP) for leaf in leaves]
        prefixes = {PATH_SEP.join(p[:i]) for p in parts for i in range(1, len(p) + 1)}
        self.nodes = sorted(prefixes, key=lambda n: (n.count(PATH_SEP), n))
        index = {n: i for i, n in enumerate(self.nodes)}
        self.level = [n.count(PATH_SEP) for n in self.nodes]
        self.depth = max(len(p) for p in parts)
        parents = [n.rsplit(PATH_SEP, 1)[0] if PATH_SEP in n else "" for n in self.nodes]
        self.group_names = sorted(set(parents), key=lambda n: (n.count(PATH_SEP) if n else -1, n))
        group_of = {g: i for i, g in enumerate(self.group_names)}
        members: list[list[int]] = [[] for _ in self.group_names]
        for i, parent in enumerate(parents):
            members[group_of[parent]].append(i)
        pad = len(self.nodes)  # index of a padding column
        width = max(len(m) for m in members)
        self.register_buffer("groups", torch.tensor([m + [pad] * (width - len(m)) for m in members]), persistent=False)
        self.register_buffer("node_group", torch.tensor([group_of[p] for p in parents]), persistent=False)
        self.register_buffer("node_slot", torch.tensor([members[group_of[p]].index(i) for i, p in enumerate(parents)]), persistent=False)
        paths = [[index[PATH_SEP.join(p[:i])] for i in range(1, len(p) + 1)] for p in parts]
        self.register_buffer("paths", torch.tensor([p + [pad] * (self.depth - len(p)) for p in paths]), persistent=False)

    def conditional_log_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """log P(node | parent) for every node: a softmax within each sibling group."""
        padded = torch.cat([logits, torch.full_like(logits[:, :1], float("-inf"))], dim=1)
        grouped = padded[:, self.groups].log_softmax(dim=2)  # (n, groups, width)
        return grouped[:, self.node_group, self.node_slot]

    def leaf_log_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """log P(leaf) = Σ log P(node | parent) along the path: always a proper distribution."""
        cond = self.conditional_log_proba(logits)
        cond = torch.cat([cond, torch.zeros_like(cond[:, :1])], dim=1)
        return cond[:, self.paths].sum(dim=2)


class HierarchicalHead(nn.Module):
    """One logit per tree node; leaf probability = product of per-level masked softmaxes.

    Training loss: ``per-level`` (default) sums a flat cross-entropy over the nodes of each
    level; ``hierarchical-softmax`` is the negative log-likelihood of the leaf under the
    conditional softmaxes, computed only for the sibling groups along the true path —
    cost O(depth × branching) per sample, the scalable choice for large label trees.
    Either way predictions are consistent paths (decoded top-down by ``HierarchicalTask``).
    """

    kind = "hierarchical"

    def __init__(self, leaves: list[str], hierarchical_softmax: bool = False, smoothing: float = 0.0) -> None:
        super().__init__()
        self.tree = Tree(leaves)
        self.n_outputs = len(self.tree.nodes)
        self.hierarchical_softmax = hierarchical_softmax
        self.smoothing = smoothing

    def loss(self, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        if weight is not None:
            from foveal.deep.losses import weighted_mean

            losses = self._path_nll(logits, target, "none") if self.hierarchical_softmax else \
                self._level_ce(logits, target, "none")
            return weighted_mean(losses, weight)
        if self.hierarchical_softmax:
            return self._path_nll(logits, target)
        return self._level_ce(logits, target)

    def eval_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.nll_loss(self.tree.leaf_log_proba(logits.float()), target)

    def _level_ce(self, logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        tree, total = self.tree, logits.new_zeros(())
        path = tree.paths[target]  # (n, depth)
        for level in range(tree.depth):
            nodes = [i for i, lv in enumerate(tree.level) if lv == level]
            first = nodes[0]
            local = path[:, level] - first
            local = torch.where(path[:, level] == len(tree.nodes), torch.full_like(local, -100), local)
            total = total + F.cross_entropy(logits[:, first:first + len(nodes)], local, ignore_index=-100,
                                            label_smoothing=self.smoothing, reduction=reduction)
        return total

    def _path_nll(self, logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        tree = self.tree
        path = tree.paths[target]  # (n, depth), padded with len(nodes)
        valid = path < len(tree.nodes)
        safe = torch.where(valid, path, torch.zeros_like(path))
        groups = tree.groups[tree.node_group[safe]]  # (n, depth, width)
        padded = torch.cat([logits, torch.full_like(logits[:, :1], float("-inf"))], dim=1)
        rows = torch.arange(len(logits), device=logits.device)[:, None, None]
        logp = padded[rows, groups].log_softmax(dim=2)
        picked = logp.gather(2, tree.node_slot[safe][..., None]).squeeze(2)
        losses = -(picked * valid).sum(dim=1)
        return losses if reduction == "none" else losses.mean()

    def proba(self, logits: torch.Tensor) -> torch.Tensor:
        return self.tree.leaf_log_proba(logits.float()).exp()

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-leaf scores for attribution: log P(leaf)."""
        return self.tree.leaf_log_proba(logits)


def make_head(task: Task, options: LossOptions | None = None, hierarchical_softmax: bool = False) -> nn.Module:
    """The head that fits ``task``."""
    options = options or LossOptions()
    if isinstance(task, MultilabelTask):
        return SigmoidHead(task.n_classes, options)
    if isinstance(task, HierarchicalTask):
        return HierarchicalHead(task.classes, hierarchical_softmax, options.smoothing)
    return SoftmaxHead(task.n_classes, options)


def head_spec(task: Task, hierarchical_softmax: bool) -> dict:
    """What the bundle records about the head (enough to rebuild its probability function)."""
    kind = {"multilabel": "sigmoid", "hierarchical": "hierarchical"}.get(task.type, "softmax")
    spec = {"kind": kind, "n_outputs": make_head(task, hierarchical_softmax=hierarchical_softmax).n_outputs}
    if kind == "hierarchical":
        spec["loss"] = "hierarchical-softmax" if hierarchical_softmax else "per-level"
    return spec
