"""Work a command finishes after its result is safe on disk, without holding the user's prompt.

``foveal train`` writes the bundle first; the report and plots (about 2 s for a small run, mostly
matplotlib and Grad-CAM) are then drawn by a detached copy of the process. The copy is forked, so it
needs no re-import and no re-decoding; it runs torch single-threaded (as PyTorch's own DataLoader
workers do after a fork), writes every file atomically, and leaves ``report.log`` only when it had
something to say (a warning or an error).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

WAIT_ENV = "FOVEAL_REPORT_WAIT"  # set to 1: draw the report before the command returns (scripts, CI)


def may_detach() -> bool:
    """Fork is available, not refused by the environment, and this is not one rank of a DDP job."""
    if not hasattr(os, "fork") or os.environ.get(WAIT_ENV, "").strip() not in ("", "0"):
        return False
    return int(os.environ.get("WORLD_SIZE", "1")) <= 1


def run_detached(job: Callable[[], None], log: Path) -> bool:
    """Start ``job`` in a detached grandchild and return True at once; False when it cannot be
    detached (the caller then runs it itself). A double fork, so no zombie is left to a long-lived
    caller (a notebook, a test session)."""
    if not may_detach():
        return False
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    child = os.fork()
    if child:
        os.waitpid(child, 0)  # the intermediate child exits at once
        return True
    try:
        os.setsid()  # out of the terminal's process group: Ctrl-C at the next prompt does not reach it
        if os.fork():
            os._exit(0)
        _run_job(job, log)
    finally:
        os._exit(0)  # never fall back into the caller's code (a CLI's printing, a test runner)


def _run_job(job: Callable[[], None], log: Path) -> None:
    """In the grandchild: quiet, single-threaded torch; output to ``log``, kept only when not empty."""
    partial = log.with_name(f".{log.name}.{os.getpid()}")
    with open(os.devnull, "rb") as null, open(partial, "wb") as out:
        os.dup2(null.fileno(), 0)
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    sys.stdout = open(1, "w", closefd=False)  # the caller's streams may not be fds 1 and 2 (a test runner's)
    sys.stderr = open(2, "w", closefd=False)
    if "torch" in sys.modules:  # a forked OpenMP pool is not usable; one thread never starts one
        sys.modules["torch"].set_num_threads(1)
    try:
        job()
    except BaseException:  # noqa: BLE001 - nobody is left to catch it: it goes to the log
        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if partial.stat().st_size:
        os.replace(partial, log)
    else:
        partial.unlink()
