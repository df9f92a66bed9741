"""DDP: two CPU processes on gloo under torchrun end with identical weights and write one bundle."""

from __future__ import annotations

from helpers import torchrun_train


def test_two_gloo_processes_agree_and_rank0_writes(tmp_path, faces_folder):
    run = tmp_path / "run"
    done, _ = torchrun_train(tmp_path, faces_folder, run, "--image-size", "16")
    assert [p.name for p in tmp_path.rglob("foveal.json")] == ["foveal.json"]  # exactly one bundle
    assert done.stdout.count("run folder:") == 1
    assert len((run / "metrics.csv").read_text().splitlines()) == 3
