"""Manifest sources: CSV, JSONL and Parquet tables, path safety and row-numbered errors."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from foveal.data.load import load_dataset
from foveal.data.manifest import read_manifest
from foveal.data.task import MulticlassTask, MultilabelTask
from foveal.errors import ConfigError, DataError, FovealError

IMAGES = ["images/cat0.png", "images/cat1.png", "images/dog0.png", "images/dog1.png", "sub/dir/dog2.png"]


@pytest.fixture()
def root(tmp_path: Path, digits_folder: Path) -> Path:
    """A folder of real PNGs (digits) that manifests in it refer to."""
    sources = sorted(digits_folder.glob("train/*/*.png"))[::50]
    data = tmp_path / "data"
    for rel, src in zip(IMAGES, sources):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(src.read_bytes())
    return data


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def assert_one_line(err: FovealError) -> None:
    text = str(err)
    assert "\n" not in text and " — " in text, text


ROWS = [
    {"path": "images/cat0.png", "label": "cat", "split": "train", "group": "g1", "domain": "lab"},
    {"path": "images/cat1.png", "label": "cat", "split": "Validation", "group": "g2", "domain": ""},
    {"path": "images/dog0.png", "label": "dog", "split": "train", "group": "", "domain": "field"},
    {"path": "./images/dog1.png", "label": "dog", "split": "test", "group": "g1", "domain": "lab"},
    {"path": "sub/dir/dog2.png", "label": "dog", "split": "", "group": "g3", "domain": ""},
]


def write_manifest(root: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt == "csv":
        header = list(rows[0])
        return write_csv(root / "manifest.csv", header, [[r[k] for k in header] for r in rows])
    if fmt == "jsonl":
        return write_jsonl(root / "manifest.jsonl", rows)
    return write_parquet(root / "manifest.parquet", rows)


# --- reading the three formats ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_single_label_manifest(root: Path, fmt: str) -> None:
    path = write_manifest(root, fmt, ROWS)
    ds = load_dataset(path)
    assert ds.source == "manifest" and ds.root == root and ds.name == "manifest"
    assert ds.paths == [p.lstrip("./") if p.startswith("./") else p for p in (r["path"] for r in ROWS)]
    assert ds.labels == ["cat", "cat", "dog", "dog", "dog"]
    assert ds.split == ["train", "val", "train", "test", None]
    assert ds.group == ["g1", "g2", None, "g1", "g3"]
    assert ds.domain == ["lab", None, "field", "lab", None]
    assert ds.task.type == "binary" and ds.task.classes == ["cat", "dog"]
    assert all(ds.file(i).is_file() for i in range(len(ds)))


def test_paths_resolve_under_the_manifest_folder_not_cwd(root: Path, tmp_path: Path, monkeypatch) -> None:
    path = write_manifest(root, "csv", ROWS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ds = load_dataset(os.path.relpath(path, elsewhere))
    assert all(ds.file(i).is_file() for i in range(len(ds)))
    assert ds.file(0).resolve() == (root / "images/cat0.png").resolve()


def test_optional_columns_may_be_absent(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "label"], [["images/cat0.png", "cat"], ["images/dog0.png", "dog"]])
    ds = load_dataset(path)
    assert ds.split == [None, None] and ds.group == [None, None] and ds.domain == [None, None]


@pytest.mark.parametrize("alias, canonical", [
    ("validation", "val"), ("valid", "val"), ("dev", "val"), ("VAL", "val"),
    ("training", "train"), (" Train ", "train"), ("testing", "test"), ("", None),
])
def test_split_aliases(root: Path, alias: str, canonical: str | None) -> None:
    path = write_csv(root / "m.csv", ["path", "label", "split"],
                     [["images/cat0.png", "cat", alias], ["images/dog0.png", "dog", "train"]])
    assert load_dataset(path).split[0] == canonical


# --- multi-label ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_multilabel_pipe_json_list_and_empty(root: Path, fmt: str) -> None:
    rows = [
        {"path": "images/cat0.png", "labels": "cat|indoor"},
        {"path": "images/cat1.png", "labels": '["cat", "outdoor"]'},
        {"path": "images/dog0.png", "labels": "[]"},
        {"path": "images/dog1.png", "labels": "dog"},
        {"path": "sub/dir/dog2.png", "labels": " dog | outdoor | dog "},
    ]
    ds = load_dataset(write_manifest(root, fmt, rows))
    assert isinstance(ds.task, MultilabelTask)
    assert ds.task.classes == ["cat", "dog", "indoor", "outdoor"]
    assert ds.labels == [["cat", "indoor"], ["cat", "outdoor"], [], ["dog"], ["dog", "outdoor"]]
    assert ds.targets().tolist() == [[1, 0, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 1]]


def test_jsonl_native_lists(root: Path) -> None:
    path = write_jsonl(root / "m.jsonl", [
        {"path": "images/cat0.png", "labels": ["cat", "indoor"]},
        {"path": "images/dog0.png", "labels": []},
        {"path": "images/dog1.png", "labels": ["dog"]},
    ])
    ds = load_dataset(path)
    assert ds.labels == [["cat", "indoor"], [], ["dog"]]


def test_all_rows_without_labels(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "labels"], [["images/cat0.png", "[]"], ["images/dog0.png", "[]"]])
    with pytest.raises(DataError, match="has no labels"):
        load_dataset(path)


def test_multidigits_manifest_fixture(multidigits_manifest: Path) -> None:
    ds = load_dataset(multidigits_manifest)
    assert ds.task.type == "multilabel"
    assert ds.task.classes == [str(d) for d in range(10)]
    assert all(1 <= len(v) <= 3 and v == sorted(v) for v in ds.labels)  # a digit may repeat
    assert ds.splits == ["train", "val", "test"]
    assert all(ds.file(i).is_file() for i in range(0, len(ds), 37))


def test_labels_column_with_one_label_each_as_multiclass(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "labels"],
                     [["images/cat0.png", "cat"], ["images/dog0.png", "dog"], ["images/dog1.png", "bird"]])
    ds = load_dataset(path, task="multiclass")
    assert ds.labels == ["cat", "dog", "bird"] and ds.task.type == "multiclass"


def test_several_labels_with_single_label_task(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "labels"], [["images/cat0.png", "cat|dog"], ["images/dog0.png", "dog"]])
    with pytest.raises(ConfigError, match="several labels per image") as err:
        load_dataset(path, task="multiclass")
    assert_one_line(err.value)


def test_single_label_column_as_multilabel(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "label"], [["images/cat0.png", "cat"], ["images/dog0.png", "dog"]])
    ds = load_dataset(path, task="multilabel")
    assert ds.labels == [["cat"], ["dog"]] and ds.task.type == "multilabel"


def test_task_object_with_unknown_labels(root: Path) -> None:
    path = write_manifest(root, "csv", ROWS)
    assert load_dataset(path, task=MulticlassTask(["cat", "dog", "fox"])).task.classes == ["cat", "dog", "fox"]
    with pytest.raises(DataError, match="labels the model does not know: dog"):
        load_dataset(path, task=MulticlassTask(["cat", "fox"]))
    with pytest.raises(DataError, match="does not know: dog"):
        load_dataset(path, task=MultilabelTask(["cat"]))


def test_hierarchical_manifest(root: Path) -> None:
    path = write_csv(root / "m.csv", ["path", "label"],
                     [["images/cat0.png", "animal/cat"], ["images/dog0.png", "animal/dog"], ["images/dog1.png", "car"]])
    ds = load_dataset(path)
    assert ds.task.type == "hierarchical" and ds.task.classes == ["animal/cat", "animal/dog", "car"]


# --- path safety --------------------------------------------------------------------


def _bad_path_rows(bad: str) -> list[dict]:
    return [{"path": "images/cat0.png", "label": "cat"}, {"path": "images/dog0.png", "label": "dog"},
            {"path": bad, "label": "dog"}]


@pytest.mark.parametrize("fmt, line", [("csv", 4), ("jsonl", 3)])
@pytest.mark.parametrize("bad, message", [
    ("/etc/passwd", "absolute path"),
    ("C:\\images\\cat.png", "absolute path"),
    ("../outside.png", "through '..'"),
    ("images/../../outside.png", "through '..'"),
    ("images\\..\\..\\outside.png", "through '..'"),
])
def test_escaping_paths_are_refused_with_line(root: Path, fmt: str, line: int, bad: str, message: str) -> None:
    (root.parent / "outside.png").write_bytes((root / "images/cat0.png").read_bytes())
    path = write_manifest(root, fmt, _bad_path_rows(bad))
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert_one_line(err.value)


@pytest.mark.parametrize("link_kind", ["file", "dir"])
def test_symlink_escaping_the_root_is_refused(root: Path, tmp_path: Path, link_kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes((root / "images/cat0.png").read_bytes())
    if link_kind == "file":
        (root / "images/link.png").symlink_to(outside / "secret.png")
        rel = "images/link.png"
    else:
        (root / "linked").symlink_to(outside, target_is_directory=True)
        rel = "linked/secret.png"
    path = write_manifest(root, "csv", _bad_path_rows(rel))
    with pytest.raises(DataError, match="symlink leading outside") as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:4: ")
    assert_one_line(err.value)


def test_symlink_inside_the_root_is_allowed(root: Path) -> None:
    (root / "images/alias.png").symlink_to(root / "images/dog0.png")
    ds = load_dataset(write_manifest(root, "csv", _bad_path_rows("images/alias.png")))
    assert ds.paths[-1] == "images/alias.png" and ds.file(2).is_file()


def test_parquet_errors_name_the_row(root: Path) -> None:
    path = write_manifest(root, "parquet", _bad_path_rows("../outside.png"))
    with pytest.raises(DataError, match="through '..'") as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}: row 3: ")


# --- row-numbered errors -------------------------------------------------------------


@pytest.mark.parametrize("fmt, line", [("csv", 3), ("jsonl", 2)])
@pytest.mark.parametrize("row, message", [
    ({"path": "images/cat1.png", "label": ""}, "empty label"),
    ({"path": "images/cat1.png", "label": "   "}, "empty label"),
    ({"path": "", "label": "cat"}, "empty path"),
    ({"path": "images/cat1.png", "label": "cat", "split": "holdout"}, "unknown split 'holdout'"),
])
def test_bad_rows_are_row_numbered(root: Path, fmt: str, line: int, row: dict, message: str) -> None:
    rows = [{"path": "images/cat0.png", "label": "cat", "split": ""}, {"split": "", **row},
            {"path": "images/dog0.png", "label": "dog", "split": ""}]
    path = write_manifest(root, fmt, rows)
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert_one_line(err.value)


@pytest.mark.parametrize("labels, message", [
    ("", "empty labels"),
    ("cat||dog", "an empty label"),
    ("cat|", "an empty label"),
    ('["cat", ""]', "an empty label"),
    ('["cat", "dog"', "not a valid JSON list"),
])
def test_bad_multilabel_values(root: Path, labels: str, message: str) -> None:
    path = write_csv(root / "m.csv", ["path", "labels"],
                     [["images/cat0.png", "cat"], ["images/dog0.png", "dog"], ["images/dog1.png", labels]])
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:4: ")
    assert_one_line(err.value)


def test_missing_cell_in_short_csv_row(root: Path) -> None:
    path = root / "m.csv"
    path.write_text("path,label\nimages/cat0.png,cat\nimages/dog0.png\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m\.csv:3: empty label"):
        load_dataset(path)


def test_extra_csv_field_is_row_numbered(root: Path) -> None:
    path = root / "m.csv"
    path.write_text("path,label\nimages/cat0.png,cat\nimages/dog0.png,dog,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m\.csv:3: more fields than the header"):
        load_dataset(path)


def test_jsonl_line_numbers_count_blank_lines(root: Path) -> None:
    path = root / "m.jsonl"
    path.write_text('{"path": "images/cat0.png", "label": "cat"}\n\n\n'
                    '{"path": "images/dog0.png", "label": ""}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"m\.jsonl:4: empty label"):
        load_dataset(path)


@pytest.mark.parametrize("line, message", [("not json", "not valid JSON"), ('["a", "b"]', "expected a JSON object")])
def test_jsonl_bad_lines(root: Path, line: str, message: str) -> None:
    path = root / "m.jsonl"
    path.write_text('{"path": "images/cat0.png", "label": "cat"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:2: ")


@pytest.mark.parametrize("header, message", [
    (["file", "label"], "no 'path' column"),
    (["path", "class"], "exactly one of the columns 'label' and 'labels'"),
    (["path", "label", "labels"], "exactly one of the columns 'label' and 'labels'"),
])
def test_missing_or_ambiguous_columns(root: Path, header: list[str], message: str) -> None:
    path = write_csv(root / "m.csv", header, [["images/cat0.png"] + ["cat"] * (len(header) - 1)])
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert_one_line(err.value)


@pytest.mark.parametrize("text, message", [("", "is empty"), ("path,label\n", "has no rows")])
def test_empty_manifest(root: Path, text: str, message: str) -> None:
    path = root / "m.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_dataset(path)


def test_error_in_last_row_means_no_dataset(root: Path) -> None:
    rows = [[f"images/cat{i % 2}.png", "cat"] for i in range(50)] + [["images/dog0.png", "dog", "bogus"]]
    path = write_csv(root / "m.csv", ["path", "label", "split"], [r + ["train"] for r in rows[:-1]] + [rows[-1]])
    with pytest.raises(DataError, match=r"m\.csv:52: unknown split 'bogus'"):
        read_manifest(path)


def test_manifest_that_is_not_utf8(root: Path) -> None:
    path = root / "m.csv"
    path.write_bytes("path,label\nimages/cat0.png,caf\u00e9\nimages/dog0.png,dog\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8") as err:
        load_dataset(path)
    assert_one_line(err.value)


def test_missing_and_unknown_manifest_files(root: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(root / "nope.csv")
    other = root / "labels.txt"
    other.write_text("path,label\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown manifest type '.txt'") as err:
        load_dataset(other)
    assert_one_line(err.value)


def test_utf8_bom_header(root: Path) -> None:
    path = root / "m.csv"
    path.write_bytes(b"\xef\xbb\xbfpath,label\nimages/cat0.png,cat\nimages/dog0.png,dog\n")
    assert load_dataset(path).labels == ["cat", "dog"]


def test_corrupt_parquet_is_a_data_error(root: Path) -> None:
    path = root / "m.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    with pytest.raises(DataError, match="not a readable Parquet file") as err:
        load_dataset(path)
    assert_one_line(err.value)


# --- home folders, many bad rows, row origins ------------------------------------------------


@pytest.mark.parametrize("fmt, line", [("csv", 4), ("jsonl", 3)])
@pytest.mark.parametrize("bad", ["~/images/cat0.png", "~root/cat.png", "~"])
def test_home_folder_paths_are_refused_like_absolute(root: Path, fmt: str, line: int, bad: str) -> None:
    path = write_manifest(root, fmt, _bad_path_rows(bad))
    with pytest.raises(DataError, match="home-folder path") as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert "relative to the manifest's folder" in str(err.value)
    assert_one_line(err.value)


def test_a_file_named_with_a_tilde_inside_is_fine(root: Path) -> None:
    (root / "images/cat~1.png").write_bytes((root / "images/cat0.png").read_bytes())
    ds = load_dataset(write_manifest(root, "csv", _bad_path_rows("images/cat~1.png")))
    assert ds.paths[-1] == "images/cat~1.png"


def test_every_bad_row_is_reported_in_one_line(root: Path) -> None:
    rows = [["images/cat0.png", "cat", ""], ["/etc/passwd", "cat", ""], ["images/dog0.png", "", ""],
            ["images/dog1.png", "dog", "holdout"], ["~/x.png", "dog", ""], ["../up.png", "dog", ""],
            ["images/cat1.png", "cat", ""], ["", "dog", ""], ["images/dog0.png", "", ""]]
    path = write_csv(root / "m.csv", ["path", "label", "split"], rows)
    with pytest.raises(DataError) as err:
        load_dataset(path)
    text = str(err.value)
    assert_one_line(err.value)
    assert text.startswith("7 bad rows: ")
    for line, problem in [(3, "absolute path"), (4, "empty label"), (5, "unknown split 'holdout'"),
                          (6, "home-folder path"), (7, "path '../up.png' leaves")]:
        assert f"{path}:{line}: {problem}" in text
    assert f"{path}:9:" not in text and f"{path}:10:" not in text  # only the first five are listed
    assert text.endswith("… and 2 more — fix each listed row")


@pytest.mark.parametrize("fmt, lines", [("csv", (3, 4)), ("jsonl", (2, 3)), ("parquet", ("row 2", "row 3"))])
def test_two_bad_rows_are_both_named(root: Path, fmt: str, lines: tuple) -> None:
    rows = [{"path": "images/cat0.png", "label": "cat"}, {"path": "images/cat1.png", "label": ""},
            {"path": "images/dog0.png", "label": " "}]
    path = write_manifest(root, fmt, rows)
    with pytest.raises(DataError) as err:
        load_dataset(path)
    sep = ": " if fmt == "parquet" else ":"
    assert str(err.value) == (f"2 bad rows: {path}{sep}{lines[0]}: empty label; {path}{sep}{lines[1]}: empty label"
                              " — give every row a label, or remove the row")


def test_bad_json_lines_are_collected_with_bad_rows(root: Path) -> None:
    path = root / "m.jsonl"
    path.write_text('{"path": "images/cat0.png", "label": "cat"}\nnot json\n'
                    '{"path": "/abs.png", "label": "cat"}\n[1]\n', encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(path)
    text = str(err.value)
    assert text.startswith(f"3 bad rows: {path}:2: not valid JSON")
    assert f"{path}:3: absolute path" in text and f"{path}:4: expected a JSON object" in text


def test_csv_rows_with_extra_fields_are_collected(root: Path) -> None:
    path = root / "m.csv"
    path.write_text("path,label\nimages/cat0.png,cat,x\nimages/dog0.png,dog\nimages/dog1.png,dog,y\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"2 bad rows: .*m\.csv:2: more fields.*m\.csv:4: more fields"):
        load_dataset(path)


@pytest.mark.parametrize("fmt, origins", [
    ("csv", [f"manifest.csv:{n}" for n in range(2, 7)]),
    ("jsonl", [f"manifest.jsonl:{n}" for n in range(1, 6)]),
    ("parquet", [f"manifest.parquet: row {n}" for n in range(1, 6)]),
])
def test_manifest_rows_know_their_origin(root: Path, fmt: str, origins: list[str]) -> None:
    ds = load_dataset(write_manifest(root, fmt, ROWS))
    assert ds.origin == origins
    assert ds.describe(2) == f"images/dog0.png ({origins[2]})"
    part = ds.subset([4, 0])
    assert part.origin == [origins[4], origins[0]]
    assert part.describe(0) == f"sub/dir/dog2.png ({origins[4]})"
    assert ds.select("train").origin == [origins[0], origins[2]]


def test_folders_and_builtins_have_no_origin(digits_folder: Path) -> None:
    folder = load_dataset(digits_folder)
    assert folder.origin is None and folder.describe(0) == folder.location(0) == folder.paths[0]
    builtin = load_dataset("faces")
    assert builtin.origin is None and builtin.describe(3) == "faces#3"
    assert builtin.subset([1, 2]).origin is None
