"""export_dataset: real PNGs as a folder tree or manifest that load back identically."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from foveal.data.dataset import Dataset
from foveal.data.decode import decode_image
from foveal.data.export import export_dataset
from foveal.data.load import load_dataset
from foveal.errors import ConfigError, DataError
from helpers import small, tree_hashes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def original_index(path: str) -> int:
    """Exported files are named ``<dataset>-<index>.png``."""
    return int(re.search(r"-(\d{5})\.png$", path).group(1))


def assert_round_trip(original: Dataset, loaded: Dataset) -> None:
    assert len(loaded) == len(original)
    seen = set()
    for j, path in enumerate(loaded.paths):
        i = original_index(path)
        seen.add(i)
        assert loaded.labels[j] == original.labels[i], path
        assert loaded.split[j] == original.split[i], path
        raw = loaded.file(j).read_bytes()
        assert raw.startswith(PNG_MAGIC)
        pixels = decode_image(loaded.file(j), channels=1)
        np.testing.assert_array_equal(pixels, original.images[i], err_msg=path)
    assert seen == set(range(len(original)))
    assert loaded.task.type == original.task.type
    assert loaded.task.classes == sorted(original.task.classes)


@pytest.mark.parametrize("name, per_class", [("digits", 3), ("faces", 6), ("textures", 3), ("digit-taxonomy", 2)])
@pytest.mark.parametrize("fmt", ["folder", "manifest"])
def test_round_trip(tmp_path: Path, name: str, per_class: int, fmt: str) -> None:
    ds = small(name, per_class)
    dest = tmp_path / "out"
    summary = export_dataset(ds, dest, fmt)
    assert summary == {"format": fmt, "path": str(dest), "n_images": len(ds), "splits": ["train", "val", "test"]}
    source = dest if fmt == "folder" else dest / "manifest.csv"
    assert_round_trip(ds, load_dataset(source))


def test_multilabel_round_trip_through_auto_manifest(tmp_path: Path) -> None:
    ds = small("multidigits", 1)
    summary = export_dataset(ds, tmp_path / "out")  # auto: multi-label can only be a manifest
    assert summary["format"] == "manifest"
    assert (tmp_path / "out" / "manifest.csv").read_text().splitlines()[0] == "path,labels,split"
    assert_round_trip(ds, load_dataset(tmp_path / "out" / "manifest.csv"))


def test_folder_layout_on_disk(tmp_path: Path) -> None:
    ds = small("digit-taxonomy", 1)
    export_dataset(ds, tmp_path / "out", "auto")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files[0] == "dataset.json"  # the card sits in the root, beside the split folders
    files = files[1:]
    assert len(files) == len(ds)
    for rel in files:
        i = original_index(rel)
        assert rel == f"{ds.split[i]}/{ds.labels[i]}/digit-taxonomy-{i:05d}.png"
        with Image.open(tmp_path / "out" / rel) as img:
            assert img.format == "PNG" and img.mode == "L" and img.size == (8, 8)


def test_manifest_layout_on_disk(tmp_path: Path) -> None:
    ds = small("faces", 2)
    export_dataset(ds, tmp_path / "out", "manifest")
    lines = (tmp_path / "out" / "manifest.csv").read_text().splitlines()
    assert lines[0] == "path,label,split" and len(lines) == len(ds) + 1
    assert lines[1] == f"images/faces-00000.png,{ds.labels[0]},{ds.split[0]}"
    assert sorted(p.name for p in (tmp_path / "out" / "images").iterdir()) == [
        f"faces-{i:05d}.png" for i in range(len(ds))]


def test_refuses_non_empty_destination(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("user data")
    before = tree_hashes(dest)
    with pytest.raises(ConfigError, match="exists and is not empty") as err:
        export_dataset(small("digits", 1), dest, "folder")
    assert " — " in str(err.value)
    assert tree_hashes(dest) == before


def test_existing_empty_destination_is_fine(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    export_dataset(small("digits", 1), dest, "manifest")
    assert (dest / "manifest.csv").is_file()


def test_destination_that_is_a_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.png"
    dest.write_bytes(b"not a folder")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        export_dataset(small("digits", 1), dest, "folder")
    assert dest.read_bytes() == b"not a folder"


def test_second_export_into_same_place_is_refused(tmp_path: Path) -> None:
    ds = small("digits", 1)
    export_dataset(ds, tmp_path / "out", "folder")
    before = tree_hashes(tmp_path / "out")
    with pytest.raises(ConfigError, match="not empty"):
        export_dataset(ds, tmp_path / "out", "folder")
    assert tree_hashes(tmp_path / "out") == before


def test_format_errors(tmp_path: Path, digits_folder: Path) -> None:
    with pytest.raises(ConfigError, match="multi-label data cannot be a class-folder tree"):
        export_dataset(small("multidigits", 1), tmp_path / "a", "folder")
    with pytest.raises(ConfigError, match="unknown export format 'zip'"):
        export_dataset(small("digits", 1), tmp_path / "b", "zip")
    with pytest.raises(ConfigError, match="already a set of files"):
        export_dataset(load_dataset(digits_folder), tmp_path / "c", "folder")
    assert not any((tmp_path / d).exists() and any((tmp_path / d).iterdir()) for d in "abc")


def test_in_memory_dataset_has_no_files() -> None:
    with pytest.raises(DataError, match="holds in-memory images, not files") as err:
        small("digits", 1).file(0)
    assert " — " in str(err.value)
