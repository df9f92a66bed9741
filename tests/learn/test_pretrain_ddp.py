"""Pretraining under torchrun: two gloo processes (BYOL, whose momentum target is held as buffers) agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_byol_on_two_gloo_processes_ends_with_identical_backbones(tmp_path, tiny_digits):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "foveal", "-q", "pretrain", str(tiny_digits), "--method", "byol", "--out", str(run),
           "--epochs", "2", "--image-size", "16", "--batch-size", "16", "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["purpose"] == "backbone" and manifest["training"]["world_size"] == 2
    hashes = manifest["training"]["rank_weight_hashes"]
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    assert done.stdout.count("run folder:") == 1
    assert len((run / "metrics.csv").read_text().splitlines()) == 3
