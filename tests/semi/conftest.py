"""Few-label digits for the semi-supervised tests: a labelled class-folder tree and a plain folder of
unlabelled images (PNG files written from the built-in digits)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def few_digits(tmp_path_factory) -> tuple[Path, Path]:
    """(labelled: 3 train images per class, 8 val images per class and the whole test split; unlabelled: 400
    other train images)."""
    from foveal.data.export import export_dataset
    from foveal.data.load import load_dataset
    from foveal.fewer.split import few_labels, write_images

    root = tmp_path_factory.mktemp("few")
    ds = load_dataset("digits")
    labelled, unlabelled = few_labels(ds, 3, seed=0)
    rest = [i for i, s in enumerate(labelled.split) if s != "val"]
    for label in sorted(set(labelled.labels)):
        rest += [i for i, (s, y) in enumerate(zip(labelled.split, labelled.labels)) if s == "val" and y == label][:8]
    export_dataset(labelled.subset(sorted(rest)), root / "labelled", "folder")
    write_images(unlabelled.subset(range(400)), root / "unlabelled")
    return root / "labelled", root / "unlabelled"
