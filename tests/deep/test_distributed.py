"""DDP: two CPU processes on gloo under torchrun end with identical weights and write one bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_two_gloo_processes_agree_and_rank0_writes(tmp_path, faces_folder):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "foveal", "-q", "train", str(faces_folder), "--model", "cnn-small", "--out", str(run),
           "--epochs", "2", "--image-size", "16", "--batch-size", "16", "--no-report", "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    training = json.loads((run / "model" / "foveal.json").read_text())["training"]
    assert training["world_size"] == 2
    hashes = training["rank_weight_hashes"]
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    assert [p.name for p in tmp_path.rglob("foveal.json")] == ["foveal.json"]  # exactly one bundle
    assert done.stdout.count("run folder:") == 1
    assert len((run / "metrics.csv").read_text().splitlines()) == 3
