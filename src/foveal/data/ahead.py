"""Decoding started before it is needed: a deep run decodes its images while torch and timm import.

Importing torch and timm takes about 3 s of one core, during which the other cores idle. A thread
cannot use them (decoding holds the GIL often enough to slow the import by as much as it saves), so
:func:`decode_ahead` forks a child — before torch is imported, while the process holds no threads
of its own — that decodes with :func:`~foveal.data.images.load_images` into shared memory and sends
the rest (kept rows, hashes, skipped files) through a pipe. The first later ``load_images`` of the
same files at the same preprocessing takes that result; any failure of the child makes it decode as
usual, so errors surface where they always did. :func:`cancel` stops a child that is not needed.
"""

from __future__ import annotations

import json
import mmap
import os
import sys

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import LoadedImages, Preprocessing

_pending: dict[tuple, tuple[int, int, mmap.mmap]] = {}  # key → (child pid, read end of its pipe, pixels)


def _key(ds: Dataset, prep: Preprocessing) -> tuple:
    return str(ds.root), tuple(ds.location(i) for i in range(len(ds))), prep


def possible() -> bool:
    """Only worth it (and only safe) before torch is imported, where fork exists."""
    return hasattr(os, "fork") and "torch" not in sys.modules


def decode_ahead(ds: Dataset, prep: Preprocessing) -> bool:
    """Start decoding every image file of ``ds`` in a forked child; False when nothing was started."""
    if ds.images is not None or not len(ds) or not possible():
        return False
    h, w = prep.size
    pixels = mmap.mmap(-1, len(ds) * h * w * prep.channels)  # anonymous and shared: the child writes here
    read, write = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(ds, prep, pixels, write)
    os.close(write)
    _pending[_key(ds, prep)] = (pid, read, pixels)
    return True


def _child(ds: Dataset, prep: Preprocessing, pixels: mmap.mmap, write: int) -> None:
    from foveal.data.images import load_images
    from foveal.progress import quiet

    code = 1
    try:
        with quiet():  # no progress bar: the parent, importing, draws nothing either
            loaded = load_images(ds, prep, 1.0, "Decoding", ahead=False)
        np.frombuffer(pixels, dtype=np.uint8)[:loaded.images.size] = loaded.images.reshape(-1)
        meta = {"n": len(loaded.images), "kept": loaded.kept.tolist(), "hashes": loaded.hashes,
                "skipped": loaded.skipped}
        with os.fdopen(write, "w") as pipe:
            json.dump(meta, pipe)
        code = 0
    finally:
        os._exit(code)  # never return into the caller's code


def take(ds: Dataset, prep: Preprocessing) -> LoadedImages | None:
    """The images of ``ds`` at ``prep`` decoded ahead (waiting for the child), else None."""
    found = _pending.pop(_key(ds, prep), None) if _pending and ds.images is None else None
    if found is None:
        return None
    pid, read, pixels = found
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not text:
        return None
    meta = json.loads(text)
    h, w = prep.size
    images = np.frombuffer(pixels, dtype=np.uint8)[:meta["n"] * h * w * prep.channels]
    return LoadedImages(images=images.reshape(meta["n"], h, w, prep.channels),
                        kept=np.array(meta["kept"], dtype=int), hashes=meta["hashes"], skipped=meta["skipped"])


def cancel() -> None:
    """Stop every child whose images were not taken (a run that failed a check, or guessed wrong)."""
    import signal

    while _pending:
        _, (pid, read, _pixels) = _pending.popitem()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
