"""Samples with identical content: found by a key per sample (e.g. the sha256 of the file's bytes)."""

from __future__ import annotations

from collections import defaultdict

from foveal.data.dataset import Dataset


def content_duplicates(keys: list[str | None]) -> list[list[int]]:
    """Groups of two or more indices sharing a key, each sorted, in order of first index.

    A None (or empty) key, e.g. for a file that could not be read, matches nothing.
    """
    members: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key:
            members[key].append(i)
    return sorted(group for group in members.values() if len(group) > 1)


def conflicting_labels(ds: Dataset, keys: list[str | None]) -> list[list[int]]:
    """The :func:`content_duplicates` groups of ``ds`` whose samples carry different labels."""
    return [group for group in content_duplicates(keys) if len({_label_key(ds.labels[i]) for i in group}) > 1]


def _label_key(label) -> str:
    """A comparable form of one sample's label (multi-label lists compare as sets)."""
    return repr(sorted(set(label))) if isinstance(label, list) else str(label)
