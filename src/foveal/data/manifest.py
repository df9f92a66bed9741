"""Manifest sources: CSV, JSONL or Parquet tables with ``path`` and ``label`` or ``labels``.

Paths resolve under the manifest's folder; absolute paths, ``~``, ``..`` and
symlinks that lead outside it are refused with the row's line number. Every
row is checked before anything is reported, and all bad rows are named at once.
CSV cells escaped against formula injection (:mod:`foveal.csvio`) read back as written.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from foveal.csvio import restore
from foveal.data.dataset import SPLITS, canonical_split
from foveal.errors import DataError

MANIFEST_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
MAX_LISTED_PROBLEMS = 5

# A reader's row: (locator such as ":12" or ": row 3", the row's cells or the problem found reading it).
Row = tuple[str, dict | DataError]


@dataclass
class ManifestRows:
    paths: list[str] = field(default_factory=list)
    labels: list = field(default_factory=list)
    split: list[str | None] = field(default_factory=list)
    group: list[str | None] = field(default_factory=list)
    domain: list[str | None] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)  # "manifest.csv:12" per row
    attributes: dict[str, list[str | None]] = field(default_factory=dict)  # the other columns (site, …)


KNOWN_COLUMNS = frozenset({"path", "label", "labels", "split", "group", "domain"})


def _read_csv(path: Path) -> list[Row]:
    """CSV rows keyed by the (stripped) header; cells restored from formula escaping."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames:
            reader.fieldnames = [restore(name.strip()) for name in reader.fieldnames]
        if not reader.fieldnames:
            raise DataError(f"{path} is empty", "write a header row: path,label")
        rows: list[Row] = []
        for row in reader:
            locator = f":{reader.line_num}"
            if None in row:
                rows.append((locator, DataError(f"{path}{locator}: more fields than the header has",
                                                "quote values that contain commas")))
                continue
            rows.append((locator, {k: v if v is None else restore(v) for k, v in row.items()}))
        return rows


def _read_jsonl(path: Path) -> list[Row]:
    rows: list[Row] = []
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                rows.append((f":{number}", _json_row(line, f"{path}:{number}")))
    return rows


def _json_row(line: str, where: str) -> dict | DataError:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return DataError(f"{where}: not valid JSON ({err.msg})", "write one JSON object per line")
    if not isinstance(row, dict):
        return DataError(f"{where}: expected a JSON object", 'write e.g. {"path": "a.png", "label": "cat"}')
    return row


def _read_parquet(path: Path) -> list[Row]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow", "pip install 'foveal[parquet]'") from None
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for files it cannot read
        detail = " ".join(str(err).split())  # pyarrow messages can span lines
        raise DataError(f"{path}: not a readable Parquet file ({detail})", "write the manifest again, or use CSV") from None
    return [(f": row {i + 1}", row) for i, row in enumerate(table.to_pylist())]


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
    if raw.startswith("~"):
        raise DataError(f"{where}: home-folder path {raw!r} is not allowed (like an absolute path)",
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


def _parse_row(row: dict, where: str, root: Path, label_column: str | None) -> tuple:
    """(path, label(s), split, group, domain) of one row; a problem raises with ``where``."""
    rel = safe_relative(root, row.get("path"), where)
    if label_column is None:  # an unlabelled manifest
        label = None
    elif label_column == "labels":
        label = _parse_labels(row.get("labels"), where)
    else:
        label = _text(row.get("label"))
        if not label:
            raise DataError(f"{where}: empty label", "give every row a label, or remove the row")
    split_text = _text(row.get("split"))
    split = canonical_split(split_text)
    if split_text and split is None:
        raise DataError(f"{where}: unknown split {split_text!r}", f"use one of {', '.join(SPLITS)} or leave it empty")
    return rel, label, split, _text(row.get("group")) or None, _text(row.get("domain")) or None


def _parse_rows(rows: list[Row], path: Path, label_column: str | None) -> ManifestRows:
    """Every row parsed; the problems of all bad rows raise together in one line."""
    out, problems = ManifestRows(), []
    extra = sorted({str(k) for _, r in rows if isinstance(r, dict) for k in r} - KNOWN_COLUMNS)
    out.attributes = {name: [] for name in extra}
    for locator, row in rows:
        try:
            if isinstance(row, DataError):
                raise row
            values = _parse_row(row, f"{path}{locator}", path.parent, label_column)
        except DataError as err:
            problems.append(err)
            continue
        for column, value in zip((out.paths, out.labels, out.split, out.group, out.domain), values):
            column.append(value)
        for name in extra:
            out.attributes[name].append(_text(row.get(name)) or None)
        out.origin.append(f"{path.name}{locator}")
    if problems:
        raise _all_problems(problems)
    return out


def _all_problems(problems: list[DataError]) -> DataError:
    """One error for many bad rows: the first MAX_LISTED_PROBLEMS, then how many more."""
    if len(problems) == 1:
        return problems[0]
    listed = "; ".join(p.what for p in problems[:MAX_LISTED_PROBLEMS])
    more = len(problems) - MAX_LISTED_PROBLEMS
    fixes = {p.fix for p in problems}
    fix = fixes.pop() if len(fixes) == 1 else "fix each listed row"
    return DataError(f"{len(problems)} bad rows: {listed}" + (f"; … and {more} more" if more > 0 else ""),
                     fix)


def read_manifest(path: Path, labels_required: bool = True) -> ManifestRows:
    """Parse and validate every row; all bad rows raise together, each with its line number.

    Without ``labels_required`` a manifest may lack both label columns (its labels are then None)."""
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
    return _parse_rows(rows, path, _label_column(path, rows, labels_required))


def _label_column(path: Path, rows: list[Row], required: bool = True) -> str | None:
    """``label`` or ``labels``, after checking the columns the readable rows have."""
    if not any(isinstance(r, dict) for _, r in rows):
        raise _all_problems([r for _, r in rows])
    columns = set().union(*(r.keys() for _, r in rows if isinstance(r, dict)))
    if "path" not in columns:
        raise DataError(f"{path} has no 'path' column (columns: {', '.join(sorted(columns))})",
                        "name the image column 'path'")
    if not required and not {"label", "labels"} & columns:
        return None
    if ("label" in columns) == ("labels" in columns):
        raise DataError(f"{path} needs exactly one of the columns 'label' and 'labels'",
                        "use 'label' for one class per image, 'labels' (a|b or a JSON list) for several")
    return "labels" if "labels" in columns else "label"
