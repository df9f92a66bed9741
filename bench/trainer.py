"""Training throughput: foveal's trainer against a plain PyTorch loop on the same tensors.

Both train timm's resnet18 at 64 px on the same in-memory uint8 images (the textures
patches, upsampled, in four orientations: 1,800 images, so an epoch lasts ≈ 12 s and a
ratio is not lost in the machine's noise, as it was with 3-second epochs), same batch size,
AdamW, no augmentation; steady-state images/s is the median over epochs after the first.
Then foveal with --no-channels-last (channels-last is the default) and --compile.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np


def textures_64() -> tuple[np.ndarray, np.ndarray]:
    from foveal.data.builtin import load_builtin
    from foveal.data.images import Preprocessing

    data = load_builtin("textures")
    prep = Preprocessing(size=(64, 64), channels=3)
    images = np.stack([prep.prepare(img) for img in data.images])
    images = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(4)])
    classes = sorted(set(data.labels))
    return np.ascontiguousarray(images), np.tile([classes.index(c) for c in data.labels], 4)


def plain_loop(images: np.ndarray, targets: np.ndarray, epochs: int, batch_size: int) -> list[float]:
    """What a PyTorch user writes by hand: index batches, normalise, forward, backward, step."""
    import timm
    import torch

    torch.manual_seed(0)
    net = timm.create_model("resnet18", pretrained=False, num_classes=int(targets.max()) + 1)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    y_all = torch.from_numpy(targets)
    mean = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)
    speeds = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(epoch))
        start = time.perf_counter()
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            x = (x_all[idx].float() / 255.0 - mean) / 0.25
            loss = torch.nn.functional.cross_entropy(net(x), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        speeds.append(len(order) / (time.perf_counter() - start))
    return speeds


def foveal_loop(images, targets, epochs: int, batch_size: int, **options) -> list[float]:
    from foveal.config import resolve
    from foveal.data.dataset import Dataset
    from foveal.data.task import MulticlassTask
    from foveal.progress import quiet
    from foveal.runs.pipeline import fit_model

    cfg = resolve(None, dict(model="resnet18", epochs=epochs, batch_size=batch_size, augment="none",
                             schedule="none", warmup_epochs=0, dropout=0.0, **options))
    task = MulticlassTask([str(c) for c in range(int(targets.max()) + 1)])
    ds = Dataset(name="textures", source="array", task=task, labels=[task.classes[t] for t in targets],
                 split=["train"] * len(targets), images=images)
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted, _ = fit_model(cfg, ds, validation=False)
    return [h["images_per_s"] for h in fitted.history]


def steady(speeds: list[float]) -> float:
    return statistics.median(speeds[1:]) if len(speeds) > 1 else speeds[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-compile", action="store_true", help="skip the --compile variant (slow first epoch)")
    args = parser.parse_args()
    images, targets = textures_64()
    print(f"resnet18 at 64 px, {len(images)} images, batch {args.batch_size}, {args.epochs} epochs each, "
          f"{args.rounds} alternating rounds after a warm-up")
    plain_loop(images, targets, 2, args.batch_size)  # the first minutes of a process run slower (oneDNN caches)
    plains, ours_all = [], []
    for _ in range(args.rounds):
        plains.append(steady(plain_loop(images, targets, args.epochs, args.batch_size)))
        ours_all.append(steady(foveal_loop(images, targets, args.epochs, args.batch_size)))
    plain, ours = statistics.median(plains), statistics.median(ours_all)
    ratio = statistics.median(o / p for o, p in zip(ours_all, plains))
    print(f"{'plain PyTorch loop':<28} {plain:8.1f} images/s")
    print(f"{'foveal trainer':<28} {ours:8.1f} images/s   ratio foveal/plain {ratio:5.2f} (median of pairs)")
    variants = [("--no-channels-last", {"channels_last": False})]
    if not args.no_compile:
        variants.append(("--compile", {"compile": True}))
    for name, options in variants:
        speed = steady(foveal_loop(images, targets, args.epochs, args.batch_size, **options))
        print(f"{'foveal ' + name:<28} {speed:8.1f} images/s   ratio vs foveal default {speed / ours:5.2f}")


if __name__ == "__main__":
    main()
