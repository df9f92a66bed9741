"""Heads, losses and augmentation as units (no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from foveal.data.task import HierarchicalTask, MulticlassTask, MultilabelTask
from foveal.deep.augment import make_augment
from foveal.deep.heads import HierarchicalHead, LossOptions, make_head
from foveal.evaluation.thresholds import tune_label_thresholds as tune_thresholds
from foveal.errors import ConfigError

LEAVES = ["a/x", "a/y", "b/w/q", "b/w/r", "b/z", "c"]


@pytest.mark.parametrize("conditional", [False, True])
def test_hierarchical_head_gives_a_distribution_over_leaves(conditional):
    task = HierarchicalTask(LEAVES)
    head = make_head(task, hierarchical_softmax=conditional)
    logits = torch.randn(7, head.n_outputs, requires_grad=True)
    proba = head.proba(logits)
    assert proba.shape == (7, len(LEAVES))
    assert torch.allclose(proba.sum(dim=1), torch.ones(7))
    target = torch.tensor([0, 1, 2, 3, 4, 5, 2])
    loss = head.loss(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and logits.grad is not None
    if conditional:  # the path NLL is exactly -log P(leaf)
        assert torch.allclose(loss, head.eval_loss(logits, target))
    for prediction in task.decode(proba.detach().numpy()):
        assert prediction.label in LEAVES
        levels = list(prediction.scores.values())
        assert levels == sorted(levels, reverse=True)


def test_hierarchical_probability_is_product_along_path():
    head = HierarchicalHead(["a/x", "a/y", "b/z"])
    nodes = head.tree.nodes  # a, b, a/x, a/y, b/z
    logits = torch.tensor([[1.0, 0.0, 2.0, 0.0, 5.0]])
    p_a = torch.softmax(torch.tensor([1.0, 0.0]), 0)[0]
    p_x_given_a = torch.softmax(torch.tensor([2.0, 0.0]), 0)[0]
    assert nodes == ["a", "b", "a/x", "a/y", "b/z"]
    assert torch.allclose(head.proba(logits)[0, 0], p_a * p_x_given_a)
    assert torch.allclose(head.proba(logits)[0, 2], 1 - p_a)  # b has one child


def test_thresholds_are_tuned_per_label():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(200, 3))
    proba = np.clip(y * 0.3 + rng.random((200, 3)) * 0.5, 0, 1)  # positives score 0.3-0.8
    proba[:, 2] = rng.random(200)
    thresholds = tune_thresholds(proba, y)
    assert 0.25 < thresholds[0] < 0.55 and 0.25 < thresholds[1] < 0.55
    assert tune_thresholds(proba, np.zeros_like(y)) == [0.5, 0.5, 0.5]


def test_focal_heads_match_their_definitions():
    """Softmax focal loss by hand; the multi-label head is torchvision's sigmoid focal loss (α off)."""
    import torch.nn.functional as F
    from torchvision.ops import sigmoid_focal_loss

    from foveal.deep.losses import auto_class_weights

    y = torch.as_tensor(np.array([0] * 90 + [1] * 10))
    weights = auto_class_weights(y.numpy(), 2, multilabel=False)
    assert weights[1] / weights[0] == pytest.approx(9.0)  # inverse frequency
    logits = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    head = make_head(MulticlassTask(["a", "b"]), LossOptions(loss="focal", weight=weights))
    p_true = logits.softmax(1)[torch.arange(100), y]
    w = weights[y]
    expected = (w * (1 - p_true) ** 2 * -p_true.log()).sum() / w.sum()
    assert head.loss(logits, y) == pytest.approx(float(expected), rel=1e-5)
    multi = make_head(MultilabelTask(["a", "b"]), LossOptions(loss="focal"))
    targets = (torch.rand(100, 2, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    expected = sigmoid_focal_loss(logits, targets, alpha=-1, gamma=2, reduction="mean")
    assert multi.loss(logits, targets) == pytest.approx(float(expected), rel=1e-6)
    assert float(multi.loss(logits, targets)) < float(F.binary_cross_entropy_with_logits(logits, targets))


@pytest.mark.parametrize("preset", ["none", "light", "standard", "strong"])
@pytest.mark.parametrize("channels", [1, 3])
def test_augment_presets_are_seeded_and_keep_shape(preset, channels):
    images = torch.randint(0, 256, (6, channels, 16, 16), dtype=torch.uint8)
    augment = make_augment(preset)
    torch.manual_seed(0)
    a = augment(images, torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    b = augment(images, torch.Generator().manual_seed(1))
    assert a.shape == images.shape and a.dtype == torch.float32
    assert torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    if preset != "none":
        assert not torch.allclose(a, images.float() / 255)
    with pytest.raises(ConfigError):
        make_augment("extreme")
