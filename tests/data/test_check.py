"""check_dataset: counts, imbalance, undecodable files, duplicates and size/mode statistics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from foveal.csvio import csv_text
from foveal.data.check import check_dataset
from foveal.data.load import load_dataset
from helpers import small, tree_hashes

DIRTY_SKIPS = {"empty.jpg": "empty file", "not_an_image.png": "not an image",
               "truncated.jpg": "truncated", "oversized_header.png": "too large"}
REQUIRED_KEYS = ("n_images", "class_counts", "imbalance_ratio", "undecodable", "duplicates")


def test_dirty_folder_report(dirty_folder: Path) -> None:
    before = tree_hashes(dirty_folder)
    report = check_dataset(load_dataset(dirty_folder))
    report = json.loads(json.dumps(report))  # the report is plain JSON
    for key in REQUIRED_KEYS:
        assert key in report
    assert report["n_images"] == 50 and report["n_decodable"] == 46
    assert report["class_counts"] == {"3": 20, "5": 30}
    assert report["imbalance_ratio"] == pytest.approx(1.5)
    listed = {item["path"]: item["reason"] for item in report["undecodable"]}
    assert set(listed) == {f"5/{name}" for name in DIRTY_SKIPS}  # relative to the data root
    for name, reason in DIRTY_SKIPS.items():
        assert reason in listed[f"5/{name}"]
        assert "\n" not in listed[f"5/{name}"]
    assert all(set(item) == {"path", "reason"} for item in report["undecodable"])
    assert "4 undecodable file(s)" in report["problems"]
    # files that are unusual but decodable are not reported, and feed the statistics
    assert report["modes"]["L"] >= 40 and {"CMYK", "P", "I;16"} <= set(report["modes"])
    assert report["formats"] == {"PNG": 43, "JPEG": 3}
    assert report["width"] == {"min": 8, "median": 8.0, "max": 64}
    assert report["common_sizes"][0] == [8, 8, 40]
    assert [32, 48, 1] in report["common_sizes"]  # the EXIF-rotated 48×32 JPEG, as displayed
    assert report["duplicates"] == []
    assert tree_hashes(dirty_folder) == before  # the audit never rewrites a file


def test_clean_folder_statistics(digits_folder: Path) -> None:
    ds = load_dataset(digits_folder)
    report = check_dataset(ds)
    assert report["n_images"] == report["n_decodable"] == len(ds)
    assert report["undecodable"] == []
    assert report["class_counts"] == {str(d): ds.labels.count(str(d)) for d in range(10)}
    assert sum(report["class_counts"].values()) == len(ds)
    assert report["imbalance_ratio"] == pytest.approx(1.0)
    assert report["splits"] == {s: ds.split.count(s) for s in ("train", "val", "test")}
    assert report["width"] == report["height"] == {"min": 8, "median": 8.0, "max": 8}
    assert report["common_sizes"] == [[8, 8, len(ds)]]
    assert report["modes"] == {"L": len(ds)} and report["formats"] == {"PNG": len(ds)}
    assert report["task"] == "multiclass" and report["classes"] == [str(d) for d in range(10)]


@pytest.fixture()
def two_class(tmp_path: Path, digits_folder: Path) -> Path:
    """A flat copy of digits classes 1 and 7 (10 images each)."""
    root = tmp_path / "two"
    for cls in ("1", "7"):
        (root / cls).mkdir(parents=True)
        for png in sorted((digits_folder / "train" / cls).glob("*.png"))[:10]:
            shutil.copy(png, root / cls / png.name)
    return root


def test_copy_into_another_class_is_a_conflicting_duplicate(two_class: Path) -> None:
    assert check_dataset(load_dataset(two_class))["duplicates"] == []
    original = sorted((two_class / "1").glob("*.png"))[0]
    shutil.copy(original, two_class / "7" / "copied.png")
    report = check_dataset(load_dataset(two_class))
    group = sorted(["1/" + original.name, "7/copied.png"])
    assert [sorted(g) for g in report["duplicates"]] == [group]
    assert [sorted(g) for g in report["conflicting_duplicates"]] == [group]
    assert report["cross_split_duplicates"] == []
    assert any("different labels" in p for p in report["problems"])


def test_copy_within_a_class_is_a_duplicate_without_conflict(two_class: Path) -> None:
    original = sorted((two_class / "7").glob("*.png"))[3]
    shutil.copy(original, two_class / "7" / "again.png")
    shutil.copy(original, two_class / "7" / "and_again.png")
    report = check_dataset(load_dataset(two_class))
    assert [sorted(g) for g in report["duplicates"]] == [sorted(["7/" + original.name, "7/again.png",
                                                                 "7/and_again.png"])]
    assert report["conflicting_duplicates"] == [] and report["cross_split_duplicates"] == []


def test_copy_into_another_split_is_cross_split(tmp_path: Path, digits_folder: Path) -> None:
    root = tmp_path / "splits"
    for split in ("train", "test"):
        for cls in ("2", "9"):
            (root / split / cls).mkdir(parents=True)
            for png in sorted((digits_folder / split / cls).glob("*.png"))[:5]:
                shutil.copy(png, root / split / cls / png.name)
    assert check_dataset(load_dataset(root))["duplicates"] == []
    leaked = sorted((root / "train" / "9").glob("*.png"))[1]
    shutil.copy(leaked, root / "test" / "9" / "leaked.png")
    report = check_dataset(load_dataset(root))
    group = sorted([f"train/9/{leaked.name}", "test/9/leaked.png"])
    assert [sorted(g) for g in report["duplicates"]] == [group]
    assert [sorted(g) for g in report["cross_split_duplicates"]] == [group]
    assert report["conflicting_duplicates"] == []
    assert any("spanning splits" in p for p in report["problems"])


def test_imbalance_ratio_and_warnings(tmp_path: Path, digits_folder: Path) -> None:
    sizes = {"0": 24, "1": 2, "2": 6}
    for cls, n in sizes.items():
        (tmp_path / cls).mkdir()
        for png in sorted((digits_folder / "train" / cls).glob("*.png"))[:n]:
            shutil.copy(png, tmp_path / cls / png.name)
    report = check_dataset(load_dataset(tmp_path))
    assert report["class_counts"] == sizes
    assert report["imbalance_ratio"] == pytest.approx(12.0)
    assert any("imbalance ratio 12.0" in w for w in report["warnings"])
    assert any("fewer than 5 images: 1" in w for w in report["warnings"])


def test_missing_manifest_file_is_reported(tmp_path: Path, digits_folder: Path) -> None:
    pngs = sorted((digits_folder / "train").glob("*/*.png"))[::40][:4]
    for png in pngs:
        shutil.copy(png, tmp_path / png.name)
    rows = [f"{p.name},{p.parent.name}" for p in pngs] + ["gone.png,0"]
    (tmp_path / "m.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    report = check_dataset(load_dataset(tmp_path / "m.csv"))
    assert report["undecodable"] == [{"path": "gone.png", "reason": "file not found"}]
    assert report["n_decodable"] == 4


def test_multilabel_manifest_counts(multidigits_manifest: Path) -> None:
    ds = load_dataset(multidigits_manifest)
    report = check_dataset(ds)
    assert report["class_counts"] == {str(d): sum(str(d) in v for v in ds.labels) for d in range(10)}
    assert report["modes"] == {"L": len(ds)}
    assert report["width"]["max"] == report["height"]["max"] == 16


def test_builtin_in_memory_dataset() -> None:
    ds = small("faces", 5)
    report = check_dataset(ds)
    assert report["n_images"] == len(ds) and report["undecodable"] == []
    assert report["class_counts"] == {"background": ds.labels.count("background"), "face": ds.labels.count("face")}
    assert report["width"] == report["height"] == {"min": 25, "median": 25.0, "max": 25}
    assert report["formats"] == {"array": len(ds)}


# --- content that does not match its extension; duplicates named by manifest row -----------


def _encoded(fmt: str, mode: str, width: int) -> bytes:
    import io

    from dirty_images import gray_photo

    buffer = io.BytesIO()
    gray_photo((width, 12)).convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


def test_extension_mismatch_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    files = {  # name: (format written, mode)
        "a.jpg": ("GIF", "P"), "b.jpeg": ("PNG", "L"), "c.png": ("JPEG", "L"), "d.jpe": ("JPEG", "L"),
        "e.jfif": ("JPEG", "RGB"), "f.tif": ("TIFF", "L"), "g.tiff": ("PNG", "L"), "h.pnm": ("PPM", "RGB"),
        "i.pgm": ("PPM", "L"), "j.PBM": ("PPM", "1"), "k.webp": ("WEBP", "RGB"), "l.bmp": ("BMP", "L"),
        "m.ppm": ("BMP", "RGB"), "n.GIF": ("GIF", "P"), "noext": ("PNG", "L"),
    }
    for i, (name, (fmt, mode)) in enumerate(files.items()):
        (tmp_path / name).write_bytes(_encoded(fmt, mode, width=16 + i))  # all different content
    rows = [[name, "x" if i % 2 else "y"] for i, name in enumerate(files)]
    (tmp_path / "m.csv").write_text(csv_text(["path", "label"], rows), encoding="utf-8")
    report = check_dataset(load_dataset(tmp_path / "m.csv"))
    assert report["undecodable"] == []
    assert report["extension_mismatch"] == [
        {"path": "a.jpg", "extension": ".jpg", "format": "GIF"},
        {"path": "b.jpeg", "extension": ".jpeg", "format": "PNG"},
        {"path": "c.png", "extension": ".png", "format": "JPEG"},
        {"path": "g.tiff", "extension": ".tiff", "format": "PNG"},
        {"path": "m.ppm", "extension": ".ppm", "format": "BMP"},
    ]
    assert any(w.startswith("5 file(s) whose content does not match the extension, e.g. a.jpg is GIF")
               for w in report["warnings"])
    assert report["problems"] == []  # `data check --strict` still passes
    assert json.loads(json.dumps(report))["extension_mismatch"] == report["extension_mismatch"]


def test_extension_mismatch_in_a_folder_and_in_memory(two_class: Path) -> None:
    assert check_dataset(load_dataset(two_class))["extension_mismatch"] == []
    png = sorted((two_class / "7").glob("*.png"))[0]
    png.rename(png.with_suffix(".jpg"))
    report = check_dataset(load_dataset(two_class))
    assert report["extension_mismatch"] == [{"path": f"7/{png.stem}.jpg", "extension": ".jpg", "format": "PNG"}]
    assert check_dataset(small("digits", 1))["extension_mismatch"] == []


def test_manifest_duplicates_are_named_with_their_rows(tmp_path: Path, digits_folder: Path) -> None:
    pngs = sorted((digits_folder / "train" / "4").glob("*.png"))[:3]
    for png in pngs:
        shutil.copy(png, tmp_path / png.name)
    shutil.copy(pngs[0], tmp_path / "again.png")
    rows = [[p.name, "4", "train"] for p in pngs] + [["again.png", "9", "test"]]
    (tmp_path / "m.csv").write_text(csv_text(["path", "label", "split"], rows), encoding="utf-8")
    report = check_dataset(load_dataset(tmp_path / "m.csv"))
    group = [[f"{pngs[0].name} (m.csv:2)", "again.png (m.csv:5)"]]
    assert report["duplicates"] == report["conflicting_duplicates"] == report["cross_split_duplicates"] == group


# --- near-duplicates (perceptual hashes) and train ↔ test leaks ----------------------------


def _near_copies_folder(root: Path) -> dict[str, str]:
    """faces PNGs in train/test folders, plus a JPEG re-encode, a resized copy and a cropped copy of
    train images placed in test; returns copy → original."""
    from PIL import Image

    ds = small("faces", 6)
    planted = {}
    for i in range(len(ds)):
        split = "test" if ds.split[i] == "test" else "train"
        folder = root / split / ds.labels[i]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(ds.images[i, :, :, 0]).save(folder / f"f{i}.png")
    train = sorted((root / "train").rglob("*.png"))
    first, second, third = train[0], train[3], train[5]
    Image.open(first).save(root / "test" / first.parent.name / "copy-jpeg.jpg", quality=70)
    Image.open(second).resize((50, 50), Image.Resampling.BILINEAR).save(root / "test" / second.parent.name / "copy-big.png")
    big = Image.open(third).resize((100, 100), Image.Resampling.BICUBIC)
    big.save(root / "train" / third.parent.name / "big.png")
    big.crop((2, 2, 98, 98)).save(root / "test" / third.parent.name / "copy-crop.png")
    for name, source in (("copy-jpeg.jpg", first), ("copy-big.png", second), ("copy-crop.png", root / "train" / third.parent.name / "big.png")):
        planted[f"test/{source.parent.name}/{name}"] = source.relative_to(root).as_posix()
    return planted


def test_near_duplicates_and_leaks_are_found(tmp_path: Path) -> None:
    planted = _near_copies_folder(tmp_path / "faces")
    report = check_dataset(load_dataset(tmp_path / "faces"))
    assert report["duplicates"] == []  # no two files are identical
    groups = [set(g) for g in report["near_duplicates"]]
    for copy, original in planted.items():
        assert {copy, original} in groups or any({copy, original} <= g for g in groups), (copy, groups)
    leaked = [set(leak["samples"]) for leak in report["leaks"]]
    assert len(report["leaks"]) == 3 and all(not leak["identical"] for leak in report["leaks"])
    assert all(set(leak["splits"]) == {"test", "train"} for leak in report["leaks"])
    assert all(any({c, o} <= g for g in leaked) for c, o in planted.items())
    assert any("spanning splits (train ↔ test leakage)" in p for p in report["problems"])
    assert any("near-duplicate" in w for w in report["warnings"])


def test_distinct_images_are_not_near_duplicates() -> None:
    for name in ("faces", "digits-in-clutter"):
        report = check_dataset(load_dataset(name))
        assert report["near_duplicates"] == [] and report["leaks"] == [], name


def test_near_duplicates_on_the_command_line(capsys, tmp_path: Path) -> None:
    from helpers import run_cli

    _near_copies_folder(tmp_path / "faces")
    code, _, err = run_cli(capsys, "data", "check", tmp_path / "faces", "--json", tmp_path / "c.json", "--strict")
    assert code == 1 and "leak across splits" in err
    assert len(json.loads((tmp_path / "c.json").read_text())["leaks"]) == 3
    code, _, _ = run_cli(capsys, "data", "check", tmp_path / "faces", "--near-distance", "0", "--json",
                         tmp_path / "d.json")
    assert len(json.loads((tmp_path / "d.json").read_text())["leaks"]) < 3
