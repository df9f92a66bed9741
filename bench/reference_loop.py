"""The reference for bench/time_to_accuracy.py: what a PyTorch user writes with timm's recipe.

timm's resnet18 from scratch, timm's own train/eval transforms (``timm.data.create_transform``:
random-resized crop, flip, colour jitter; resize + centre crop for validation), a DataLoader decoding
the JPEGs every epoch in worker processes, AdamW (lr 1e-3, weight decay 0.05), a per-step cosine
schedule, cross-entropy; validation accuracy after the last epoch.

    python bench/reference_loop.py MANIFEST.csv --epochs 2 --size 64 --batch-size 64

Prints one JSON line: {"val_accuracy", "images_per_s" (median per epoch), "epoch_seconds"}.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path


def read_manifest(path: Path) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    root = path.parent
    train = [(root / r["path"], r["label"]) for r in rows if r["split"] == "train"]
    val = [(root / r["path"], r["label"]) for r in rows if r["split"] == "val"]
    return train, val


class Files:
    """A map-style dataset over (path, label) rows."""

    def __init__(self, rows, classes, transform):
        self.rows, self.index, self.transform = rows, {c: i for i, c in enumerate(classes)}, transform

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        from PIL import Image

        path, label = self.rows[i]
        with Image.open(path) as im:
            return self.transform(im.convert("RGB")), self.index[label]


def accuracy(net, loader) -> float:
    import torch

    net.eval()
    right = total = 0
    with torch.inference_mode():
        for x, y in loader:
            right += int((net(x).argmax(1) == y).sum())
            total += len(y)
    return right / max(total, 1)


def main() -> None:
    import timm
    import torch
    from timm.data import create_transform

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_rows, val_rows = read_manifest(args.manifest)
    classes = sorted({label for _, label in train_rows})
    loader = torch.utils.data.DataLoader(
        Files(train_rows, classes, create_transform(args.size, is_training=True)), batch_size=args.batch_size,
        shuffle=True, num_workers=args.workers, drop_last=True, persistent_workers=args.workers > 0)
    val_loader = torch.utils.data.DataLoader(Files(val_rows, classes, create_transform(args.size)),
                                             batch_size=256, num_workers=args.workers)
    net = timm.create_model("resnet18", pretrained=False, num_classes=len(classes))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(loader))
    speeds, seconds = [], []
    for _ in range(args.epochs):
        net.train()
        start, n = time.perf_counter(), 0
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            n += len(y)
        seconds.append(time.perf_counter() - start)
        speeds.append(n / seconds[-1])
    print(json.dumps({"val_accuracy": accuracy(net, val_loader), "images_per_s": statistics.median(speeds),
                      "epoch_seconds": seconds}))


if __name__ == "__main__":
    main()
