"""Manifest sources: CSV, JSONL or Parquet tables with ``path`` and ``label`` or ``labels``.

Paths resolve under the manifest's folder; absolute paths, ``..`` and
symlinks that lead outside it are refused with the row's line number.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from foveal.data.dataset import SPLITS, canonical_split
from foveal.errors import DataError

MANIFEST_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class ManifestRows:
    paths: list[str] = field(default_factory=list)
    labels: list = field(default_factory=list)
    split: list[str | None] = field(default_factory=list)
    group: list[str | None] = field(default_factory=list)
    domain: list[str | None] = field(default_factory=list)


def _read_csv(path: Path) -> list[tuple[str, dict]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames:
            reader.fieldnames = [name.strip() for name in reader.fieldnames]
        if not reader.fieldnames:
            raise DataError(f"{path} is empty", "write a header row: path,label")
        rows = []
        for row in reader:
            if None in row:
                raise DataError(f"{path}:{reader.line_num}: more fields than the header has",
                                "quote values that contain commas")
            rows.append((f"{path}:{reader.line_num}", row))
        return rows


def _read_jsonl(path: Path) -> list[tuple[str, dict]]:
    rows = []
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: not valid JSON ({err.msg})", "write one JSON object per line") from None
            if not isinstance(row, dict):
                raise DataError(f"{where}: expected a JSON object", 'write e.g. {"path": "a.png", "label": "cat"}')
            rows.append((where, row))
    return rows


def _read_parquet(path: Path) -> list[tuple[str, dict]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow", "pip install 'foveal[parquet]'") from None
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for files it cannot read
        detail = " ".join(str(err).split())  # pyarrow messages can span lines
        raise DataError(f"{path}: not a readable Parquet file ({detail})", "write the manifest again, or use CSV") from None
    return [(f"{path}: row {i + 1}", row) for i, row in enumerate(table.to_pylist())]


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def safe_relative(root: Path, value: str, where: str) -> str:
    """The manifest path as a POSIX path relative to ``root``, refusing escapes."""
    raw = _text(value)
    if not raw:
        raise DataError(f"{where}: empty path", "give each row the image's path relative to the manifest")
    posix = PurePosixPath(raw.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(raw).drive:
        raise DataError(f"{where}: absolute path {raw!r} is not allowed",
                        f"write paths relative to the manifest's folder {root}")
    if ".." in posix.parts:
        raise DataError(f"{where}: path {raw!r} leaves the manifest's folder through '..'",
                        f"move the image under {root} and write its path relative to it")
    resolved = (root / posix).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise DataError(f"{where}: path {raw!r} is a symlink leading outside {root}",
                        "copy the image under the manifest's folder instead of linking to it")
    return posix.as_posix()


def _parse_labels(value, where: str) -> list[str]:
    if isinstance(value, list):
        names = [_text(v) for v in value]
    else:
        text = _text(value)
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                raise DataError(f"{where}: labels {text!r} is not a valid JSON list",
                                'write ["cat", "dog"] or cat|dog') from None
            return _parse_labels(parsed if isinstance(parsed, list) else [parsed], where)
        if not text:
            raise DataError(f"{where}: empty labels", 'give at least one label, or [] for an image with none')
        names = [n.strip() for n in text.split("|")]
    if any(not n for n in names):
        raise DataError(f"{where}: an empty label in {value!r}", "remove the stray '|' or empty entry")
    return sorted(set(names))


def _parse_row(row: dict, where: str, root: Path, label_column: str, out: ManifestRows) -> None:
    out.paths.append(safe_relative(root, row.get("path"), where))
    if label_column == "labels":
        out.labels.append(_parse_labels(row.get("labels"), where))
    else:
        label = _text(row.get("label"))
        if not label:
            raise DataError(f"{where}: empty label", "give every row a label, or remove the row")
        out.labels.append(label)
    split_text = _text(row.get("split"))
    split = canonical_split(split_text)
    if split_text and split is None:
        raise DataError(f"{where}: unknown split {split_text!r}", f"use one of {', '.join(SPLITS)} or leave it empty")
    out.split.append(split)
    out.group.append(_text(row.get("group")) or None)
    out.domain.append(_text(row.get("domain")) or None)


def read_manifest(path: Path) -> ManifestRows:
    """Parse and validate every row; the first problem raises with its line number."""
    kind = MANIFEST_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unknown manifest type {path.suffix!r}",
                        f"use one of {', '.join(sorted(MANIFEST_SUFFIXES))}")
    try:
        rows = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[kind](path)
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text (byte {err.start})", "save the manifest as UTF-8") from None
    if not rows:
        raise DataError(f"{path} has no rows", "add one row per image")
    columns = set().union(*(r.keys() for _, r in rows))
    if "path" not in columns:
        raise DataError(f"{path} has no 'path' column (columns: {', '.join(sorted(columns))})",
                        "name the image column 'path'")
    if ("label" in columns) == ("labels" in columns):
        raise DataError(f"{path} needs exactly one of the columns 'label' and 'labels'",
                        "use 'label' for one class per image, 'labels' (a|b or a JSON list) for several")
    label_column = "labels" if "labels" in columns else "label"
    out = ManifestRows()
    for where, row in rows:
        _parse_row(row, where, path.parent, label_column, out)
    return out
