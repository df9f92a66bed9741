"""Every metric foveal reports equals scikit-learn's on the same predictions; the ones
scikit-learn lacks (ECE, hierarchical P/R/F1, mistake severity) are checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from foveal.data.task import BinaryTask, HierarchicalTask, MulticlassTask, MultilabelTask, task_from_json
from foveal.evaluation.calibration import ece, reliability_bins
from foveal.evaluation.hierarchy import hierarchical_prf, mistake_severity, tree_distance
from foveal.evaluation.metrics import evaluate_predictions
from foveal.evaluation.thresholds import best_f1, choose_threshold, youden

RNG = np.random.default_rng(7)


def _proba(n: int, k: int, y: np.ndarray, sharp: float = 2.0) -> np.ndarray:
    """Noisy but informative probabilities: a Dirichlet draw tilted toward the true class."""
    alpha = np.ones((n, k))
    alpha[np.arange(n), y] += sharp
    return np.vstack([RNG.dirichlet(a) for a in alpha])


def test_multiclass_matches_sklearn():
    classes = list("abcdef")
    y = np.tile(np.arange(6), 15)
    proba = _proba(len(y), 6, y)
    result = evaluate_predictions(MulticlassTask(classes), [classes[i] for i in y], proba)
    m, pred, labels = result["metrics"], proba.argmax(1), np.arange(6)
    assert result["task"] == "multiclass" and result["n"] == 90
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "macro_precision": skm.precision_score(y, pred, average="macro", zero_division=0),
        "macro_recall": skm.recall_score(y, pred, average="macro", zero_division=0),
        "macro_f1": skm.f1_score(y, pred, average="macro", zero_division=0),
        "weighted_f1": skm.f1_score(y, pred, average="weighted", zero_division=0),
        "weighted_precision": skm.precision_score(y, pred, average="weighted", zero_division=0),
        "cohen_kappa": skm.cohen_kappa_score(y, pred),
        "matthews_corrcoef": skm.matthews_corrcoef(y, pred),
        "top3_accuracy": skm.top_k_accuracy_score(y, proba, k=3, labels=labels),
        "top5_accuracy": skm.top_k_accuracy_score(y, proba, k=5, labels=labels),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels),
        "weighted_roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=labels),
        "brier": skm.brier_score_loss(y, proba, labels=labels),
        "log_loss": skm.log_loss(y, proba, labels=labels),
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, abs=1e-12), name
    cm = skm.confusion_matrix(y, pred, labels=labels)
    assert result["confusion_matrix"] == cm.tolist()
    assert np.allclose(result["confusion_matrix_normalized"], cm / cm.sum(1, keepdims=True), atol=1e-6)
    f1 = skm.f1_score(y, pred, average=None)
    assert [result["per_class"][c]["f1"] for c in classes] == pytest.approx(f1)
    assert [result["per_class"][c]["support"] for c in classes] == [15] * 6
    worst = result["most_confused"][0]
    off = cm - np.diag(np.diag(cm))
    assert worst["count"] == off.max()
    assert cm[classes.index(worst["true"]), classes.index(worst["predicted"])] == off.max()


def test_multiclass_absent_class_skips_undefined_auc():
    task = MulticlassTask(["a", "b", "c"])
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    m = evaluate_predictions(task, ["a", "b", "a"], proba)["metrics"]
    assert "roc_auc" not in m and m["accuracy"] == 1.0 and "top3_accuracy" not in m


def test_binary_matches_sklearn_and_threshold_analysis():
    y = np.array([0] * 30 + [1] * 20)
    score = np.clip(0.35 * y + RNG.uniform(0, 0.65, len(y)), 0, 1)
    proba = np.column_stack([1 - score, score])
    task = BinaryTask(["neg", "pos"])
    result = evaluate_predictions(task, [task.classes[i] for i in y], proba)
    m, pred = result["metrics"], proba.argmax(1)
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert m["average_precision"] == pytest.approx(skm.average_precision_score(y, score))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, score))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    # best F1 and Youden's J: compare against brute force over every distinct score
    f1s = {t: skm.f1_score(y, score >= t) for t in np.unique(score)}
    js = {t: skm.recall_score(y, score >= t) - np.mean(score[y == 0] >= t) for t in np.unique(score)}
    t = result["thresholds"]
    assert t["best_f1"]["f1"] == pytest.approx(max(f1s.values()))
    assert f1s[t["best_f1"]["threshold"]] == pytest.approx(max(f1s.values()))
    assert t["youden"]["j"] == pytest.approx(max(js.values()))
    assert js[t["youden"]["threshold"]] == pytest.approx(max(js.values()))
    row = next(g for g in t["grid"] if g["threshold"] == 0.5)
    assert row["f1"] == pytest.approx(skm.f1_score(y, score >= 0.5))
    assert choose_threshold("best-f1", y, score) == best_f1(y, score)["threshold"]
    assert choose_threshold("youden", y, score) == youden(y, score)["threshold"]
    assert choose_threshold("0.3", y, score) == 0.3


def test_binary_decision_threshold_changes_decisions_everywhere():
    task = BinaryTask(["neg", "pos"], decision_threshold=0.2)
    proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6]])
    assert [p.label for p in task.decode(proba)] == ["neg", "pos", "pos"]
    assert task_from_json(task.to_json()).decision_threshold == 0.2
    assert "decision_threshold" not in BinaryTask(["neg", "pos"]).to_json()  # unchanged shape without one
    result = evaluate_predictions(task, ["neg", "pos", "pos"], proba)
    assert result["metrics"]["accuracy"] == 1.0 and result["decision_threshold"] == 0.2


def test_multilabel_matches_sklearn():
    classes = ["a", "b", "c", "d"]
    y = (RNG.uniform(size=(80, 4)) < 0.4).astype(int)
    y[0] = [1, 1, 1, 1]
    y[1] = 0
    proba = np.clip(0.5 * y + RNG.uniform(0, 0.55, y.shape), 0, 1)
    labels = [[c for c, v in zip(classes, row) if v] for row in y]
    result = evaluate_predictions(MultilabelTask(classes), labels, proba)
    m, pred = result["metrics"], (proba >= 0.5).astype(int)
    assert m["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred))
    for avg in ("micro", "macro", "samples"):
        assert m[f"{avg}_f1"] == pytest.approx(skm.f1_score(y, pred, average=avg, zero_division=0))
        assert m[f"{avg}_precision"] == pytest.approx(skm.precision_score(y, pred, average=avg, zero_division=0))
    ap = [skm.average_precision_score(y[:, j], proba[:, j]) for j in range(4)]
    assert m["map"] == pytest.approx(np.mean(ap))
    assert [result["per_label"][c]["ap"] for c in classes] == pytest.approx(ap)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, average="macro"))
    assert m["brier"] == pytest.approx(np.mean([skm.brier_score_loss(y[:, j], proba[:, j]) for j in range(4)]))
    assert m["label_cardinality"] == pytest.approx(y.sum(1).mean())
    assert m["predicted_label_cardinality"] == pytest.approx(pred.sum(1).mean())


def test_ece_by_hand():
    # top-label confidences 0.95 ✓, 0.96 ✗ (same bin), 0.85 ✗, 0.75 ✓, 0.62 ✗ — 15 equal-width bins
    conf = np.array([0.95, 0.96, 0.85, 0.75, 0.62])
    truth_is_top = np.array([True, False, False, True, False])
    proba = np.column_stack([conf, 1 - conf])
    y = np.where(truth_is_top, 0, 1)
    expected = (2 * abs(0.5 - 0.955) + 0.85 + 0.25 + 0.62) / 5
    assert ece(y, proba) == pytest.approx(expected)
    assert ece(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 1.0]])) == 0.0


def test_reliability_bins_match_sklearn_calibration_curve():
    p = RNG.uniform(size=300)
    y = (RNG.uniform(size=300) < p ** 1.5).astype(int)
    bins = reliability_bins(p, y, n_bins=15)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=15, strategy="uniform")
    assert [b["accuracy"] for b in bins] == pytest.approx(prob_true)
    assert [b["confidence"] for b in bins] == pytest.approx(prob_pred)
    assert sum(b["count"] for b in bins) == 300


def test_hierarchical_by_hand():
    truth = ["a/x", "b/z", "c", "a/y"]
    guess = ["a/y", "a/x", "a/x", "a/y"]
    prf = hierarchical_prf(truth, guess)  # intersections 1+0+0+2=3, |pred| 8, |true| 7
    assert prf["hierarchical_precision"] == pytest.approx(3 / 8)
    assert prf["hierarchical_recall"] == pytest.approx(3 / 7)
    assert prf["hierarchical_f1"] == pytest.approx(0.4)
    assert [tree_distance(t, g) for t, g in zip(truth, guess)] == [2, 4, 3, 0]
    severity, counts = mistake_severity(truth, guess)
    assert severity == {"mistake_severity": 3.0, "mean_tree_distance": 2.25}
    assert counts == {"2": 1, "3": 1, "4": 1}


def test_hierarchical_evaluation_uses_tree_decoding():
    task = HierarchicalTask(["a/x", "a/y", "b/z", "c"])
    # row 2: leaf b/z is the single most probable leaf, but branch a holds more mass → a/x
    proba = np.array([[0.1, 0.8, 0.05, 0.05], [0.35, 0.2, 0.4, 0.05], [0.6, 0.1, 0.1, 0.2], [0.0, 1.0, 0.0, 0.0]])
    result = evaluate_predictions(task, ["a/x", "b/z", "c", "a/y"], proba)
    m = result["metrics"]
    assert m["accuracy"] == 0.25 and m["level_1_accuracy"] == 0.5 and m["level_2_accuracy"] == 1 / 3
    assert m["hierarchical_f1"] == pytest.approx(0.4) and m["mistake_severity"] == 3.0
    assert result["mistake_severity_counts"] == {"2": 1, "3": 1, "4": 1}
    assert m["cohen_kappa"] == pytest.approx(skm.cohen_kappa_score([0, 2, 3, 1], [1, 0, 0, 1], labels=range(4)))
