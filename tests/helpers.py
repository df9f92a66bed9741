"""Plain test helpers (no fixtures): small dataset subsets and file-tree hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.load import load_dataset


def small(name: str, per_class: int, seed: int = 0) -> Dataset:
    """A class-balanced subset of a built-in dataset that keeps its train/val/test split."""
    ds = load_dataset(name)
    rng = np.random.default_rng(seed)
    keys = ds.task.stratify_keys(ds.labels) if ds.task.type != "multilabel" else ["all"] * len(ds)
    chosen: list[int] = []
    for split in ("train", "val", "test"):
        want = per_class if split == "train" else max(2, per_class // 3)
        if ds.task.type == "multilabel":
            want *= 10
        for key in sorted(set(keys)):
            members = [i for i, (k, s) in enumerate(zip(keys, ds.split)) if k == key and s == split]
            chosen += list(rng.permutation(members)[:want])
    return ds.subset(sorted(chosen))


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (to prove runs never modify user files)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_consistent_paths(rows: list[dict], classes: list[str]) -> None:
    """Hierarchical `predict --format json` rows: a known leaf path, scored per level, never rising."""
    for row in rows:
        family, _ = row["prediction"].split("/")
        assert row["prediction"] in classes
        assert list(row["scores"]) == [family, row["prediction"]]
        assert row["scores"][family] >= row["scores"][row["prediction"]]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run the real CLI in-process: (exit code, stdout, stderr)."""
    from foveal.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err
