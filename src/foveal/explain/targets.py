"""What an explanation explains: the "score space" of a task and the targets chosen in it.

Single-label and multi-label tasks explain their classes. Hierarchical tasks explain every node of
the label tree (``loops`` and ``loops/8``): a node's probability is the sum of its leaves', its
score the log-sum-exp of its leaves' log-probabilities, so each level of a predicted path gets a map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foveal.data.task import PATH_SEP, Task
from foveal.errors import ConfigError


@dataclass(frozen=True)
class ScoreSpace:
    """The names a target can take and, for trees, which leaves (task classes) each node holds."""

    names: list[str]
    members: np.ndarray | None = None  # (n_names, n_classes) bool; None: names are the classes

    def proba(self, proba: np.ndarray) -> np.ndarray:
        """Probabilities (n, n_names) from the task's (n, n_classes)."""
        return proba if self.members is None else proba @ self.members.T.astype(proba.dtype)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            shown = ", ".join(self.names[:10]) + (" …" if len(self.names) > 10 else "")
            raise ConfigError(f"--target {name!r} is not a class of this model", f"use one of {shown}") from None


def score_space(task: Task) -> ScoreSpace:
    if task.type != "hierarchical":
        return ScoreSpace(list(task.classes))
    parts = [leaf.split(PATH_SEP) for leaf in task.classes]
    nodes = sorted({PATH_SEP.join(p[:i]) for p in parts for i in range(1, len(p) + 1)},
                   key=lambda n: (n.count(PATH_SEP), n))
    members = np.array([[leaf == n or leaf.startswith(n + PATH_SEP) for leaf in task.classes] for n in nodes])
    return ScoreSpace(nodes, members)


def chosen_targets(task: Task, space: ScoreSpace, proba: np.ndarray, target: str | None = None) -> list[list[int]]:
    """Per image, the target indices to explain: ``target`` when given; else the prediction — one
    map per predicted label (multi-label; the top label when none passes its threshold) or per level
    of the predicted path (hierarchical)."""
    if target is not None:
        return [[space.index(target)] for _ in range(len(proba))]
    out = []
    for row, prediction in zip(proba, task.decode(proba)):
        label = prediction.label
        if task.type == "multilabel":
            names = list(label) or [task.classes[int(np.argmax(row))]]
        elif task.type == "hierarchical":
            steps = label.split(PATH_SEP)
            names = [PATH_SEP.join(steps[:i]) for i in range(1, len(steps) + 1)]
        else:
            names = [label]
        out.append([space.index(n) for n in names])
    return out
