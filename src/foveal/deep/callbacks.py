"""Callbacks that print progress and keep the run folder: metrics.csv, checkpoints."""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

from foveal.deep.trainer import Callback, Loop
from foveal.files import atomic_write_bytes, atomic_write_text
from foveal.progress import is_quiet, stderr_console

FIRST = ("epoch", "train_loss", "val_loss")
LAST = ("lr", "images_per_s")
TIMING = ("train_seconds", "val_seconds")  # seconds each epoch's training and validation took (not shown on the console)


class ConsoleProgress(Callback):
    """A bar per epoch (images/s, ETA) on a terminal, and one line per epoch unless ``--quiet``."""

    def __init__(self) -> None:
        self.bar = None
        self.started = time.perf_counter()
        self.first_epoch: int | None = None  # epochs already done when this process started (resume)
        self.explained = False

    def on_epoch_start(self, loop: Loop, n_batches: int) -> None:
        if self.first_epoch is None:
            self.first_epoch = loop.state.epoch
        if is_quiet() or not sys.stderr.isatty():
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]} img/s"), TimeRemainingColumn(),
                            console=stderr_console(), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("", total=n_batches, completed=loop.state.step,
                                      epoch=f"{loop.state.epoch + 1}/{loop.cfg.epochs}", rate="…")
        self.seen, self.t0 = 0, time.perf_counter()

    def on_batch_end(self, loop: Loop, images: int) -> None:
        if self.bar is not None:
            self.seen += images
            rate = self.seen / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.update(self.task, advance=1, rate=f"{rate:,.0f}")

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def on_epoch_end(self, loop: Loop, record: dict, improved: bool) -> None:
        self._close()
        if is_quiet():
            return
        done, total = record["epoch"], loop.cfg.epochs
        elapsed = time.perf_counter() - self.started
        eta = elapsed / max(done - (self.first_epoch or 0), 1) * (total - done)
        shown = " · ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in record.items()
                           if k not in ("epoch", "images_per_s", *TIMING))
        stderr_console().print(f"epoch {done}/{total} · {shown} · {record['images_per_s']:,.0f} img/s · "
                               f"ETA {eta:.0f} s{' *' if improved else ''}", highlight=False)
        if loop.state.metric and not self.explained:
            self.explained = True
            stderr_console().print(f"(* marks a new best validation {loop.state.metric}; the best epoch's weights "
                                   "are the ones kept)", highlight=False)

    def on_interrupt(self, loop: Loop) -> None:
        self._close()

    def on_train_end(self, loop: Loop) -> None:
        self._close()


def metrics_csv(history: list[dict]) -> str:
    seen = list(dict.fromkeys(k for r in history for k in r))
    timing = [k for k in TIMING if k in seen]
    columns = [*FIRST, *(k for k in seen if k not in FIRST + LAST + TIMING), *LAST, *timing]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


class RunFolder(Callback):
    """Keeps ``metrics.csv`` and ``checkpoints/{last,best}.safetensors`` current (``curves.png`` is drawn
    by the run pipeline from ``metrics.csv``, also for an interrupted run).

    Checkpoints are serialised at the epoch's end (0.2 s for resnet18 with AdamW) and written
    (temporary file, fsync, rename) by one background thread while the next epoch trains; the
    previous write is awaited before the next one and at the end, so its errors still stop the run.
    With ``defer``, the end of training does not wait for the last write: whoever saves the model
    calls ``settle`` after that, so the two overlap — and the last scheduled epoch's checkpoint is
    also serialised in the background, beside the single-threaded saving of the bundle. (Serialising
    in the background during an epoch slowed that epoch on 2 cores by more than it saved.)"""

    def __init__(self, run_dir: Path, defer: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.defer = defer
        self.checkpoints = self.run_dir / "checkpoints"
        self.writer = None  # a one-thread executor, made on first use
        self.pending: list = []

    def _write(self, name: str, tensors: dict, info: dict, serialise_here: bool = True) -> None:
        """Write checkpoints/NAME in the background; ``tensors`` are copies that nobody changes."""
        from concurrent.futures import ThreadPoolExecutor

        from foveal.deep.checkpoint import checkpoint_bytes, save_checkpoint

        self.writer = self.writer or ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        path = self.checkpoints / name
        job = (atomic_write_bytes, path, checkpoint_bytes(tensors, info)) if serialise_here else \
            (save_checkpoint, path, tensors, info)
        self.pending.append(self.writer.submit(*job))

    def _wait(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def _save_last(self, loop: Loop, serialise_here: bool = True) -> None:
        from foveal.deep.checkpoint import snapshot

        self._write("last.safetensors", *snapshot(loop), serialise_here=serialise_here)

    def on_epoch_end(self, loop: Loop, record: dict, improved: bool) -> None:
        atomic_write_text(self.run_dir / "metrics.csv", metrics_csv(loop.state.history))
        self._wait()
        here = not (self.defer and loop.state.epoch >= loop.cfg.epochs)  # no epoch follows to slow down
        if improved and loop.best_weights is not None:  # a copy the loop replaces, never changes
            self._write("best.safetensors", {f"model/{k}": v for k, v in loop.best_weights.items()},
                        {"format": "foveal-best", "epoch": loop.state.epoch, "score": loop.state.best_score}, here)
        self._save_last(loop, here)

    def on_interrupt(self, loop: Loop) -> None:
        self._wait()
        self._save_last(loop)
        self.settle()

    def on_train_end(self, loop: Loop) -> None:
        if not self.defer:
            self.settle()

    def on_error(self, loop: Loop) -> None:
        """Let a checkpoint write in flight land before the run's error is reported (and its folder judged)."""
        for future in self.pending:
            future.exception()  # waits; the run's own error is the one to report
        self.pending = []

    def settle(self) -> None:
        """Wait for the writes in flight (raising their errors) and stop the writer thread."""
        self._wait()
        if self.writer is not None:
            self.writer.shutdown()
            self.writer = None
