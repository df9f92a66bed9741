"""The dataset: a table of samples (an image file or an in-memory image, its label(s), split, group, domain)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from foveal.data.task import Task
from foveal.errors import DataError

SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                 "validation": "val", "dev": "val", "test": "test", "testing": "test"}


def canonical_split(value: str | None) -> str | None:
    """``'Validation'`` → ``'val'``; empty → None; unknown → None-with-error by the caller."""
    if value is None or str(value).strip() == "":
        return None
    return SPLIT_ALIASES.get(str(value).strip().lower())


@dataclass
class Dataset:
    """Samples as parallel columns; exactly one of ``paths`` / ``images`` is set.

    ``paths`` are POSIX paths relative to ``root``; ``images`` is an
    (n, H, W, C) uint8 array for built-in datasets. ``origin`` says where each
    sample was declared (``manifest.csv:12``, ``m.parquet: row 3``) for manifests,
    and is None for folders and built-ins. ``orientation_sensitive`` marks data
    whose label flips and large rotations change (digits, text, X-ray laterality).
    """

    name: str
    source: str  # "folder" | "manifest" | "builtin"
    task: Task
    labels: list
    split: list[str | None]
    paths: list[str] | None = None
    root: Path | None = None
    images: np.ndarray | None = None
    group: list[str | None] | None = None
    domain: list[str | None] | None = None
    origin: list[str] | None = None
    orientation_sensitive: bool = False
    attributes: dict[str, list[str | None]] | None = None  # further manifest columns (site, scanner, …)

    def __len__(self) -> int:
        return len(self.labels)

    def location(self, i: int) -> str:
        """How sample ``i`` is named to users: its relative path, or ``name#i``."""
        return self.paths[i] if self.paths is not None else f"{self.name}#{i}"

    def describe(self, i: int) -> str:
        """Sample ``i`` for messages: ``path (manifest.csv:12)`` when its origin is known, else its location."""
        if self.origin is None:
            return self.location(i)
        return f"{self.location(i)} ({self.origin[i]})"

    def file(self, i: int) -> Path:
        if self.paths is None or self.root is None:
            raise DataError(f"{self.name} holds in-memory images, not files",
                            "use its images array, or write files with `foveal data export`")
        return self.root / self.paths[i]

    @property
    def splits(self) -> list[str]:
        present = {s for s in self.split if s}
        return [s for s in SPLITS if s in present]

    def subset(self, indices: Sequence[int] | np.ndarray) -> "Dataset":
        idx = [int(i) for i in indices]

        def pick(column):
            return None if column is None else [column[i] for i in idx]

        return replace(
            self,
            labels=pick(self.labels),
            split=pick(self.split),
            paths=pick(self.paths),
            images=None if self.images is None else self.images[idx],
            group=pick(self.group),
            domain=pick(self.domain),
            origin=pick(self.origin),
            attributes=None if self.attributes is None else {k: pick(v) for k, v in self.attributes.items()},
        )

    def select(self, split: str) -> "Dataset":
        """The samples of one split (``all`` keeps everything)."""
        if split == "all":
            return self
        name = canonical_split(split)
        if name is None:
            raise DataError(f"unknown split {split!r}", f"use one of {', '.join(SPLITS)} or all")
        if name not in self.splits:
            have = ", ".join(self.splits) or "none"
            raise DataError(f"{self.name} has no {name!r} split (splits present: {have})",
                            "pick another --split, or use --split all")
        return self.subset([i for i, s in enumerate(self.split) if s == name])

    @property
    def columns(self) -> list[str]:
        """The per-sample columns :meth:`column` can give (``group``, ``domain``, ``split``, manifest extras)."""
        named = [n for n in ("group", "domain") if getattr(self, n) is not None and any(getattr(self, n))]
        return [*named, "split", *(self.attributes or {})]

    def column(self, name: str) -> list[str | None]:
        """One value per sample of a column such as ``group``, ``split`` or a manifest's ``site``."""
        if name in ("group", "domain", "split") and getattr(self, name) is not None:
            return list(getattr(self, name))
        if self.attributes and name in self.attributes:
            return list(self.attributes[name])
        raise DataError(f"{self.name} has no column {name!r} (columns: {', '.join(self.columns)})",
                        "add the column to the manifest, or pick one of those")

    def class_counts(self) -> dict[str, int]:
        counts: Counter = Counter()
        for value in self.labels:
            counts.update(value if isinstance(value, list) else [value])
        return {c: counts.get(c, 0) for c in self.task.classes}

    def targets(self) -> np.ndarray:
        return self.task.encode(self.labels)
