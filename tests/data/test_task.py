"""Tasks: inference from labels, encoding, decoding (hierarchies stay consistent), JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from foveal.data.load import load_dataset
from foveal.data.task import (
    BinaryTask,
    HierarchicalTask,
    MulticlassTask,
    MultilabelTask,
    Task,
    infer_task,
    task_from_json,
)
from foveal.errors import ConfigError, DataError

# --- infer_task --------------------------------------------------------------------


@pytest.mark.parametrize("labels, kind, classes", [
    (["dog", "cat", "dog"], "binary", ["cat", "dog"]),
    (["b", "a", "c", "a"], "multiclass", ["a", "b", "c"]),
    ([["a", "b"], [], ["c"]], "multilabel", ["a", "b", "c"]),
    (["x/p", "x/q", "y"], "hierarchical", ["x/p", "x/q", "y"]),
    (["Zebra", "apple", "Bee"], "multiclass", ["Bee", "Zebra", "apple"]),
])
def test_auto_inference(labels, kind: str, classes: list[str]) -> None:
    task = infer_task(labels)
    assert task.type == kind and task.classes == classes


@pytest.mark.parametrize("labels, requested, cls", [
    (["a", "b"], "multiclass", MulticlassTask),
    (["a", "b"], "binary", BinaryTask),
    (["a", "b", "c"], "hierarchical", HierarchicalTask),
    (["a", "b"], "multilabel", MultilabelTask),
    ([["a"], ["b"]], "multilabel", MultilabelTask),
])
def test_explicit_task_wins(labels, requested: str, cls: type) -> None:
    task = infer_task(labels, requested)
    assert type(task) is cls and task.type == requested


@pytest.mark.parametrize("labels, requested, message", [
    (["a", "b", "c"], "binary", "--task binary given, but the data has 3 classes"),
    ([["a", "b"], ["c"]], "multiclass", "several labels per image"),
    ([["a", "b"], ["c"]], "binary", "several labels per image"),
    ([["a", "b"], ["c"]], "hierarchical", "several labels per image"),
    (["a", "b"], "regression", "unknown task 'regression'"),
])
def test_contradictions_are_config_errors(labels, requested: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        infer_task(labels, requested)
    assert " — " in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("labels", [["only", "only"], []])
def test_fewer_than_two_classes(labels) -> None:
    with pytest.raises(DataError, match="at least two classes"):
        infer_task(labels)


def test_multilabel_without_any_label() -> None:
    with pytest.raises(DataError, match="has no labels") as err:
        infer_task([[], []])
    assert " — " in str(err.value)
    assert infer_task([[], ["a"]]).classes == ["a"]  # one label is enough for multi-label


@pytest.mark.parametrize("classes, message", [
    (["a", "a/b"], "'a' is both a class and a parent of 'a/b'"),
    (["x/y", "x/y/z", "w"], "'x/y' is both a class and a parent of 'x/y/z'"),
    (["a//b", "c"], "empty level"),
    (["/a", "c"], "empty level"),
])
def test_bad_taxonomies(classes: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        HierarchicalTask(classes)
    with pytest.raises(DataError, match=message):
        infer_task(classes)


# --- encode / decode -----------------------------------------------------------------


def test_single_label_encode_decode() -> None:
    task = MulticlassTask(["a", "b", "c"])
    assert task.encode(["c", "a", "b", "c"]).tolist() == [2, 0, 1, 2]
    assert task.encode(["c"]).dtype == np.int64
    proba = np.array([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]])
    preds = task.decode(proba, top_k=2)
    assert [p.label for p in preds] == ["b", "a"]
    assert preds[0].top_k == [("b", 0.7), ("c", 0.2)]
    assert preds[1].scores == {"a": 0.5, "b": 0.1, "c": 0.4}
    assert len(task.decode(proba, top_k=10)[0].top_k) == 3
    # decode inverts encode for one-hot rows
    labels = ["b", "c", "a", "a"]
    assert [p.label for p in task.decode(np.eye(3)[task.encode(labels)])] == labels


def test_binary_positive_class() -> None:
    task = infer_task(["no", "yes", "no"])
    assert isinstance(task, BinaryTask) and task.positive == "yes"
    assert task.encode(["yes", "no"]).tolist() == [1, 0]


def test_encode_unknown_label() -> None:
    with pytest.raises(DataError, match="does not know: zebra"):
        MulticlassTask(["a", "b"]).encode(["a", "zebra"])
    with pytest.raises(DataError, match="does not know: zebra"):
        MultilabelTask(["a", "b"]).encode([["a"], ["zebra"]])


def test_multilabel_encode_decode_with_thresholds() -> None:
    task = MultilabelTask(["a", "b", "c"], thresholds=[0.5, 0.2, 0.9])
    y = task.encode([["a", "c"], [], ["b"]])
    assert y.tolist() == [[1, 0, 1], [0, 0, 0], [0, 1, 0]]
    preds = task.decode(np.array([[0.6, 0.3, 0.8], [0.1, 0.1, 0.95], [0.49, 0.19, 0.0]]))
    assert preds[0].label == ["a", "b"]  # c is under its 0.9 threshold
    assert preds[1].label == ["c"]
    assert preds[2].label == []
    assert preds[0].top_k == [("c", 0.8)]  # top-k ranks by probability, thresholds aside


def test_stratify_keys() -> None:
    assert MultilabelTask(["a", "b"]).stratify_keys([["b", "a"], []]) == ["a|b", ""]
    assert MulticlassTask(["a", "b"]).stratify_keys(["b", "a"]) == ["b", "a"]


TREE = ["animal/bird", "animal/mammal/cat", "animal/mammal/dog", "animal/mammal/primate/human",
        "plant", "vehicle/car/sedan", "vehicle/car/suv", "vehicle/bike"]


def test_hierarchical_decode_picks_branch_by_total_probability() -> None:
    task = HierarchicalTask(TREE)
    assert task.depth == 4
    proba = np.zeros(len(TREE))
    # the most probable leaf is 'plant', but 'animal' as a whole is more likely; under it,
    # 'animal/bird' beats every mammal leaf, but the mammals together beat the bird
    proba[TREE.index("plant")] = 0.40
    proba[TREE.index("animal/bird")] = 0.25
    proba[TREE.index("animal/mammal/cat")] = 0.20
    proba[TREE.index("animal/mammal/dog")] = 0.15
    (pred,) = task.decode(proba[None], top_k=2)
    assert pred.label == "animal/mammal/cat"
    assert pred.scores == pytest.approx({"animal": 0.60, "animal/mammal": 0.35, "animal/mammal/cat": 0.20})
    assert pred.top_k[0] == ("plant", 0.40)


def test_hierarchical_decode_property_random_vectors() -> None:
    """Every decoded path is a class and its per-level scores never increase."""
    task = HierarchicalTask(TREE)
    rng = np.random.default_rng(0)
    dense = rng.dirichlet(np.full(len(TREE), 0.3), size=400)
    sparse = dense * (rng.random(dense.shape) < 0.3)  # many exact zeros and whole-branch zeros
    ties = np.full((5, len(TREE)), 1.0 / len(TREE))
    unnormalised = rng.random((100, len(TREE)))
    proba = np.vstack([dense, sparse, ties, unnormalised, np.zeros((1, len(TREE)))])
    seen = set()
    for row, pred in zip(proba, task.decode(proba, top_k=3)):
        assert pred.label in TREE
        seen.add(pred.label)
        parts = pred.label.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        assert list(pred.scores) == prefixes
        values = [pred.scores[p] for p in prefixes]
        assert all(a >= b for a, b in zip(values, values[1:])), (row, pred.scores)
        # each level's score is the summed probability of the leaves below that node
        for prefix, value in pred.scores.items():
            below = [p for c, p in zip(TREE, row) if c == prefix or c.startswith(prefix + "/")]
            assert value == pytest.approx(sum(below))
        # and it is the best sibling at that level
        for depth, prefix in enumerate(prefixes):
            parent = prefixes[depth - 1] + "/" if depth else ""
            siblings: dict[str, float] = {}
            for c, p in zip(TREE, row):
                if c.startswith(parent):
                    node = parent + c[len(parent):].split("/")[0]
                    siblings[node] = siblings.get(node, 0.0) + p
            assert pred.scores[prefix] == pytest.approx(max(siblings.values()))
    assert len(seen) >= 6  # the random vectors reach most of the tree, deep and shallow leaves alike


def test_hierarchical_node_probabilities() -> None:
    task = HierarchicalTask(TREE)
    proba = np.random.default_rng(1).dirichlet(np.ones(len(TREE)), size=4)
    nodes, summed = task.node_probabilities(proba, 1)
    assert nodes == ["animal", "plant", "vehicle"]
    np.testing.assert_allclose(summed.sum(axis=1), 1.0)
    np.testing.assert_allclose(summed[:, 0], proba[:, :4].sum(axis=1))


# --- JSON round trip -------------------------------------------------------------------


@pytest.mark.parametrize("task", [
    BinaryTask(["background", "face"]),
    MulticlassTask(["Bee", "Zebra", "apple"]),
    MultilabelTask(["a", "b", "c"], thresholds=[0.3, 0.5, 0.75]),
    HierarchicalTask(TREE),
], ids=lambda t: t.type)
def test_json_round_trip(task: Task) -> None:
    stored = json.loads(json.dumps(task.to_json()))
    again = task_from_json(stored)
    assert type(again) is type(task)
    assert again.type == task.type and again.classes == task.classes
    assert again.to_json() == task.to_json()
    if isinstance(task, MultilabelTask):
        assert again.thresholds.tolist() == [0.3, 0.5, 0.75]
    if isinstance(task, HierarchicalTask):
        assert stored["taxonomy"]["animal"]["mammal"]["primate"] == {"human": {}}


def test_unknown_task_type_in_json() -> None:
    with pytest.raises(ConfigError, match="unknown task type 'regression'"):
        task_from_json({"type": "regression", "classes": ["a"]})


def test_tasks_of_builtin_datasets_round_trip() -> None:
    for name in ("faces", "multidigits", "digit-taxonomy"):
        task = load_dataset(name).task
        assert task_from_json(json.loads(json.dumps(task.to_json()))).classes == task.classes
