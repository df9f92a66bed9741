"""CSV cells safe to open in a spreadsheet (CWE-1236: formula injection), and read back exactly.

A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
written with a leading ``'`` so spreadsheets show it as text instead of running
it; a cell already starting with ``'`` gets one too, so :func:`restore` can undo
the escaping without ambiguity. Numbers are written unchanged.
"""

from __future__ import annotations

import csv
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_STARTS = (*FORMULA_STARTS, "'")


def neutralise(value: object) -> str:
    """The cell text for ``value``: numbers as they are, risky text prefixed with ``'``; None is empty."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number):  # int, float, bool, numpy scalars
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_ESCAPED_STARTS) else text


def restore(text: str) -> str:
    """Undo :func:`neutralise`: drop one leading ``'`` that precedes a formula character or ``'``."""
    if len(text) >= 2 and text[0] == "'" and text[1] in _ESCAPED_STARTS:
        return text[1:]
    return text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (``\\n`` line ends) with every header and body cell neutralised."""
    return "".join(_line([neutralise(cell) for cell in row]) for row in (header, *rows))


def _line(cells: list[str]) -> str:
    """One CSV record; a lone empty cell is written ``""`` so the line does not read as blank."""
    if cells == [""]:
        return '""\n'
    return ",".join(_quoted(cell) for cell in cells) + "\n"


def _quoted(cell: str) -> str:
    """RFC 4180 quoting, also for a lone ``\\r`` (which csv.writer leaves bare with ``\\n`` line ends)."""
    if any(c in cell for c in ',"\n\r'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a CSV file as dicts keyed by the header, every cell and header name restored."""
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [restore(name) for name in next(reader, [])]
        return [dict(zip(header, (restore(cell) for cell in row))) for row in reader]
