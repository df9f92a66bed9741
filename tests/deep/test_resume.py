"""Checkpoints: SIGKILL + --resume and SIGTERM + --resume give the uninterrupted run's exact weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from foveal.deep.checkpoint import read_info

EPOCHS = 3
ARGS = ["--model", "cnn-small", "--epochs", str(EPOCHS), "--image-size", "16", "--batch-size", "16",
        "--deterministic", "--no-report", "--workers", "1", "--ema", "--ema-decay", "0.9"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def start(data: Path, run: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "foveal", "-q", "train", str(data), "--out", str(run), *ARGS, *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def resume(run: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "foveal", "-q", "train", "--resume", str(run)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr


def wait_for_epoch(run: Path, proc: subprocess.Popen, epoch: int) -> dict:
    last = run / "checkpoints" / "last.safetensors"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if last.is_file():
            info = read_info(last)
            if info["state"]["epoch"] >= epoch:
                return info
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.stderr.read()}")
        time.sleep(0.01)
    pytest.fail("no checkpoint appeared")


def final_weights(run: Path) -> dict:
    last = load_file(str(run / "checkpoints" / "last.safetensors"))
    bundle = load_file(str(run / "model" / "weights.safetensors"))
    return {**{f"last/{k}": v for k, v in last.items() if k.startswith(("model/", "ema/"))},
            **{f"bundle/{k}": v for k, v in bundle.items()}}


def assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not (a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and (a[k] == b[k]).all())]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, digits_folder) -> dict:
    run = tmp_path_factory.mktemp("reference") / "run"
    proc = start(digits_folder, run)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return final_weights(run)


def test_sigkill_then_resume_gives_identical_weights(tmp_path, digits_folder, reference):
    run = tmp_path / "run"
    proc = start(digits_folder, run)
    info = wait_for_epoch(run, proc, 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "model").exists() and read_info(run / "checkpoints" / "last.safetensors")["state"]["epoch"] < EPOCHS
    assert info["state"]["epoch"] >= 2
    leftovers = [run / ".model.k2x9q1", run / "checkpoints" / ".last.safetensors.a8b7c6", run / ".metrics.csv.zz91ab"]
    leftovers[0].mkdir()  # what a kill during a bundle or checkpoint write leaves behind
    for path in leftovers[1:]:
        path.write_bytes(b"partial")
    resume(run)
    assert not any(p.exists() for p in leftovers)
    assert_identical(final_weights(run), reference)
    assert len((run / "metrics.csv").read_text().splitlines()) == EPOCHS + 1


def test_sigterm_checkpoints_mid_epoch_and_resumes_exactly(tmp_path, digits_folder, reference):
    run = tmp_path / "run"
    proc = start(digits_folder, run)
    wait_for_epoch(run, proc, 1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err  # the shell's convention: 143
    assert "checkpoint written" in err and "--resume" in err
    state = read_info(run / "checkpoints" / "last.safetensors")["state"]
    assert 1 <= state["epoch"] < EPOCHS
    assert (run / "curves.png").is_file()  # the finished epochs' curves, drawn as the run stopped
    resume(run)
    assert_identical(final_weights(run), reference)


def test_target_accuracy_checks_half_way_without_changing_training_and_resumes_exactly(tmp_path, digits_folder,
                                                                                       reference):
    """A target the run never reaches: every epoch is also scored half-way, which must leave training
    untouched (the weights are the plain run's), and a SIGTERM + --resume still gives the same weights,
    whether it came before or after an epoch's half-way check."""
    run = tmp_path / "run"
    proc = start(digits_folder, run, "--target-accuracy", "0.9999")
    wait_for_epoch(run, proc, 1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 128 + signal.SIGTERM), err  # 0: the signal came as the run ended
    if proc.returncode:
        resume(run)
    assert_identical(final_weights(run), reference)
    manifest = json.loads((run / "model" / "foveal.json").read_text())["training"]
    assert manifest["epochs"] == EPOCHS and not manifest["reached_target"] and not manifest["last_epoch_batches"]


def test_resume_refuses_finished_or_foreign_folders(tmp_path, capsys):
    from deep_helpers import run_cli

    code, _, err = run_cli(capsys, "train", "--resume", tmp_path)
    assert code == 2 and "not a run folder" in err
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path, "--epochs", "9")
    assert code == 2 and "epochs given too" in err


def test_a_run_killed_before_its_first_checkpoint_can_be_resumed_or_reused(tmp_path, digits_folder, reference):
    """What a kill before the first checkpoint leaves: config.yaml and temporary files, nothing else."""
    finished = tmp_path / "finished"
    proc = start(digits_folder, finished)
    assert proc.wait(timeout=300) == 0
    for name in ("resumed", "reused"):
        (tmp_path / name / "checkpoints").mkdir(parents=True)
        (tmp_path / name / "config.yaml").write_text((finished / "config.yaml").read_text())
        (tmp_path / name / "checkpoints" / ".last.safetensors.q1w2e3").write_bytes(b"half a checkpoint")
    resume(tmp_path / "resumed")
    assert_identical(final_weights(tmp_path / "resumed"), reference)
    proc = start(digits_folder, tmp_path / "reused")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert_identical(final_weights(tmp_path / "reused"), reference)
