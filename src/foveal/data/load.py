"""``load_dataset``: one entry point for folders, manifests and built-in datasets."""

from __future__ import annotations

from pathlib import Path

from foveal.data.card import read_card
from foveal.data.dataset import Dataset
from foveal.data.folder import has_root_images, read_folder, read_images
from foveal.data.manifest import MANIFEST_SUFFIXES, read_manifest
from foveal.data.task import HierarchicalTask, MultilabelTask, Task, UnlabeledTask, infer_task
from foveal.errors import ConfigError, DataError

BUILTIN_PREFIX = "builtin:"


def _with_task(labels: list, task: str | Task, where: str, optional: bool = False) -> Task:
    if optional and not isinstance(task, Task) and _fewer_than_two_classes(labels):
        return UnlabeledTask()  # images only; any labels stay for reference
    if isinstance(task, Task):
        task.check_known(labels, where)
        return task
    return infer_task(labels, task)


def _fewer_than_two_classes(labels: list) -> bool:
    seen = set()
    for value in labels:
        seen.update(value if isinstance(value, list) else [] if value is None else [value])
        if len(seen) > 1:
            return False
    return True


def _from_plain_folder(root: Path) -> Dataset:
    """Every image below ``root``, without labels (a folder with images at its top)."""
    paths = read_images(root)
    if not paths:
        raise DataError(f"{root} holds no images", "put image files in it")
    return Dataset(name=root.name, source="folder", task=UnlabeledTask(), labels=[None] * len(paths),
                   split=[None] * len(paths), paths=paths, root=root,
                   orientation_sensitive=read_card(root).get("orientation_sensitive", False))


def _from_folder(root: Path, task: str | Task, optional: bool = False) -> Dataset:
    kind = task.type if isinstance(task, Task) else task
    if kind == "multilabel":
        raise ConfigError(f"{root} is a class-folder tree, which gives one label per image",
                          "use a manifest with a 'labels' column for multi-label data")
    nested = {"hierarchical": True, "auto": None}.get(kind, False)
    paths, labels, split, _ = read_folder(root, nested)
    if not paths:
        raise DataError(f"{root} holds no images", "put images in <class> sub-folders")
    return Dataset(name=root.name, source="folder", task=_with_task(labels, task, str(root), optional),
                   labels=labels, split=split, paths=paths, root=root,
                   orientation_sensitive=read_card(root).get("orientation_sensitive", False))


def _from_manifest(path: Path, task: str | Task, optional: bool = False) -> Dataset:
    rows = read_manifest(path, labels_required=not optional)
    if isinstance(task, MultilabelTask) or task == "multilabel":
        rows.labels = [v if isinstance(v, list) else [v] for v in rows.labels]
    elif any(isinstance(v, list) for v in rows.labels) and (
        isinstance(task, Task) or task not in ("auto", "multilabel")
    ):
        one = all(isinstance(v, list) and len(v) == 1 for v in rows.labels)
        if not one:
            raise ConfigError(f"{path} has several labels per image", "use --task multilabel (or auto)")
        rows.labels = [v[0] for v in rows.labels]
    if isinstance(task, HierarchicalTask) or task == "hierarchical":
        bad = next((i for i, v in enumerate(rows.labels) if not isinstance(v, str)), None)
        if bad is not None:
            raise DataError(f"{path}: row {bad + 1} has a list of labels", "hierarchical labels are paths like a/b/c")
    return Dataset(name=path.stem, source="manifest", task=_with_task(rows.labels, task, str(path), optional),
                   labels=rows.labels, split=rows.split, paths=rows.paths, root=path.parent,
                   group=rows.group, domain=rows.domain, origin=rows.origin,
                   orientation_sensitive=read_card(path.parent).get("orientation_sensitive", False),
                   attributes=rows.attributes or None)


def _from_builtin(name: str, task: str | Task) -> Dataset:
    from foveal.data.builtin import load_builtin

    data = load_builtin(name)
    requested = task if isinstance(task, Task) else (data.task if task == "auto" else task)
    return Dataset(name=name, source="builtin", task=_with_task(list(data.labels), requested, name),
                   labels=list(data.labels), split=list(data.split), images=data.images,
                   orientation_sensitive=data.orientation_sensitive,
                   attributes={k: list(v) for k, v in data.attributes.items()} or None)


def load_dataset(source: str | Path | Dataset, task: str | Task = "auto", labels: str = "required") -> Dataset:
    """Load a class-folder tree, a manifest (.csv/.jsonl/.parquet) or a built-in dataset by name.

    ``task`` is ``auto`` (inferred), a task type name, or a :class:`Task`
    (e.g. a bundle's) whose classes the data must use. ``labels="optional"`` (pretraining,
    embeddings, clustering) also takes images without labels: a folder with images at its top,
    a manifest without a label column, or data of a single class — their task is ``unlabeled``.
    """
    if isinstance(source, Dataset):
        return source
    if labels not in ("required", "optional"):
        raise ValueError(f"labels must be 'required' or 'optional', got {labels!r}")
    optional = labels == "optional"
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        if optional and has_root_images(path):
            return _from_plain_folder(path)
        return _from_folder(path, task, optional)
    if path.is_file():
        return _from_manifest(path, task, optional)
    from foveal.data.builtin import BUILTINS

    name = text[len(BUILTIN_PREFIX):] if text.startswith(BUILTIN_PREFIX) else text
    if name in BUILTINS:
        return _from_builtin(name, task)
    if path.suffix.lower() in MANIFEST_SUFFIXES:
        raise DataError(f"manifest {text} does not exist", "check the path")
    raise DataError(
        f"no folder, manifest or built-in dataset named {text!r}",
        f"give a class-folder tree, a .csv/.jsonl/.parquet manifest, or one of: {', '.join(BUILTINS)}",
    )
