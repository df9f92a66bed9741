"""foveal.csvio: CSV cells a spreadsheet shows as text (CWE-1236), read back to their true values."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from foveal.csvio import FORMULA_STARTS, csv_text, neutralise, read_csv, restore
from foveal.data.export import export_dataset
from foveal.data.load import load_dataset
from foveal.data.task import infer_task
from helpers import small

FORMULAS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"]
TRICKY = [*FORMULAS, "\tTab", "\rCR", "'quoted", "''", "'", "'x", "plain", "", "a=b", "-", "=", "'=x"]


def raw_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula_cells(text: str) -> None:
    risky = [cell for cell in raw_cells(text) if cell.startswith(FORMULA_STARTS)]
    assert risky == [], risky


@pytest.mark.parametrize("value, written", [
    ('=HYPERLINK("x")', '\'=HYPERLINK("x")'), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("'x", "''x"), ("cat", "cat"), ("a-b", "a-b"), ("", ""),
])
def test_neutralise_text(value: str, written: str) -> None:
    assert neutralise(value) == written
    assert restore(written) == value


@pytest.mark.parametrize("value, written", [
    (-2, "-2"), (-2.5, "-2.5"), (np.int64(-3), "-3"), (np.float32(1.5), "1.5"), (0, "0"), (None, ""),
])
def test_numbers_are_written_unchanged(value, written: str) -> None:
    assert neutralise(value) == written


@pytest.mark.parametrize("text", TRICKY)
def test_restore_undoes_neutralise_exactly(text: str) -> None:
    assert restore(neutralise(text)) == text


def test_restore_leaves_other_apostrophes_alone() -> None:
    assert restore("'hello") == "'hello" and restore("'") == "'" and restore("it's") == "it's"
    assert restore("''") == "'" and restore("'''=") == "''="  # exactly one escape is removed


def test_csv_text_and_read_csv_round_trip(tmp_path: Path) -> None:
    header = ["=head", "label", "n"]
    rows = [[text, f"{text},\n{text}", i] for i, text in enumerate(TRICKY)]
    text = csv_text(header, rows)
    assert text.startswith("'=head,label,n\n")
    assert_no_formula_cells(text)
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    back = read_csv(path)
    assert back == [{"=head": a, "label": b, "n": str(n)} for a, b, n in rows]


def test_export_then_manifest_read_keeps_formula_like_names(tmp_path: Path) -> None:
    """Classes named like formulas are escaped in the exported CSV and read back as they were."""
    ds = small("digits", 1)
    rename = {str(d): (FORMULAS + ["'apostrophe"])[d % 5] + ("" if d < 5 else f" {d}") for d in range(10)}
    labels = [rename[v] for v in ds.labels]
    ds = replace(ds, name="@SUM(A1)", labels=labels, task=infer_task(labels, "multiclass"))
    export_dataset(ds, tmp_path / "out", "manifest")
    text = (tmp_path / "out" / "manifest.csv").read_text(encoding="utf-8")
    assert_no_formula_cells(text)
    assert '\'=HYPERLINK(""x"")' in text and "\n" + "images/@SUM(A1)-00000.png," in text
    back = load_dataset(tmp_path / "out" / "manifest.csv")
    assert back.labels == labels and back.split == ds.split
    assert back.task.classes == sorted(set(labels))
    assert all(back.file(i).is_file() for i in range(len(back)))


def test_files_named_like_formulas_read_back_from_a_manifest(tmp_path: Path, digits_folder: Path) -> None:
    pngs = sorted((digits_folder / "train").glob("*/*.png"))[:4]
    names = [f"{formula}.png" for formula in FORMULAS]
    for src, name in zip(pngs, names):
        (tmp_path / name).write_bytes(src.read_bytes())
    text = csv_text(["path", "label"], [[name, formula] for name, formula in zip(names, FORMULAS)])
    assert_no_formula_cells(text)
    (tmp_path / "m.csv").write_text(text, encoding="utf-8", newline="")
    ds = load_dataset(tmp_path / "m.csv")
    assert ds.paths == names and ds.labels == FORMULAS
    assert [ds.file(i).read_bytes() for i in range(4)] == [p.read_bytes() for p in pngs]
