"""What the deep trainer's parts do, proved on tiny synthetic data (12×12 gray images whose brightness
encodes the class, cnn-small, one thread): early stopping, gradient accumulation, losses and class
weights, Mixup / CutMix, the balanced sampler, learning-rate schedules, optimizer groups, L1 and AMP.

Every assertion compares against a value computed independently (by hand, or by a second run that
must agree), so each test fails when the behaviour it names breaks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from foveal.config import resolve
from foveal.data.task import MulticlassTask, MultilabelTask
from foveal.deep import trainer
from foveal.deep.batches import ImageTensor, epoch_order, sample_weights
from foveal.deep.distributed import DistContext
from foveal.deep.losses import FocalLoss, auto_class_weights
from foveal.deep.models import CnnSmall
from foveal.deep.optim import Schedule, make_optimizer, warmup_updates
from foveal.deep.setup import build_parts
from foveal.deep.trainer import Callback, Loop
from foveal.deep.transfer import set_backbone_frozen
from foveal.errors import ConfigError

TASK = MulticlassTask(["dark", "mid", "bright"])
LABELS = np.arange(48) % 3  # 16 per class; any 16 consecutive samples mix the classes
# Deterministic, linear-in-the-gradient settings: no augmentation, no dropout, no warm-up.
BASE = {"model": "cnn-small", "augment": "none", "dropout": 0.0, "warmup_epochs": 0.0, "workers": 1,
        "epochs": 1, "batch_size": 16}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def brightness_images(levels: np.ndarray, n_levels: int, seed: int = 0, side: int = 12) -> np.ndarray:
    """uint8 (n, side, side, 1): level k of n_levels is a grey of 30 + 190·k/(n_levels-1), plus noise."""
    rng = np.random.default_rng(seed)
    grey = 30.0 + 190.0 * np.asarray(levels, dtype=float) / max(n_levels - 1, 1)
    pixels = grey[:, None, None, None] + rng.normal(0.0, 12.0, (len(levels), side, side, 1))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def make_loop(targets, task=TASK, callbacks=(), scorer=None, seed: int = 0, **options) -> tuple[Loop, ImageTensor]:
    """A single-process CPU loop built the way a run builds it, and its training images."""
    targets = np.asarray(targets)
    levels = targets.sum(axis=1) if targets.ndim == 2 else targets
    n_levels = targets.shape[1] + 1 if targets.ndim == 2 else task.n_classes
    images = brightness_images(levels, n_levels, seed)
    cfg = resolve(None, {**BASE, **options})
    torch.manual_seed(seed)
    ctx = DistContext()
    parts = build_parts(cfg, task, images, targets, ctx)
    parts.rewrap(False)
    loop = Loop(cfg, task, parts, ctx, callbacks=list(callbacks), scorer=scorer)
    return loop, ImageTensor.from_numpy(images, targets)


def snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def manual_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy written out: log Σ exp(z) − z_y."""
    return torch.logsumexp(logits, dim=1) - logits[torch.arange(len(y)), y]


# --- 1. early stopping -------------------------------------------------------------------------


class Snapshots(Callback):
    """The evaluated weights at the end of every epoch."""

    def __init__(self) -> None:
        self.weights: list[dict] = []
        self.improved: list[bool] = []

    def on_epoch_end(self, loop: Loop, record: dict, improved: bool) -> None:
        self.weights.append(snapshot(loop.parts.eval_net))
        self.improved.append(improved)


SCRIPT = [0.5, 0.6, 0.55, 0.4, 0.9, 0.8]  # improves at epochs 1, 2 and 5


def scripted_scorer(scores: list[float]):
    calls = iter(scores)

    def scorer(proba: np.ndarray, targets: np.ndarray) -> dict:
        assert proba.shape == (len(targets), TASK.n_classes)
        return {"accuracy": next(calls)}

    return scorer


@pytest.mark.parametrize("patience, epochs_run, stopped, best", [
    (2, 4, True, 2),  # epochs 3 and 4 are not better: stop after 4
    (3, 6, False, 5),  # two bad epochs, then epoch 5 improves and resets the count
    (0, 6, False, 5),  # off: every epoch runs
])
def test_early_stopping_stops_at_the_patience_and_keeps_the_best_weights(patience, epochs_run, stopped, best):
    snaps = Snapshots()
    loop, train = make_loop(LABELS, epochs=len(SCRIPT), early_stopping=patience, optimizer="sgd", lr=0.05,
                            weight_decay=0.0, schedule="none", callbacks=[snaps], scorer=scripted_scorer(SCRIPT))
    val = ImageTensor.from_numpy(brightness_images(LABELS[:12], 3, seed=1), LABELS[:12])

    trainer.fit_loop(loop, train, val)

    state = loop.state
    assert state.epoch == len(state.history) == len(snaps.weights) == epochs_run
    assert state.stopped_early is stopped
    assert state.best_epoch == best
    assert state.metric == "accuracy" and state.best_score == SCRIPT[best - 1]
    assert [r["accuracy"] for r in state.history] == SCRIPT[:epochs_run]
    assert snaps.improved == [s > max(SCRIPT[:i], default=-1) for i, s in enumerate(SCRIPT[:epochs_run])]
    if stopped:
        assert state.bad_epochs == patience
    kept = snapshot(loop.parts.eval_net)
    assert same_state(kept, snaps.weights[best - 1])
    assert not same_state(kept, snaps.weights[-1])  # training moved on: keeping the best one was a choice


def test_target_accuracy_stops_at_the_first_epoch_that_reaches_it():
    loop, train = make_loop(LABELS, epochs=len(SCRIPT), target_accuracy=SCRIPT[1], optimizer="sgd", lr=0.05,
                            weight_decay=0.0, schedule="none", scorer=scripted_scorer(SCRIPT))
    val = ImageTensor.from_numpy(brightness_images(LABELS[:12], 3, seed=1), LABELS[:12])

    trainer.fit_loop(loop, train, val)

    assert loop.state.reached_target and not loop.state.stopped_early
    assert loop.state.epoch == loop.state.best_epoch == 2 and loop.state.best_score == SCRIPT[1]
    assert loop.best_val_proba is not None and loop.best_val_proba.shape == (12, 3)


# --- 2. gradient accumulation ------------------------------------------------------------------


def _train_mode_bn_frozen(model: nn.Module, frozen: bool) -> None:
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def _first_update(monkeypatch, init: dict, batch_size: int, accumulate: int):
    # cnn-small's BatchNorm normalises by the statistics of the batch it sees, so 2 × 32 and 1 × 64
    # images give different gradients even when accumulation is right. The trainer's own path is
    # kept (train_epoch → prepare_batch → forward_loss → scaled backward → _optimizer_step); only
    # its train_mode is swapped for one that leaves the BN layers in eval mode (fixed running
    # statistics), so each sample's loss no longer depends on its batch-mates and the mean loss over
    # 64 samples is exactly the average of the two 32-sample means. SGD's first step is linear in
    # the gradient (timm's sgd: Nesterov momentum, 1.9·lr·g on the first step; weight decay 0),
    # so equal gradients ⇔ equal weights after the update.
    monkeypatch.setattr(trainer, "train_mode", _train_mode_bn_frozen)
    loop, train = make_loop(np.arange(64) % 3, batch_size=batch_size, accumulate=accumulate, optimizer="sgd",
                            lr=0.5, weight_decay=0.0, schedule="none")
    loop.parts.net.load_state_dict(init)
    record = trainer.train_epoch(loop, train)
    return loop, record, snapshot(loop.parts.net)


def test_accumulating_two_batches_of_32_equals_one_batch_of_64(monkeypatch):
    init = snapshot(CnnSmall(in_chans=1, num_classes=3, drop_rate=0.0))

    big, big_record, after_big = _first_update(monkeypatch, init, batch_size=64, accumulate=1)
    acc, acc_record, after_acc = _first_update(monkeypatch, init, batch_size=32, accumulate=2)
    two, _, after_two = _first_update(monkeypatch, init, batch_size=32, accumulate=1)

    assert big.state.updates == acc.state.updates == 1 and two.state.updates == 2
    moved = max((after_big[k] - init[k]).abs().max().item() for k in init if init[k].is_floating_point())
    assert moved > 1e-2  # the update is far larger than the tolerance below
    for k in init:
        torch.testing.assert_close(after_acc[k], after_big[k], atol=1e-6, rtol=1e-5, msg=lambda m, k=k: f"{k}: {m}")
    assert acc_record["train_loss"] == pytest.approx(big_record["train_loss"], rel=1e-6)
    # the control: two separate updates of 32 do not give the same weights
    assert any(not torch.allclose(after_two[k], after_big[k], atol=1e-4) for k in init if init[k].is_floating_point())


def test_a_last_partial_accumulation_group_averages_over_its_own_batches(monkeypatch):
    # 3 batches of 32 with accumulate=2: updates from batches (0, 1) and from batch 2 alone. The second
    # update's gradient must be that of batch 2's mean loss, as timm's train.py does it. BN in eval mode
    # as above, so the gradient can be recomputed for batch 2 alone.
    monkeypatch.setattr(trainer, "train_mode", _train_mode_bn_frozen)
    loop, train = make_loop(np.arange(96) % 3, batch_size=32, accumulate=2, optimizer="sgd", lr=0.5,
                            weight_decay=0.0, schedule="none")
    net, steps = loop.parts.net, []
    step = loop.parts.optimizer.step

    def recording_step(*args, **kwargs):
        steps.append((snapshot(net), {n: p.grad.clone() for n, p in net.named_parameters()}))
        return step(*args, **kwargs)

    monkeypatch.setattr(loop.parts.optimizer, "step", recording_step)
    last_batch = trainer.epoch_batches(loop, len(train), 0)[2]
    trainer.train_epoch(loop, train)

    assert len(steps) == 2
    weights, grads = steps[1]
    net.load_state_dict(weights)
    net.zero_grad()
    x, y = trainer.prepare_batch(loop, train, last_batch)
    loop.parts.head.loss(net(x), y).backward()
    for n, p in net.named_parameters():
        torch.testing.assert_close(grads[n], p.grad, atol=1e-6, rtol=1e-4, msg=lambda m, n=n: f"{n}: {m}")


# --- 3. focal loss -----------------------------------------------------------------------------


def test_focal_loss_with_gamma_0_is_cross_entropy():
    torch.manual_seed(0)
    logits, y = torch.randn(7, 3), torch.tensor([0, 1, 2, 1, 0, 2, 2])
    torch.testing.assert_close(FocalLoss(gamma=0.0)(logits, y), nn.CrossEntropyLoss()(logits, y))
    torch.testing.assert_close(FocalLoss(gamma=0.0, smoothing=0.1)(logits, y),
                               nn.CrossEntropyLoss(label_smoothing=0.1)(logits, y))


def test_focal_loss_with_gamma_0_and_class_weights_is_weighted_cross_entropy():
    torch.manual_seed(0)
    logits, y = torch.randn(7, 3), torch.tensor([0, 1, 2, 1, 0, 2, 2])
    weight = torch.tensor([0.5, 1.0, 3.0])
    torch.testing.assert_close(FocalLoss(gamma=0.0, weight=weight)(logits, y),
                               nn.CrossEntropyLoss(weight=weight)(logits, y))


def test_focal_loss_with_gamma_2_down_weights_easy_examples():
    logits = torch.tensor([[4.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # easy, medium, hard; all class 0
    y = torch.zeros(3, dtype=torch.long)
    p = [math.exp(4) / (math.exp(4) + 2), math.e / (math.e + 2), 1 / (2 + math.exp(2))]
    terms = [(1 - pi) ** 2 * -math.log(pi) for pi in p]  # 4.49e-5, 0.0991, 1.788
    assert FocalLoss(gamma=2.0)(logits, y).item() == pytest.approx(sum(terms) / 3, rel=1e-5)
    # the easy example keeps 0.1 % of its cross-entropy, the hard one 80 %
    per_sample = [FocalLoss(gamma=2.0)(logits[i:i + 1], y[i:i + 1]).item() / -math.log(p[i]) for i in range(3)]
    assert per_sample == pytest.approx([(1 - pi) ** 2 for pi in p], rel=1e-4)
    assert per_sample[0] < 0.002 and per_sample[2] > 0.75


# --- 4. class weights --------------------------------------------------------------------------


def test_auto_class_weights_are_inverse_frequency_and_weight_the_loss_exactly():
    targets = np.array([0] * 30 + [1] * 15 + [2] * 5)
    # n / count = 5/3, 10/3, 10 → divided by their mean 5
    expected = torch.tensor([1 / 3, 2 / 3, 2.0])
    torch.testing.assert_close(auto_class_weights(targets, 3, False), expected)

    weighted, _ = make_loop(targets, class_weights="auto")
    plain, _ = make_loop(targets, class_weights="none")
    torch.testing.assert_close(weighted.parts.head.criterion.weight, expected)

    torch.manual_seed(1)
    logits, y = torch.randn(9, 3), torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 0])
    ce, w = manual_ce(logits, y), expected[y]
    torch.testing.assert_close(weighted.parts.head.loss(logits, y), (w * ce).sum() / w.sum())
    torch.testing.assert_close(plain.parts.head.loss(logits, y), ce.mean())
    assert not torch.allclose((w * ce).sum() / w.sum(), ce.mean(), atol=1e-3)  # the example tells them apart


def test_auto_class_weights_for_multilabel_are_negatives_over_positives():
    task = MultilabelTask(["a", "b"])
    targets = np.array([[1, 0], [1, 1], [1, 0], [0, 0], [1, 0]])  # a: 4 of 5, b: 1 of 5
    loop, _ = make_loop(targets, task=task, class_weights="auto")
    pos_weight = torch.tensor([1 / 4, 4 / 1])
    torch.testing.assert_close(auto_class_weights(targets, 2, True), pos_weight)

    torch.manual_seed(2)
    logits, y = torch.randn(5, 2), torch.as_tensor(targets)
    yf = y.float()
    manual = -(pos_weight * yf * torch.nn.functional.logsigmoid(logits)
               + (1 - yf) * torch.nn.functional.logsigmoid(-logits)).mean()
    torch.testing.assert_close(loop.parts.head.loss(logits, y), manual)


# --- 5. Mixup / CutMix -------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["mixup", "cutmix"])
def test_mixup_and_cutmix_mix_images_and_targets(option):
    plain, train = make_loop(LABELS)
    mixed, _ = make_loop(LABELS, **{option: 1.0})
    idx = torch.arange(16)
    x_plain, y_plain = trainer.prepare_batch(plain, train, idx)
    np.random.seed(3)  # timm draws λ from numpy
    x_mixed, y_mixed = trainer.prepare_batch(mixed, train, idx)

    assert y_plain.dtype == torch.int64 and torch.equal(y_plain, train.targets[idx])
    assert y_mixed.shape == (16, 3) and y_mixed.is_floating_point()
    torch.testing.assert_close(y_mixed.sum(dim=1), torch.ones(16))
    soft = ((y_mixed > 0) & (y_mixed < 1)).any(dim=1)
    assert soft.any()
    assert not torch.allclose(x_mixed, x_plain)

    # both mix each sample with its mirror in the batch, by the λ the targets carry
    y, partner = y_plain, y_plain.flip(0)
    row = int(torch.nonzero(y != partner)[0])
    lam = y_mixed[row, y[row]].item()
    assert 0 < lam < 1
    one_hot = nn.functional.one_hot
    torch.testing.assert_close(y_mixed, lam * one_hot(y, 3) + (1 - lam) * one_hot(partner, 3))
    if option == "mixup":
        torch.testing.assert_close(x_mixed, lam * x_plain + (1 - lam) * x_plain.flip(0))
    else:  # CutMix pastes a box of the partner: every pixel comes from one of the two, 1 - λ of them from the partner
        from_self = (x_mixed == x_plain).all(dim=(0, 1))
        from_partner = (x_mixed == x_plain.flip(0)).all(dim=(0, 1))
        assert (from_self | from_partner).all()
        pasted = (~from_self).float().mean().item()
        assert pasted == pytest.approx(1 - lam, abs=1e-6)

    loss = trainer.forward_loss(mixed, x_mixed, y_mixed)  # the soft-target criterion takes them
    assert loss.ndim == 0 and torch.isfinite(loss)


# --- 6, 7. balanced sampling ------------------------------------------------------------------


def test_sample_weights_single_label_are_one_over_the_class_count():
    targets = np.array([0, 0, 0, 1, 2, 2])
    torch.testing.assert_close(sample_weights(targets), torch.tensor([1 / 3, 1 / 3, 1 / 3, 1.0, 0.5, 0.5],
                                                                     dtype=torch.float64))


def test_sample_weights_multilabel_count_a_sample_as_its_rarest_label():
    targets = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1], [0, 1, 0]])
    # label counts: a 4, b 2, c 1 → a-only 1/4, a+b 1/2, a+c 1, b-only 1/2; no label: 1/n
    expected = torch.tensor([1 / 4, 1 / 2, 1 / 4, 1 / 6, 1.0, 1 / 2], dtype=torch.float64)
    torch.testing.assert_close(sample_weights(targets), expected)


def test_balanced_sampler_draws_both_classes_equally_from_a_90_10_split():
    targets = np.array([0] * 90 + [1] * 10)
    weights = sample_weights(targets)
    draws = torch.cat([epoch_order(100, seed=0, epoch=e, weights=weights) for e in range(20)])
    assert len(draws) == 2000
    minority = float((torch.as_tensor(targets)[draws] == 1).float().mean())
    assert minority == pytest.approx(0.5, abs=0.04)
    shuffled = torch.cat([epoch_order(100, seed=0, epoch=e) for e in range(20)])
    assert float((torch.as_tensor(targets)[shuffled] == 1).float().mean()) == pytest.approx(0.1)

    # and the loop samples this way when --sampler balanced is set
    loop, _ = make_loop(targets, task=MulticlassTask(["common", "rare"]), sampler="balanced", batch_size=25)
    drawn = torch.cat([torch.cat(trainer.epoch_batches(loop, 100, e)) for e in range(20)])
    assert float((torch.as_tensor(targets)[drawn] == 1).float().mean()) == pytest.approx(0.5, abs=0.04)


def test_balanced_sampler_balances_multilabel_rarest_labels():
    targets = np.array([[1, 0]] * 90 + [[0, 1]] * 10)
    draws = torch.cat([epoch_order(100, seed=1, epoch=e, weights=sample_weights(targets)) for e in range(20)])
    assert float(torch.as_tensor(targets)[draws, 1].float().mean()) == pytest.approx(0.5, abs=0.04)


# --- 8. schedules ------------------------------------------------------------------------------

PEAK = 0.1


def lrs(kind: str, epochs: int, per_epoch: int, warmup_epochs: float) -> tuple[Schedule, list[float]]:
    """The learning rate for every update 0 … total − 1 (and ``total``, one past the end)."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=PEAK)
    schedule = Schedule(kind, optimizer, epochs, per_epoch, warmup_epochs)
    out = []
    for update in range(schedule.total + 1):
        schedule.step(update)
        out.append(schedule.lr())
    return schedule, out


def test_warmup_is_capped_at_a_fifth_of_the_run():
    assert warmup_updates(1, 5, 15) == 3  # 3 epochs × 5 updates: 5 asked, 3 allowed
    assert warmup_updates(1, 10, 100) == 10
    assert warmup_updates(0, 10, 100) == 0
    schedule, _ = lrs("cosine", 3, 5, 1)
    assert (schedule.total, schedule.warmup) == (15, 3)


def test_cosine_warms_up_linearly_then_decays_monotonically_to_zero():
    schedule, lr = lrs("cosine", 10, 10, 1)
    w, total = schedule.warmup, schedule.total
    assert (w, total) == (10, 100)
    start = lr[0]
    assert start < PEAK / 1000
    assert lr[:w] == pytest.approx([start + k * (PEAK - start) / w for k in range(w)], rel=1e-6)
    decay = lr[w:total]
    assert all(a > b for a, b in zip(decay, decay[1:]))
    assert max(lr) <= PEAK * (1 + 1e-9)
    assert lr[total - 1] < PEAK / 1000 and lr[total] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("epochs, per_epoch", [(10, 10), (3, 5)])
def test_cosine_is_at_the_peak_right_after_warmup(epochs, per_epoch):
    schedule, lr = lrs("cosine", epochs, per_epoch, 1)
    assert lr[schedule.warmup] == pytest.approx(PEAK)


def test_step_schedule_decays_tenfold_at_each_third():
    schedule, lr = lrs("step", 3, 10, 0)
    assert schedule.total == 30
    assert lr[:30] == pytest.approx([PEAK] * 10 + [PEAK / 10] * 10 + [PEAK / 100] * 10)


def test_none_schedule_is_constant_and_warms_up_to_the_peak():
    _, lr = lrs("none", 3, 5, 0)
    assert lr == [PEAK] * 16
    schedule, lr = lrs("none", 3, 5, 1)
    assert schedule.warmup == 3 and lr[0] < PEAK / 1000 and lr[3:] == [PEAK] * 13
    assert lr[0] < lr[1] < lr[2] < PEAK


def test_onecycle_peaks_after_warmup_and_survives_very_short_runs():
    schedule, lr = lrs("onecycle", 5, 4, 1)
    top = lr.index(max(lr))
    # torch's OneCycleLR ends its rising phase on update warmup − 1 (update 3 of 0 … 19 here)
    assert max(lr) == pytest.approx(PEAK) and top == schedule.warmup - 1 == 3
    assert all(a < b for a, b in zip(lr[:top], lr[1:top + 1]))
    assert all(a >= b for a, b in zip(lr[top:], lr[top + 1:]))
    assert lr[schedule.total - 1] < PEAK / 100
    for epochs, per_epoch in [(1, 1), (1, 2), (1, 3), (3, 1)]:  # total < 4: no room for two phases
        schedule, lr = lrs("onecycle", epochs, per_epoch, 1)
        assert schedule.total < 4
        assert all(math.isfinite(v) and 0 <= v <= PEAK for v in lr)
        assert lr[0] == pytest.approx(PEAK)
        assert all(a >= b for a, b in zip(lr, lr[1:]))


# --- 9. optimizer parameter groups -------------------------------------------------------------


@pytest.mark.parametrize("name", ["adamw", "sgd"])
def test_optimizer_groups_decay_only_weights_and_scale_the_backbone_lr(name):
    net = CnnSmall(in_chans=1, num_classes=3)
    optimizer = make_optimizer(net, name, lr=0.01, weight_decay=0.05, backbone_lr_scale=0.1)
    group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    names = dict(net.named_parameters())
    assert set(group_of) == {id(p) for p in names.values()}  # every parameter, once
    for pname, p in names.items():
        group = group_of[id(p)]
        is_head = pname.startswith("fc.")
        decayed = isinstance(_owner(net, pname), (nn.Conv2d, nn.Linear)) and pname.endswith(".weight")
        assert group["weight_decay"] == (0.05 if decayed else 0.0), pname
        assert group["lr"] == pytest.approx(0.01 if is_head else 0.001), pname
    assert {g["foveal_group"] for g in optimizer.param_groups} == {"head", "backbone"}
    # the ratio survives the schedule (each group follows the curve from its own base rate)
    schedule = Schedule("cosine", optimizer, 2, 5, 1)
    schedule.step(4)
    head_lr = {g["foveal_group"]: g["lr"] for g in optimizer.param_groups}
    assert head_lr["backbone"] == pytest.approx(0.1 * head_lr["head"])


def _owner(net: nn.Module, pname: str) -> nn.Module:
    return net.get_submodule(pname.rsplit(".", 1)[0])


def test_optimizer_without_backbone_scale_uses_one_lr_and_refuses_unknown_names():
    net = CnnSmall(in_chans=1, num_classes=3)
    assert {g["lr"] for g in make_optimizer(net, "adamw", 0.01, 0.05).param_groups} == {0.01}
    with pytest.raises(ConfigError, match="optimizer"):
        make_optimizer(net, "lamb-not-here", 0.01, 0.05)
    with pytest.raises(ConfigError):
        make_optimizer(net, "adamw", 0.0, 0.05)


# --- 10. L1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("frozen", [False, True])
def test_l1_adds_lambda_times_the_absolute_sum_of_trainable_weight_matrices(frozen):
    lam = 1e-3
    loop, train = make_loop(LABELS, l1=lam)
    set_backbone_frozen(loop.parts.net, frozen)
    x, y = trainer.prepare_batch(loop, train, torch.arange(16))
    loop.parts.net.eval()  # the same forward twice (no batch-statistics update in between)
    with_l1 = trainer.forward_loss(loop, x, y)
    loop.cfg.l1 = 0.0
    without = trainer.forward_loss(loop, x, y)

    penalised = [p for n, p in loop.parts.net.named_parameters() if p.requires_grad and p.ndim > 1]
    assert len(penalised) == (1 if frozen else 7)  # fc.weight (+ six conv kernels); no biases, no BN weights
    expected = lam * sum(p.detach().abs().sum().item() for p in penalised)
    assert (with_l1 - without).item() == pytest.approx(expected, rel=1e-4)
    assert expected > 1e-3  # large enough for a wrong set of parameters to show
    unpenalised = sum(p.detach().abs().sum().item() for n, p in loop.parts.net.named_parameters() if p.ndim == 1)
    assert lam * unpenalised > 1e-3 * expected  # including biases / BN weights would be caught


# --- 11. AMP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("amp, conv_dtype", [(True, torch.bfloat16), (False, torch.float32)])
def test_amp_runs_the_forward_in_bfloat16_and_keeps_the_loss_float32(amp, conv_dtype):
    loop, train = make_loop(LABELS, amp=amp)
    assert loop.parts.amp_dtype == (torch.bfloat16 if amp else None)
    seen = []
    conv = next(m for m in loop.parts.net.modules() if isinstance(m, nn.Conv2d))
    handle = conv.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    try:
        x, y = trainer.prepare_batch(loop, train, torch.arange(16))
        loss = trainer.forward_loss(loop, x, y)
    finally:
        handle.remove()
    assert seen == [conv_dtype]
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in loop.parts.net.parameters())
    assert all(p.dtype == torch.float32 for p in loop.parts.net.parameters())  # master weights stay float32
