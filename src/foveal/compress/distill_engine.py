"""The ``distill`` training engine: a student of a teacher bundle, through the ordinary run pipeline
(same flags, run folder, report, resume).

- Deep students (cnn-small, timm names) train with the deep engine's loop; the loss adds the
  teacher's softened probabilities on the same augmented batch (``foveal.compress.distill``).
- Classical students (``decision-tree``, ``logistic``, … on a feature set) are fitted to the
  teacher's decisions; the run reports fidelity (agreement with the teacher) next to accuracy, and
  a tree's rules (``rules.txt``, ``distill.html``).

The student uses the teacher's preprocessing (size and channels), so both see the same pixels.
The bundle's lineage names the teacher (operation ``distill``).
"""

from __future__ import annotations

import os

from foveal.config import DISTILL, TrainConfig
from foveal.errors import ConfigError
from foveal.runs.classical import ClassicalEngine
from foveal.runs.deep import DeepEngine
from foveal.runs.engines import Fitted, engine_scopes


def load_teacher(path) -> object:
    from foveal.bundle import load_bundle

    teacher = load_bundle(path)
    if getattr(teacher, "task", None) is None:
        raise ConfigError(f"--teacher {path} has no classifier (a backbone bundle)", "give a trained classifier bundle")
    return teacher


def teacher_preprocessing(teacher):
    """The student's preprocessing: the teacher's size and channels (deep students compute their own mean/std)."""
    from dataclasses import replace

    return replace(teacher.preprocessing, mean=None, std=None)


def check_same_task(teacher, task) -> None:
    if task.type != teacher.task.type or list(task.classes) != list(teacher.task.classes):
        raise ConfigError(f"the data's task ({task.type}, {len(task.classes)} classes) differs from the teacher's "
                          f"({teacher.task.type}, {len(teacher.task.classes)} classes)",
                          "distil on data labelled with the teacher's classes")


def fidelity_summary(teacher, student_model, data) -> dict:
    """Agreement of student and teacher decisions, and the student's accuracy, on the validation part."""
    from foveal.compress.distill import agreement
    from foveal.evaluation.metrics import evaluate_predictions, headline

    images = data.val.loaded.images
    if len(images) == 0:
        return {"teacher": str(teacher.path)}
    student = student_model.predict_proba(images)
    teacher_proba = teacher.predict_proba(images)
    labels = data.val.labels()
    mine = headline(evaluate_predictions(data.task, labels, student))
    theirs = headline(evaluate_predictions(data.task, labels, teacher_proba))
    metric = next(iter(mine))
    return {"teacher": str(teacher.path), "split": "val", "n": len(images),
            "fidelity": agreement(data.task, teacher_proba, student), "metric": metric,
            "student_score": float(mine[metric]), "teacher_score": float(theirs[metric])}


class DeepStudent(DeepEngine):
    """The deep engine with the teacher riding along the training network."""

    def __init__(self, teacher) -> None:
        super().__init__()
        self.teacher = teacher

    def prepare(self, cfg: TrainConfig, loop) -> None:
        from foveal.compress.distill import DistillParts, teacher_scores_fn

        parts = loop.parts
        size = tuple(int(s) for s in self.teacher.preprocessing.size)
        fn = teacher_scores_fn(self.teacher, parts.device, size)
        loop.parts = DistillParts.around(parts, fn, cfg.distill_temperature, cfg.alpha,
                                         self.teacher.task.type == "multilabel")


class ClassicalStudent(ClassicalEngine):
    """The classical engine fitted to the teacher's decisions instead of the labels."""

    def __init__(self, teacher) -> None:
        self.teacher = teacher

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted:
        from dataclasses import replace

        from foveal.runs.data import Part, RunData

        loaded = data.train.loaded
        decided = [p.label for p in self.teacher.predict(loaded.images)]
        labels = list(data.train.ds.labels)
        for row, i in enumerate(loaded.kept):
            labels[int(i)] = decided[row]
        train = Part(replace(data.train.ds, labels=labels), loaded)
        return super().fit(cfg, RunData(ds=data.ds, prep=data.prep, train=train, val=data.val), folder)


class DistillEngine:
    """``teacher`` + a deep or classical student, by the student's model name."""

    name = DISTILL

    def __init__(self) -> None:
        self.teacher = None
        self.student = None
        self.callbacks: list = []

    def check(self, cfg: TrainConfig) -> None:
        from foveal.classical.estimators import ESTIMATORS

        if not cfg.teacher:
            raise ConfigError("distillation needs a teacher bundle", "give TEACHER (foveal distill TEACHER DATA)")
        for name in ("image_size", "channels"):
            if getattr(cfg, name) != "auto":  # auto (also as config.yaml records it) follows the teacher
                raise ConfigError(f"--{name.replace('_', '-')} is fixed by the teacher for distillation",
                                  "drop it: the student sees the teacher's preprocessing")
        self.teacher = load_teacher(cfg.teacher)
        if cfg.model in ESTIMATORS:
            self.student = ClassicalStudent(self.teacher)
        else:
            self.student = DeepStudent(self.teacher)
            self.student.callbacks = self.callbacks
        self.student.check(cfg)

    def check_task(self, cfg: TrainConfig, task) -> None:
        check_same_task(self.teacher, task)
        self.student.check_task(cfg, task)

    def load(self, cfg: TrainConfig, ds, validation: bool = True):
        from foveal.runs.data import load_run_data, resolve_cache, training_pool

        prep = teacher_preprocessing(self.teacher)
        cache = "ram"
        if isinstance(self.student, DeepStudent):
            cache = resolve_cache(cfg.cache, len(training_pool(ds)), prep.size, prep.channels, ds.images is None)
        return load_run_data(cfg, ds, prep, cache, validation)

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted | None:
        from foveal.bundle.derive import parent_ref

        main = os.environ.get("RANK", "0") == "0"
        if folder is not None and main and not folder.ready:
            folder.create()
            folder.write_config(cfg, engine_scopes(cfg, DISTILL))
        fitted = self.student.fit(cfg, data, folder)
        if fitted is None:
            return None
        summary = {**fidelity_summary(self.teacher, fitted.model, data), "student_model": cfg.model}
        if isinstance(self.student, DeepStudent):
            summary.update(temperature=cfg.distill_temperature, alpha=cfg.alpha)
        else:
            summary.update(fitted_to="teacher decisions", rules=tree_rules(fitted.model.pipeline, data.task))
        fitted.parent = parent_ref(self.teacher.path, "distill")
        fitted.summary["distillation"] = summary
        fitted.notes.append(_note(summary))
        if folder is not None and main:
            from foveal.compress.distill_report import write_distill_files

            write_distill_files(folder.path, summary)
        return fitted


def _note(summary: dict) -> str:
    if "fidelity" not in summary:
        return f"distilled from {summary['teacher']} (no validation data to measure fidelity)"
    return (f"distilled from {summary['teacher']}: fidelity {summary['fidelity']:.4f} (agreement with the teacher "
            f"on {summary['n']} validation images) · student {summary['metric']} {summary['student_score']:.4f} · "
            f"teacher {summary['teacher_score']:.4f}")


def tree_rules(pipeline, task) -> str | None:
    """A decision tree's rules as text (scikit-learn's ``export_text``), or None for other estimators."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    clf = pipeline.steps[-1][1]
    if not isinstance(clf, DecisionTreeClassifier):
        return None
    try:
        names = [str(n) for n in pipeline[:-1].get_feature_names_out()]
    except (AttributeError, ValueError):
        names = None
    classes = [task.classes[int(c)] for c in clf.classes_]
    return export_text(clf, feature_names=names, class_names=classes, max_depth=12)
