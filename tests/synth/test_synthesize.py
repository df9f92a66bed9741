"""foveal synthesize: samples and manifest, resume after an interrupt, drawing more, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from conftest import TINY
from helpers import run_cli

from foveal.csvio import read_csv
from foveal.deep.checkpoint import load_checkpoint, read_info
from foveal.synth.loop import CHECKPOINT, GanLoop


def test_samples_manifest_and_generator(trained):
    out, run = trained["out"], trained["run"]
    rows = read_csv(out / "manifest.csv")
    assert len(rows) == 12 and {r["label"] for r in rows} == {"3", "8"}
    sha = hashlib.sha256((run / "generator.safetensors").read_bytes()).hexdigest()
    assert all(r["origin"] == "synthetic" and r["generator"] == sha and r["split"] == "train" for r in rows)
    for row in rows:
        with Image.open(out / row["path"]) as im:
            assert im.size == (16, 16) and im.mode == "L"
    assert sorted(p.name for p in (out / "8").iterdir()) == [f"synthetic-3-{i:05d}.png" for i in range(6)]
    quality = (out / "quality.json").read_text()
    assert '"judge_accuracy"' in quality and '"frechet_hog"' in quality
    with Image.open(out / "grid.png") as grid:
        assert grid.size[0] > 16 * 8
    assert (run / CHECKPOINT).is_file() and (run / "config.yaml").is_file()
    assert not any(p.name.startswith(".") for p in trained["root"].iterdir())  # no temporaries left


def test_generator_draws_more_deterministically(capsys, trained, tmp_path):
    args = ("synthesize", "--generator", trained["run"], "--class", "8", "--n", "6", "--seed", "3")
    assert run_cli(capsys, "--quiet", *args, "--out", tmp_path / "a")[0] == 0
    assert run_cli(capsys, "--quiet", *args, "--out", tmp_path / "b")[0] == 0
    code, _, _ = run_cli(capsys, "--quiet", *args[:-1], "4", "--out", tmp_path / "c")
    assert code == 0

    def pixels(folder):
        return [np.asarray(Image.open(p)) for p in sorted((folder / "8").iterdir())]

    a, b, c = pixels(tmp_path / "a"), pixels(tmp_path / "b"), pixels(tmp_path / "c")
    assert len(a) == 6 and all((x == y).all() for x, y in zip(a, b))
    assert all((x == y).all() for x, y in zip(a, pixels(trained["out"])))  # same seed as the training run
    assert not all((x == y).all() for x, y in zip(a, c))
    assert read_csv(tmp_path / "a" / "manifest.csv")[0]["origin"] == "synthetic"


def test_interrupted_run_resumes_exactly(capsys, monkeypatch, digits_folder, tmp_path):
    common = ("synthesize", digits_folder, "--class", "1", "--n", "2", "--image-size", "8", "--epochs", "2",
              "--batch-size", "64")
    assert run_cli(capsys, "--quiet", *common, "--out", tmp_path / "full", "--run-dir", tmp_path / "full-run")[0] == 0

    original = GanLoop.update

    def update_then_stop(self, real, labels):
        result = original(self, real, labels)
        if self.state.epoch == 1 and self.state.step == 1:  # the 2nd update of epoch 2 is about to count
            self.stop.reason = "SIGTERM"
        return result

    monkeypatch.setattr(GanLoop, "update", update_then_stop)
    code, _, err = run_cli(capsys, *common, "--out", tmp_path / "out", "--run-dir", tmp_path / "run")
    assert code == 143 and f"foveal synthesize --resume {tmp_path / 'run'}" in err
    assert read_info(tmp_path / "run" / CHECKPOINT)["state"]["epoch"] == 1
    assert read_info(tmp_path / "run" / CHECKPOINT)["state"]["step"] == 2
    assert not (tmp_path / "out").exists() and not (tmp_path / "run" / "generator.safetensors").exists()

    monkeypatch.setattr(GanLoop, "update", original)
    code, _, err = run_cli(capsys, "synthesize", "--resume", tmp_path / "run")
    assert code == 0 and "resuming" in err
    assert read_info(tmp_path / "run" / CHECKPOINT)["state"]["epoch"] == 2
    assert len(read_csv(tmp_path / "run" / "metrics.csv")) == 2
    full = load_checkpoint(tmp_path / "full-run" / CHECKPOINT)[0]
    resumed = load_checkpoint(tmp_path / "run" / CHECKPOINT)[0]
    assert all(np.array_equal(full[k].numpy(), resumed[k].numpy()) for k in full if k[:2] in ("G/", "E/", "D/"))
    assert (tmp_path / "out" / "manifest.csv").is_file()


def test_unknown_class_is_one_line_and_writes_nothing(capsys, digits_folder, tmp_path):
    code, _, err = run_cli(capsys, "synthesize", digits_folder, "--class", "cat", "--out", tmp_path / "out",
                           "--run-dir", tmp_path / "run", *TINY)
    assert code == 2
    assert err.strip() == "foveal: error: unknown class 'cat' — use one of: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"
    assert not (tmp_path / "out").exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (("--n", "0"), "--n 0"),
    (("--image-size", "24"), "--image-size 24"),
])
def test_bad_options_fail_before_work(capsys, digits_folder, tmp_path, args, message):
    code, _, err = run_cli(capsys, "synthesize", digits_folder, "--class", "1", "--out", tmp_path / "o",
                           "--run-dir", tmp_path / "r", *TINY, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_out_must_be_new(capsys, trained, tmp_path):
    code, _, err = run_cli(capsys, "synthesize", "--generator", trained["run"], "--class", "3",
                           "--out", trained["out"])
    assert code == 2 and "not an empty folder" in err


def test_rgb_data_gives_rgb_samples(capsys, rgb_folder, tmp_path):
    code, _, _ = run_cli(capsys, "--quiet", "synthesize", rgb_folder, "--class", "2", "--n", "3",
                         "--out", tmp_path / "out", "--run-dir", tmp_path / "run", *TINY)
    assert code == 0
    with Image.open(next((tmp_path / "out" / "2").iterdir())) as im:
        assert im.mode == "RGB" and im.size == (16, 16)
