"""`foveal audit` finds the gap planted in faces-biased; `--reweight` narrows it; the weights balance cells."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

import foveal
from foveal.audit.fairness import audit_outcomes, outcomes, run_audit
from foveal.data.export import export_dataset
from foveal.data.reweight import balancing_weights
from foveal.progress import quiet
from helpers import run_cli


def _forest(root: Path, **options) -> Path:
    with quiet():
        return foveal.train("faces-biased", model="random-forest", features="pixels", out=str(root), report=False,
                            seed=0, **options).bundle


@pytest.fixture(scope="module")
def forests(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("forests")
    return _forest(root / "plain"), _forest(root / "reweighted", reweight="tone")


def test_the_audit_finds_the_planted_gap(forests) -> None:
    result = run_audit(forests[0], "faces-biased", ["tone"], n_boot=50)
    dark, light = result["groups"]["dark"], result["groups"]["light"]
    assert (dark["n"], light["n"]) == (32, 28) and not dark["too_small"]
    assert light["accuracy"] - dark["accuracy"] >= 0.15
    gap = result["gaps"]["accuracy"]
    assert gap["worst_group"] == "dark" and gap["difference"] == pytest.approx(light["accuracy"] - dark["accuracy"])
    assert gap["difference_ci"][0] > 0  # the interval excludes "no gap"
    assert dark["ci"]["accuracy"][0] <= dark["accuracy"] <= dark["ci"]["accuracy"][1]
    assert {"demographic_parity_difference", "equalized_odds_difference"} <= set(result["gaps"])
    assert {"n", "accuracy", "recall", "false_positive_rate", "false_negative_rate", "selection_rate", "ece"} <= set(dark)


def test_reweighting_narrows_the_gap(forests) -> None:
    before = run_audit(forests[0], "faces-biased", ["tone"], n_boot=0)
    after = run_audit(forests[1], "faces-biased", ["tone"], n_boot=0)
    assert after["groups"]["dark"]["accuracy"] > before["groups"]["dark"]["accuracy"]
    assert after["gaps"]["accuracy"]["difference"] < before["gaps"]["accuracy"]["difference"]
    config = json.loads((forests[1] / "foveal.json").read_text())["lineage"]["config"]
    assert config["reweight"] == "tone"


def test_metrics_per_group_by_hand() -> None:
    from foveal.data.task import BinaryTask

    task = BinaryTask(["a", "b"])
    labels = ["a", "b", "b", "a", "b", "b"]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9], [0.4, 0.6]])
    result = audit_outcomes(outcomes(task, labels, proba), ["x", "x", "x", "y", "y", "z"], min_size=2, n_boot=0)
    x, y = result["groups"]["x"], result["groups"]["y"]
    assert x["accuracy"] == pytest.approx(2 / 3) and x["recall"] == 0.5 and x["false_positive_rate"] == 0.0
    assert y["accuracy"] == 0.5 and y["false_positive_rate"] == 1.0 and y["selection_rate"] == 1.0
    assert result["flagged"] == ["z"] and result["groups"]["z"]["too_small"]
    assert result["gaps"]["accuracy"] == {"difference": pytest.approx(1 / 6), "ratio": pytest.approx(0.75),
                                          "worst_group": "y", "best_group": "x"}


def test_audit_cli_on_a_manifest_with_columns(capsys, tmp_path, forests) -> None:
    with quiet():
        export_dataset(foveal.load_dataset("faces-biased"), tmp_path / "fb", "manifest")
    manifest = tmp_path / "fb" / "manifest.csv"
    code, stdout, err = run_cli(capsys, "audit", forests[0], manifest, "--by", "tone", "--json", tmp_path / "a.json",
                                "--report", tmp_path / "a.html", "--bootstrap", "50")
    assert code == 0, err
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["by"] == "tone" and set(result["groups"]) == {"dark", "light"}
    assert result["gaps"]["accuracy"]["worst_group"] == "dark"
    assert "foveal audit" in (tmp_path / "a.html").read_text()
    code, _, err = run_cli(capsys, "audit", forests[0], manifest, "--by", "site")
    assert code == 2 and "has no column 'site'" in err and "tone" in err
    code, _, err = run_cli(capsys, "audit", forests[0], manifest, "--by", "tone,split", "--min-size", "70",
                           "--json", tmp_path / "b.json")
    assert code == 0, err
    both = json.loads((tmp_path / "b.json").read_text())
    assert set(both["groups"]) == {"dark|test", "light|test"} and both["flagged"] == ["dark|test", "light|test"]


def test_balancing_weights_give_every_cell_the_same_total() -> None:
    groups = ["a"] * 8 + ["b"] * 2
    labels = ["x"] * 6 + ["y"] * 2 + ["x", "y"]
    w = balancing_weights(groups, labels)
    totals = Counter()
    for g, y, wi in zip(groups, labels, w):
        totals[g, y] += wi
    assert np.allclose(list(totals.values()), 2.5) and w.mean() == pytest.approx(1.0)
    assert np.allclose(balancing_weights(["a", None, ""], None), 1.0 / np.array([1, 2, 2]) / np.mean(1 / np.array([1, 2, 2])))


def test_reweight_refusals(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "train", "faces-biased", "--model", "knn", "--reweight", "tone", "--out", tmp_path / "r")
    assert code == 2 and "--reweight needs sample weights, which knn cannot take" in err
    code, _, err = run_cli(capsys, "train", "faces-biased", "--model", "svm", "--reweight", "site", "--out", tmp_path / "s")
    assert code == 2 and "no column 'site'" in err and not (tmp_path / "s").exists()


def test_weighted_losses_are_weighted_means() -> None:
    from foveal.data.task import HierarchicalTask, MulticlassTask, MultilabelTask
    from foveal.deep.heads import LossOptions, make_head

    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    single = make_head(MulticlassTask(list("abcd")), LossOptions(smoothing=0.1))
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    assert single.loss(logits, y, torch.ones(6)) == pytest.approx(single.loss(logits, y).item(), rel=1e-6)
    w = torch.tensor([1.0, 0, 0, 0, 0, 0])
    assert single.loss(logits, y, w) == pytest.approx(single.loss(logits[:1], y[:1]).item(), rel=1e-6)
    multi = make_head(MultilabelTask(list("abcd")), LossOptions())
    ym = (torch.rand(6, 4) > 0.5).float()
    assert multi.loss(logits, ym, torch.ones(6)) == pytest.approx(multi.loss(logits, ym).item(), rel=1e-6)
    tree = make_head(HierarchicalTask(["a/x", "a/y", "b/z"]), hierarchical_softmax=True)
    logits_tree = torch.randn(6, tree.n_outputs)
    yt = torch.tensor([0, 1, 2, 0, 1, 2])
    assert tree.loss(logits_tree, yt, torch.ones(6)) == pytest.approx(tree.loss(logits_tree, yt).item(), rel=1e-6)


def test_deep_training_takes_reweight(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "--quiet", "train", "faces-biased", "--model", "cnn-small", "--reweight", "tone",
                           "--epochs", "1", "--image-size", "16", "--batch-size", "32", "--out", tmp_path / "run",
                           "--no-report", "--workers", "1")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "model" / "foveal.json").read_text())["lineage"]["config"]["reweight"] == "tone"
