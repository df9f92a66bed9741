"""Tasks: what is predicted, how targets are encoded and predictions decoded.

One task object owns the class names (or taxonomy), target encoding for
estimators, decoding of probabilities into predictions, and the JSON form
stored in a bundle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from foveal.errors import ConfigError, DataError

TASK_TYPES = ("binary", "multiclass", "multilabel", "hierarchical")
PATH_SEP = "/"


@dataclass
class Prediction:
    """One decoded prediction: ``label`` is a class, a leaf path, or a list of labels."""

    label: str | list[str]
    scores: dict[str, float]
    top_k: list[tuple[str, float]] = field(default_factory=list)


class Task(ABC):
    """Base class; subclasses fix ``type``."""

    type: str = ""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self._index = {c: i for i, c in enumerate(self.classes)}

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_json(self) -> dict:
        return {"type": self.type, "classes": self.classes}

    def unknown_labels(self, labels: Sequence) -> list[str]:
        """Labels in ``labels`` that this task does not know."""
        seen = set()
        for value in labels:
            seen.update(value if isinstance(value, list) else [value])
        return sorted(seen - set(self._index))

    def check_known(self, labels: Sequence, where: str) -> None:
        unknown = self.unknown_labels(labels)
        if unknown:
            shown = ", ".join(unknown[:8]) + (" …" if len(unknown) > 8 else "")
            raise DataError(
                f"{where} has labels the model does not know: {shown}",
                f"use data labelled with the model's classes ({', '.join(self.classes[:8])}"
                f"{' …' if self.n_classes > 8 else ''})",
            )

    @abstractmethod
    def encode(self, labels: Sequence) -> np.ndarray:
        """Targets for an estimator: class indices, or an indicator matrix."""

    @abstractmethod
    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        """Turn an (n, n_classes) probability matrix into predictions."""

    def stratify_keys(self, labels: Sequence) -> list[str]:
        """One string per sample to stratify splits on."""
        return [str(v) for v in labels]


class SingleLabelTask(Task):
    """One class per image (binary and multiclass)."""

    def encode(self, labels: Sequence[str]) -> np.ndarray:
        self.check_known(labels, "the data")
        return np.array([self._index[v] for v in labels], dtype=np.int64)

    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        out = []
        k = max(1, min(top_k, self.n_classes))
        for row in proba:
            order = np.argsort(-row, kind="stable")
            scores = {self.classes[i]: float(row[i]) for i in order}
            top = [(self.classes[i], float(row[i])) for i in order[:k]]
            out.append(Prediction(label=top[0][0], scores=scores, top_k=top))
        return out


class BinaryTask(SingleLabelTask):
    """Two classes; the second (in sorted order) is the positive class.

    ``decision_threshold`` (set by ``foveal eval --save-threshold``) makes the
    positive class win when its probability is at least the threshold; without
    one the more probable class wins.
    """

    type = "binary"

    def __init__(self, classes: Sequence[str], decision_threshold: float | None = None) -> None:
        super().__init__(classes)
        self.decision_threshold = None if decision_threshold is None else float(decision_threshold)

    @property
    def positive(self) -> str:
        return self.classes[1]

    def to_json(self) -> dict:
        out = super().to_json()
        if self.decision_threshold is not None:
            out["decision_threshold"] = self.decision_threshold
        return out

    def predicted_indices(self, proba: np.ndarray) -> np.ndarray:
        """0/1 per row: the threshold on the positive class when set, else argmax."""
        if self.decision_threshold is None:
            return np.argmax(proba, axis=1)
        return (proba[:, 1] >= self.decision_threshold).astype(np.int64)

    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        out = super().decode(proba, top_k)
        if self.decision_threshold is not None:
            for pred, index in zip(out, self.predicted_indices(proba)):
                pred.label = self.classes[int(index)]
        return out


class MulticlassTask(SingleLabelTask):
    type = "multiclass"


class MultilabelTask(Task):
    """Any subset of labels per image, each with its own decision threshold."""

    type = "multilabel"

    def __init__(self, classes: Sequence[str], thresholds: Sequence[float] | None = None) -> None:
        super().__init__(classes)
        self.thresholds = np.asarray(
            thresholds if thresholds is not None else [0.5] * len(self.classes), dtype=float
        )

    def to_json(self) -> dict:
        return {**super().to_json(), "thresholds": [float(t) for t in self.thresholds]}

    def encode(self, labels: Sequence[list[str]]) -> np.ndarray:
        self.check_known(labels, "the data")
        y = np.zeros((len(labels), self.n_classes), dtype=np.int64)
        for row, names in enumerate(labels):
            for name in [names] if isinstance(names, str) else names:
                y[row, self._index[name]] = 1
        return y

    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        out = []
        for row in proba:
            order = np.argsort(-row, kind="stable")
            chosen = [self.classes[i] for i in order if row[i] >= self.thresholds[i]]
            scores = {self.classes[i]: float(row[i]) for i in order}
            top = [(self.classes[i], float(row[i])) for i in order[: max(1, top_k)]]
            out.append(Prediction(label=chosen, scores=scores, top_k=top))
        return out

    def stratify_keys(self, labels: Sequence[list[str]]) -> list[str]:
        return ["|".join(sorted(v)) for v in labels]


class HierarchicalTask(SingleLabelTask):
    """Leaf paths like ``vehicle/car/sedan``; predictions are always consistent paths.

    The estimator predicts a distribution over leaves. Decoding walks the tree
    top-down, at each level choosing the child with the largest total
    probability of the leaves beneath it, so a path never mixes branches.
    """

    type = "hierarchical"

    def __init__(self, classes: Sequence[str]) -> None:
        super().__init__(classes)
        self._check_tree()
        self.depth = max(len(c.split(PATH_SEP)) for c in self.classes)

    def _check_tree(self) -> None:
        leaves = set(self.classes)
        for leaf in self.classes:
            parts = leaf.split(PATH_SEP)
            if any(not p for p in parts):
                raise DataError(f"hierarchical label {leaf!r} has an empty level", "write paths like 'a/b/c'")
            for i in range(1, len(parts)):
                prefix = PATH_SEP.join(parts[:i])
                if prefix in leaves:
                    raise DataError(
                        f"{prefix!r} is both a class and a parent of {leaf!r}",
                        f"move the images labelled {prefix!r} into a child class such as '{prefix}/other'",
                    )

    def to_json(self) -> dict:
        return {**super().to_json(), "taxonomy": self.taxonomy()}

    def taxonomy(self) -> dict:
        """The tree as nested dicts (leaves map to empty dicts)."""
        tree: dict = {}
        for leaf in self.classes:
            node = tree
            for part in leaf.split(PATH_SEP):
                node = node.setdefault(part, {})
        return tree

    def node_probabilities(self, proba: np.ndarray, level: int) -> tuple[list[str], np.ndarray]:
        """Node names at ``level`` (1-based) and their summed leaf probabilities."""
        nodes = sorted({PATH_SEP.join(c.split(PATH_SEP)[:level]) for c in self.classes})
        index = {n: i for i, n in enumerate(nodes)}
        matrix = np.zeros((self.n_classes, len(nodes)))
        for j, leaf in enumerate(self.classes):
            matrix[j, index[PATH_SEP.join(leaf.split(PATH_SEP)[:level])]] = 1.0
        return nodes, proba @ matrix

    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        leaf_parts = [c.split(PATH_SEP) for c in self.classes]
        out = []
        for row in proba:
            prefix: list[str] = []
            scores: dict[str, float] = {}
            while True:
                totals: dict[str, float] = {}
                for parts, p in zip(leaf_parts, row):
                    if len(parts) > len(prefix) and parts[: len(prefix)] == prefix:
                        child = parts[len(prefix)]
                        totals[child] = totals.get(child, 0.0) + float(p)
                if not totals:
                    break
                best = max(sorted(totals), key=totals.__getitem__)
                prefix.append(best)
                scores[PATH_SEP.join(prefix)] = totals[best]
            order = np.argsort(-row, kind="stable")
            top = [(self.classes[i], float(row[i])) for i in order[: max(1, top_k)]]
            out.append(Prediction(label=PATH_SEP.join(prefix), scores=scores, top_k=top))
        return out


class UnlabeledTask(Task):
    """Images without labels (pretraining, embeddings, clustering): no classes to encode or decode."""

    type = "unlabeled"

    def __init__(self) -> None:
        super().__init__([])

    def check_known(self, labels: Sequence, where: str) -> None:
        """Any labels a source happens to carry are kept for reference, never checked."""

    def encode(self, labels: Sequence) -> np.ndarray:
        return np.zeros(len(labels), dtype=np.int64)

    def decode(self, proba: np.ndarray, top_k: int = 1) -> list[Prediction]:
        raise ConfigError("unlabelled data has no classes to predict", "train a classifier on labelled data")

    def stratify_keys(self, labels: Sequence) -> list[str]:
        return [""] * len(labels)


def task_from_json(data: dict) -> Task:
    """Rebuild a task stored in a bundle."""
    kind = data.get("type")
    if kind == "multilabel":
        return MultilabelTask(data["classes"], data.get("thresholds"))
    if kind == "hierarchical":
        return HierarchicalTask(data["classes"])
    if kind == "binary":
        return BinaryTask(data["classes"], data.get("decision_threshold"))
    if kind == "multiclass":
        return MulticlassTask(data["classes"])
    raise ConfigError(f"unknown task type {kind!r}", f"use one of {', '.join(TASK_TYPES)}")


def infer_task(labels: Sequence, requested: str = "auto") -> Task:
    """Build the task for ``labels``; an explicit ``requested`` type wins over inference.

    Labels are strings (single-label; ``a/b`` paths for hierarchies) or lists of
    strings (multi-label).
    """
    if requested not in ("auto", *TASK_TYPES):
        raise ConfigError(f"unknown task {requested!r}", f"use auto, {', '.join(TASK_TYPES)}")
    multi = any(isinstance(v, list) for v in labels)
    if multi or requested == "multilabel":
        if requested not in ("auto", "multilabel"):
            raise ConfigError(
                f"--task {requested} given, but the data has several labels per image",
                "use --task multilabel (or auto), or give one label per image",
            )
        names = sorted({n for v in labels for n in (v if isinstance(v, list) else [v])})
        if not names:
            raise DataError("the data has no labels (every image has an empty label list)",
                            "label at least some images; a classifier needs classes")
        return MultilabelTask(names)
    classes = sorted(set(labels))
    if requested == "hierarchical" or (requested == "auto" and any(PATH_SEP in c for c in classes)):
        return HierarchicalTask(classes)
    if len(classes) < 2:
        raise DataError(
            f"the data has {len(classes)} class{'es' if len(classes) != 1 else ''}"
            f"{': ' + classes[0] if classes else ''}",
            "a classifier needs at least two classes",
        )
    if requested == "binary" and len(classes) != 2:
        raise ConfigError(f"--task binary given, but the data has {len(classes)} classes", "use --task multiclass")
    if requested == "multiclass" or len(classes) > 2:
        return MulticlassTask(classes)
    return BinaryTask(classes)
