"""``foveal data issues``: likely label errors by confident learning (Northcutt et al., 2021) with
cleanlab's ``find_label_issues`` on out-of-fold probabilities — from a ``foveal cv`` run's
``oof.csv``, or from a cross-validation run made here.

Nothing of the user's is edited: the findings go to a CSV, an HTML gallery and, on request, a new
corrected manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.data.dataset import Dataset
from foveal.errors import ConfigError, DataError


@dataclass
class OutOfFold:
    """Probabilities (n, n_classes) for the samples ``rows`` of a dataset (indices into it)."""

    rows: np.ndarray
    proba: np.ndarray
    source: str = ""


@dataclass
class LabelIssues:
    ds: Dataset
    issues: list[dict]  # ranked: most likely wrong first
    n_checked: int
    source: str = ""
    rows: list[int] = field(default_factory=list)  # dataset index of each issue

    def to_json(self) -> dict:
        return {"data": self.ds.name, "n_checked": self.n_checked, "n_issues": len(self.issues),
                "oof": self.source, "issues": self.issues}


def read_oof(path: Path, ds: Dataset) -> OutOfFold:
    """An ``oof.csv`` (``path,label,fold,prediction,<class>…``) matched to ``ds`` by sample name."""
    from foveal.csvio import read_csv

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--oof {path} does not exist", "give the oof.csv a `foveal cv` run wrote")
    records = read_csv(path)
    classes = ds.task.classes
    if not records or any(c not in records[0] for c in classes):
        raise DataError(f"{path} has no probability column for every class of {ds.name}",
                        "cross-validate the same data: `foveal cv DATA …` writes a matching oof.csv")
    index = {ds.location(i): i for i in range(len(ds))}
    matched = [(index[r["path"]], r) for r in records if r.get("path") in index]
    if not matched:
        raise DataError(f"no row of {path} names a sample of {ds.name}", "give the oof.csv of a cv run on this data")
    rows = np.array([i for i, _ in matched])
    proba = np.array([[float(r[c]) for c in classes] for _, r in matched])
    return OutOfFold(rows, proba, str(path))


def oof_from_cv(cfg, folds: int) -> OutOfFold:
    """Run k-fold cross-validation (every sample, test split included) and read its out-of-fold file."""
    from dataclasses import replace

    from foveal.runs.cv import run_cv

    result = run_cv(replace(cfg, report=False), folds, include_test=True)
    from foveal.data.load import load_dataset

    return read_oof(result.oof_csv, load_dataset(cfg.data, cfg.task))


def _labels_for_cleanlab(task, labels: list):
    y = task.encode(labels)
    if task.type == "multilabel":
        return [list(np.flatnonzero(row)) for row in y], y
    return y, y


def find_issues(ds: Dataset, oof: OutOfFold) -> LabelIssues:
    """The samples cleanlab flags, ranked by self-confidence (lowest first), with a suggested label."""
    from foveal.audit import require

    require("cleanlab")
    from cleanlab.filter import find_label_issues

    task = ds.task
    labels = [ds.labels[i] for i in oof.rows]
    given, encoded = _labels_for_cleanlab(task, labels)
    multi = task.type == "multilabel"
    proba = np.clip(oof.proba, 0.0, 1.0)
    if not multi:
        proba = proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)
    ranked = find_label_issues(given, proba, return_indices_ranked_by="self_confidence", multi_label=multi)
    quality = _quality(given, proba, multi)
    suggested = task.decode(proba)
    issues, rows = [], []
    for k in ranked:
        i = int(oof.rows[k])
        guess = suggested[k].label
        issues.append({"path": ds.location(i), "given": _text(labels[k]), "suggested": _text(guess),
                       "self_confidence": float(quality[k]), "origin": ds.origin[i] if ds.origin else None})
        rows.append(i)
    return LabelIssues(ds, issues, len(oof.rows), oof.source, rows)


def _quality(given, proba: np.ndarray, multi: bool) -> np.ndarray:
    if multi:
        from cleanlab.multilabel_classification.rank import get_label_quality_scores

        return get_label_quality_scores(given, proba)
    from cleanlab.rank import get_label_quality_scores

    return get_label_quality_scores(np.asarray(given), proba, method="self_confidence")


def _text(label) -> str:
    return "|".join(label) if isinstance(label, list) else str(label)


def issues_csv(found: LabelIssues) -> str:
    from foveal.csvio import csv_text

    rows = [[rank + 1, x["path"], x["given"], x["suggested"], round(x["self_confidence"], 6)]
            for rank, x in enumerate(found.issues)]
    return csv_text(["rank", "path", "given_label", "suggested_label", "self_confidence"], rows)


def check_manifest_destination(ds: Dataset, dest: Path) -> None:
    """``--write-manifest``: a new file in a folder that holds every image of ``ds`` (checked before any work)."""
    if ds.paths is None or ds.root is None:
        raise ConfigError(f"{ds.name} is a built-in dataset (no image files to point to)",
                          "export it first (`foveal data export NAME DIR --format manifest`) and run on the export")
    dest = Path(dest)
    if dest.exists():
        raise ConfigError(f"--write-manifest {dest} already exists", "give a new file name (nothing is overwritten)")
    if not Path(ds.root).resolve().is_relative_to(dest.resolve().parent):
        raise ConfigError(f"--write-manifest {dest} is not in a folder that holds the images ({ds.root})",
                          f"write it into {ds.root} or a folder above it")


def corrected_manifest(found: LabelIssues, dest: Path) -> str:
    """A manifest of every sample of ``found.ds`` with flagged labels replaced by the suggestion;
    paths are written relative to ``dest``'s folder, which must hold the images."""
    from foveal.csvio import csv_text

    ds = found.ds
    check_manifest_destination(ds, dest)
    base = Path(dest).resolve().parent
    fixed = {i: x["suggested"] for i, x in zip(found.rows, found.issues)}
    multi = ds.task.type == "multilabel"
    extra = sorted(ds.attributes or {})
    rows = []
    for i in range(len(ds)):
        full = (Path(ds.root) / ds.paths[i]).resolve()
        label = fixed.get(i, _text(ds.labels[i]) if multi else ds.labels[i])
        cells = [full.relative_to(base).as_posix(), label or "[]", ds.split[i] or "",
                 (ds.group or [None] * len(ds))[i] or "", (ds.domain or [None] * len(ds))[i] or ""]
        rows.append(cells + [ds.attributes[k][i] or "" for k in extra])
    header = ["path", "labels" if multi else "label", "split", "group", "domain", *extra]
    return csv_text(header, rows)
