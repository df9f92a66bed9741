"""Dataset cards: orientation sensitivity of built-ins, written by export, read by load_dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from foveal.data.builtin import BUILTINS, load_builtin
from foveal.data.card import CARD_FILE
from foveal.data.export import export_dataset
from foveal.data.load import load_dataset
from foveal.errors import DataError
from helpers import small

SENSITIVE = {"digits": True, "multidigits": True, "digit-taxonomy": True, "digits-in-clutter": True, "faces": False,
             "faces-biased": False, "textures": False, "digits-imbalanced": True, "digits-shifted": True}


def test_every_builtin_declares_orientation_sensitivity() -> None:
    assert set(SENSITIVE) == set(BUILTINS)
    for name, sensitive in SENSITIVE.items():
        assert load_builtin(name).orientation_sensitive is sensitive, name
        ds = load_dataset(name)
        assert ds.orientation_sensitive is sensitive, name
        assert ds.subset([0, 1]).orientation_sensitive is sensitive


@pytest.mark.parametrize("name, fmt", [("digits", "folder"), ("digit-taxonomy", "folder"), ("faces", "folder"),
                                       ("multidigits", "manifest"), ("digits", "manifest"),
                                       ("textures", "manifest")])
def test_export_writes_a_card_that_loads_back(tmp_path: Path, name: str, fmt: str) -> None:
    dest = tmp_path / "out"
    export_dataset(small(name, 1), dest, fmt)
    card = json.loads((dest / CARD_FILE).read_text(encoding="utf-8"))
    assert card == {"name": name, "orientation_sensitive": SENSITIVE[name], "source": "foveal data export"}
    loaded = load_dataset(dest if fmt == "folder" else dest / "manifest.csv")
    assert loaded.orientation_sensitive is SENSITIVE[name]
    assert all(p.endswith(".png") for p in loaded.paths)  # the card is never taken for a sample


def test_data_without_a_card_is_not_orientation_sensitive(tmp_path: Path, digits_folder: Path) -> None:
    root = tmp_path / "plain"
    for cls in ("6", "9"):
        shutil.copytree(digits_folder / "train" / cls, root / cls)
    assert load_dataset(root).orientation_sensitive is False


def test_card_in_a_flat_class_folder_root_is_ignored_by_the_scan(tmp_path: Path, digits_folder: Path) -> None:
    root = tmp_path / "flat"
    for cls in ("6", "9"):
        shutil.copytree(digits_folder / "train" / cls, root / cls)
    before = load_dataset(root)
    (root / CARD_FILE).write_text('{"orientation_sensitive": true, "license": "CC0"}', encoding="utf-8")
    after = load_dataset(root)
    assert after.paths == before.paths and after.labels == before.labels
    assert after.orientation_sensitive is True  # unknown keys ("license") are ignored


@pytest.mark.parametrize("text, message", [
    ("{not json", "is not valid JSON"),
    ('["a list"]', "must hold a JSON object"),
    ('{"orientation_sensitive": "yes"}', "'orientation_sensitive' must be true or false"),
    ('{"name": 7}', "'name' must be a string"),
])
@pytest.mark.parametrize("kind", ["folder", "manifest"])
def test_bad_cards_are_one_line_errors_naming_the_file(tmp_path: Path, text: str, message: str, kind: str) -> None:
    dest = tmp_path / "out"
    export_dataset(small("digits", 1), dest, kind)
    (dest / CARD_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_dataset(dest if kind == "folder" else dest / "manifest.csv")
    assert str(err.value).startswith(str(dest / CARD_FILE))
    assert "\n" not in str(err.value) and " — " in str(err.value)
