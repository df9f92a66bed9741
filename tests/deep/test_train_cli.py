"""End to end through the CLI: cnn-small on every task type, a timm model, the run folder."""

from __future__ import annotations

import csv
import json

import yaml

from deep_helpers import run_cli, train_deep
from foveal.deep.checkpoint import read_info
from helpers import assert_consistent_paths


def test_multiclass_run_folder_eval_and_predict(capsys, tmp_path, digits_folder):
    run = train_deep(capsys, tmp_path / "run", digits_folder, "--model", "cnn-small", "--epochs", "4",
                     "--lr", "3e-3", "--ema", "--ema-decay", "0.9")
    assert {p.name for p in run.iterdir()} >= {"config.yaml", "metrics.csv", "metrics.json", "curves.png",
                                               "checkpoints", "model"}
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"last.safetensors", "best.safetensors"}
    # the last epoch's checkpoint is written while the bundle is, and has landed when the command returns
    assert read_info(run / "checkpoints" / "last.safetensors")["state"]["epoch"] == 4
    assert {p.name for p in (run / "model").iterdir()} == {"foveal.json", "weights.safetensors"}
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert {"train_loss", "val_loss", "accuracy", "lr", "images_per_s"} <= set(rows[0])
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["model"] == "cnn-small" and resolved["epochs"] == 4 and resolved["ema"] is True
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["family"] == "deep" and manifest["model"]["architecture"] == "cnn-small"
    prep = manifest["preprocessing"]
    assert prep["size"] == [16, 16] and prep["channels"] == 1 and len(prep["mean"]) == len(prep["std"]) == 1
    assert "torch" in manifest["lineage"]["versions"] and manifest["training"]["epochs"] == 4

    code, _, _ = run_cli(capsys, "eval", run, digits_folder, "--json", tmp_path / "eval.json")
    result = json.loads((tmp_path / "eval.json").read_text())
    assert code == 0 and result["split"] == "test" and result["metrics"]["accuracy"] > 0.6

    files = sorted((digits_folder / "test" / "7").glob("*.png"))[:3]
    code, out, _ = run_cli(capsys, "predict", run, *files, "--format", "json", "--top-k", "2")
    for row in json.loads(out):
        assert row["prediction"] in manifest["task"]["classes"] and len(row["top_k"]) == 2
        assert abs(sum(row["scores"].values()) - 1) < 1e-5


def test_binary_faces(capsys, tmp_path, faces_folder):
    run = train_deep(capsys, tmp_path / "run", faces_folder, "--model", "cnn-small", "--epochs", "10",
                     "--class-weights", "auto", "--augment", "standard")
    code, _, _ = run_cli(capsys, "eval", run, faces_folder, "--json", tmp_path / "e.json")
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["task"] == "binary" and result["metrics"]["roc_auc"] > 0.9 and result["metrics"]["accuracy"] > 0.8
    assert {"best_f1", "youden"} <= set(result["thresholds"])


def test_multilabel_thresholds_are_tuned_and_stored(capsys, tmp_path, multidigits_manifest):
    run = train_deep(capsys, tmp_path / "run", multidigits_manifest, "--model", "cnn-small", "--epochs", "3",
                     "--lr", "3e-3")
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    thresholds = manifest["task"]["thresholds"]
    assert manifest["model"]["head"]["kind"] == "sigmoid" and len(thresholds) == 10
    assert thresholds != [0.5] * 10 and all(0 < t < 1 for t in thresholds)
    code, _, _ = run_cli(capsys, "eval", run, multidigits_manifest, "--json", tmp_path / "e.json")
    assert json.loads((tmp_path / "e.json").read_text())["metrics"]["map"] > 0.3
    images = sorted((multidigits_manifest.parent / "images").glob("*.png"))[:6]
    code, out, _ = run_cli(capsys, "predict", run, *images, "--format", "json")
    by_label = dict(zip(manifest["task"]["classes"], thresholds))
    for row in json.loads(out):
        assert isinstance(row["prediction"], list)
        assert set(row["prediction"]) == {k for k, v in row["scores"].items() if v >= by_label[k]}


def test_hierarchical_predictions_are_consistent_paths(capsys, tmp_path, taxonomy_folder):
    for flag in ("--per-level", "--hierarchical-softmax"):
        run = train_deep(capsys, tmp_path / flag.strip("-"), taxonomy_folder, "--model", "cnn-small",
                         "--epochs", "3", "--lr", "3e-3", flag)
        manifest = json.loads((run / "model" / "foveal.json").read_text())
        assert manifest["model"]["head"]["kind"] == "hierarchical"
        assert manifest["model"]["head"]["loss"] == flag.strip("-")
        code, _, _ = run_cli(capsys, "eval", run, taxonomy_folder, "--json", tmp_path / "e.json")
        m = json.loads((tmp_path / "e.json").read_text())["metrics"]
        assert m["level_1_accuracy"] >= m["level_2_accuracy"] and m["level_1_accuracy"] > 0.4
        files = sorted((taxonomy_folder / "test").rglob("*.png"))[:6]
        code, out, _ = run_cli(capsys, "predict", run, *files, "--format", "json")
        assert_consistent_paths(json.loads(out), manifest["task"]["classes"])


def test_timm_model_at_32px(capsys, tmp_path, faces_folder):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "-q", "train", faces_folder, "--model", "mobilenetv3_small_050", "--out", out,
                           "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--no-report",
                           "--channels", "3", "--optimizer", "sgd", "--schedule", "onecycle", "--lr", "0.05")
    assert code == 0, err
    manifest = json.loads((out / "model" / "foveal.json").read_text())
    assert manifest["model"]["architecture"] == "mobilenetv3_small_050" and manifest["model"]["in_chans"] == 3
    assert manifest["preprocessing"]["size"] == [32, 32]
    files = sorted((faces_folder / "test" / "face").glob("*.png"))[:2]
    code, out_text, _ = run_cli(capsys, "predict", out, *files, "--format", "json")
    assert code == 0 and all(r["prediction"] in ("face", "background") for r in json.loads(out_text))


def test_yaml_config_and_defaults(capsys, tmp_path, faces_folder):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump({"model": "cnn-small", "epochs": 2, "optimizer": "adam", "schedule": "step",
                                   "label_smoothing": 0.1, "grad_clip": 1.0, "accumulate": 2, "l1": 1e-6,
                                   "sampler": "balanced", "early_stopping": 1}))
    run = train_deep(capsys, tmp_path / "run", faces_folder, "--config", cfg, "--epochs", "3")
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["epochs"] == 3 and resolved["optimizer"] == "adam" and resolved["accumulate"] == 2
    assert (resolved["sampler"], resolved["l1"], resolved["label_smoothing"]) == ("balanced", 1e-6, 0.1)
    training = json.loads((run / "model" / "foveal.json").read_text())["training"]
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) == training["epochs"] and training["stopped_early"] == (training["epochs"] < 3)
    assert [float(r["lr"]) for r in rows][-1] < float(rows[0]["lr"])  # the step schedule decayed


def test_models_lists_cnn_small_and_timm(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "cnn-small" in out and "timm architectures" in out
    code, out, _ = run_cli(capsys, "models", "resnet1")
    assert code == 0 and "resnet18" in out


def test_cache_none_decodes_per_batch_with_the_same_result(capsys, tmp_path, faces_folder):
    from safetensors.torch import load_file

    runs = [train_deep(capsys, tmp_path / mode, faces_folder, "--model", "cnn-small", "--epochs", "2",
                       "--cache", mode) for mode in ("ram", "none")]
    ram, none = (load_file(str(r / "model" / "weights.safetensors")) for r in runs)
    assert all((ram[k] == none[k]).all() for k in ram)
    code, _, err = run_cli(capsys, "train", faces_folder, "--model", "cnn-small", "--cache", "disk",
                           "--out", tmp_path / "bad")
    assert code == 2 and "unknown --cache 'disk'" in err
