"""Dataset cards: a small ``dataset.json`` beside the data, holding facts the files cannot show.

Written by `foveal data export` and read by ``load_dataset`` from a folder root or a
manifest's folder. Known keys: ``name``, ``orientation_sensitive`` (flips and large
rotations change the label) and ``source``; unknown keys are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

from foveal.errors import DataError

CARD_FILE = "dataset.json"
CARD_SOURCE = "foveal data export"


def write_card(folder: Path, name: str, orientation_sensitive: bool) -> Path:
    """Write ``folder/dataset.json``; returns its path."""
    path = Path(folder) / CARD_FILE
    card = {"name": name, "orientation_sensitive": bool(orientation_sensitive), "source": CARD_SOURCE}
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path


def read_card(folder: Path) -> dict:
    """The known keys of ``folder/dataset.json`` ({} when there is none); a bad card is a DataError."""
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        detail = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8 text"
        raise DataError(f"{path} is not valid JSON ({detail})",
                        "fix or delete the dataset card (it is optional)") from None
    if not isinstance(card, dict):
        raise DataError(f"{path} must hold a JSON object", 'write e.g. {"orientation_sensitive": true}')
    return _known_keys(card, path)


def _known_keys(card: dict, path: Path) -> dict:
    out = {}
    if "name" in card:
        if not isinstance(card["name"], str):
            raise DataError(f"{path}: 'name' must be a string", "write the dataset's name in quotes")
        out["name"] = card["name"]
    if "orientation_sensitive" in card:
        if not isinstance(card["orientation_sensitive"], bool):
            raise DataError(f"{path}: 'orientation_sensitive' must be true or false",
                            "write true when flips or large rotations change the label, else false")
        out["orientation_sensitive"] = card["orientation_sensitive"]
    return out
