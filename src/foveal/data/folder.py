"""ImageFolder sources: ``root/<class>/*``, ``root/{train,val,test}/<class>/*``, nested trees."""

from __future__ import annotations

import os
from pathlib import Path

from foveal.data.dataset import canonical_split
from foveal.data.decode import IMAGE_EXTENSIONS
from foveal.errors import DataError


def _visible_dirs(folder: Path) -> list[str]:
    """Sub-folder names in torchvision's ImageFolder order (plain sorted), hidden ones skipped."""
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))


def _is_image(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _images_under(folder: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(relative dir, file name) of every image below ``folder``, in a stable sorted order,
    and the sub-folders that hold neither images nor visible sub-folders (empty leaves)."""
    found, empty = [], []
    for current, dirs, files in os.walk(folder, followlinks=True):  # pruning needs the live walk
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(current, folder)
        rel = "" if rel == "." else Path(rel).as_posix()
        images = [(rel, name) for name in files if _is_image(name)]
        if rel and not images and not dirs:
            empty.append(rel)
        found += images
    return sorted(found), sorted(empty)


def split_layout(root: Path) -> dict[str, str] | None:
    """``{folder name: split}`` when the top level is train/val/test folders, else None.

    A tree of only ``test/`` (or ``val/``) counts too, so held-out folders can be evaluated.
    """
    top = _visible_dirs(root)
    splits = {d: canonical_split(d) for d in top}
    if top and all(splits.values()):
        return splits  # type: ignore[return-value]
    return None


def scan_classes(folder: Path, nested: bool | None) -> tuple[list[str], list[str], bool]:
    """Relative paths and labels of the images in class folders under ``folder``.

    ``nested=None`` infers a hierarchy when any image sits below its class folder;
    ``nested=False`` gives every image its top-level class, like torchvision.
    Returns (paths, labels, nested).
    """
    classes = _visible_dirs(folder)
    walked = {c: _images_under(folder / c) for c in classes}
    per_class = {c: imgs for c, (imgs, _) in walked.items()}
    empty = [c for c, imgs in per_class.items() if not imgs]
    if nested is None:
        nested = any(rel for imgs in per_class.values() for rel, _ in imgs)
    if nested and not empty:  # in a hierarchy every leaf folder is a class too
        empty = [f"{c}/{leaf}" for c, (_, leaves) in walked.items() for leaf in leaves]
    if empty:
        raise DataError(f"class folder {folder / empty[0]} holds no images",
                        "add images (" + ", ".join(sorted(IMAGE_EXTENSIONS)) + ") or remove the folder")
    paths, labels = [], []
    for cls, imgs in per_class.items():
        for rel, name in imgs:
            paths.append("/".join(p for p in (cls, rel, name) if p))
            labels.append("/".join(p for p in (cls, rel) if p) if nested else cls)
    return paths, labels, nested


def read_folder(root: Path, nested: bool | None) -> tuple[list[str], list[str], list[str | None], bool]:
    """Scan an ImageFolder tree: (paths relative to root, labels, splits, nested)."""
    layout = split_layout(root)
    if layout is None:
        if not _visible_dirs(root):
            raise DataError(f"{root} has no class folders",
                            f"put images in {root}/<class>/… (or {root}/train/<class>/… for fixed splits)")
        paths, labels, nested = scan_classes(root, nested)
        return paths, labels, [None] * len(paths), nested
    paths, labels, splits = [], [], []
    for folder, split in layout.items():
        if not _visible_dirs(root / folder):
            raise DataError(f"split folder {root / folder} has no class folders",
                            f"put its images in {root / folder}/<class>/…")
        p, lab, nested = scan_classes(root / folder, nested)
        paths += [f"{folder}/{x}" for x in p]
        labels += lab
        splits += [split] * len(p)
    return paths, labels, splits, bool(nested)


def has_root_images(root: Path) -> bool:
    """Whether image files sit directly in ``root`` (a plain collection, not a class-folder tree)."""
    with os.scandir(root) as entries:
        return any(e.is_file() and _is_image(e.name) for e in entries)


def read_images(root: Path) -> list[str]:
    """Every image below ``root`` (hidden files and folders skipped), as sorted relative POSIX paths."""
    found, _ = _images_under(root)
    return ["/".join(p for p in (rel, name) if p) for rel, name in found]
