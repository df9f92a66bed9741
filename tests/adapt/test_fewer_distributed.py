"""DDP: two CPU processes (gloo, torchrun) training with an unlabelled stream end with identical weights
(the domain classifier is synchronised with the network) and write one bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("extra", [["--adapt", "dann", "--target-unlabeled", "digits-shifted"]], ids=["dann"])
def test_two_gloo_processes_agree(tmp_path, digits_folder, extra):
    """(``--semi fixmatch`` passes this too — also checking that pseudo-label counts sum over ranks; left out
    to keep the suite fast: each case starts two processes, about 15 s on an idle 2-core machine.)"""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "foveal", "-q", "train", str(digits_folder), "--model", "cnn-small", "--out", str(run),
           "--epochs", "2", "--image-size", "8", "--batch-size", "16", "--no-report", "--workers", "1",
           "--mu", "1", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    training = json.loads((run / "model" / "foveal.json").read_text())["training"]
    assert training["world_size"] == 2
    hashes = training["rank_weight_hashes"]
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    record = training.get("adaptation") or training["semi_supervised"]
    assert record["method"] == extra[1]
    if "pseudo_labels_seen" in record:  # summed over both ranks: each draws μ × its own batch
        assert record["pseudo_labels_seen"] == 2 * 300  # 2 epochs × 300 labelled images × μ 1
    assert [p.name for p in tmp_path.rglob("foveal.json")] == ["foveal.json"]
