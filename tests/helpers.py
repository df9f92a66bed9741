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


def torchrun_train(cwd: Path, data, out: Path, *args: str) -> tuple[object, dict]:
    """`foveal train` in two gloo processes under torchrun (one thread each); returns the finished process
    and the bundle's ``training`` section, after checking both ranks ended with the same weights."""
    import json
    import os
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "foveal", "-q", "train", str(data), "--model", "cnn-small", "--out", str(out), "--epochs", "2",
           "--batch-size", "16", "--no-report", "--workers", "1", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    training = json.loads((Path(out) / "model" / "foveal.json").read_text())["training"]
    assert training["world_size"] == 2
    hashes = training["rank_weight_hashes"]
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    return done, training
