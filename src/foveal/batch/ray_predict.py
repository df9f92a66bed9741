"""Batch prediction on Ray Data: the file list becomes a dataset, a pool of actors (each loading the
bundle once) decodes and predicts it in batches, and the rows — the same objects as
``foveal predict --format json`` — are written as Parquet or JSON Lines shards.

Paths are read by the actors, so on a multi-node cluster the inputs and the output folder must be
on storage every node sees (a shared file system).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import uuid
from pathlib import Path

from foveal.errors import ConfigError

FORMATS = ("parquet", "jsonl")


def prediction_schema(task_type: str):
    """Arrow schema of the rows: ``prediction`` is a list for multi-label, ``scores`` an ordered map."""
    import pyarrow as pa

    label = pa.list_(pa.string()) if task_type == "multilabel" else pa.string()
    return pa.schema([("path", pa.string()), ("prediction", label), ("scores", pa.map_(pa.string(), pa.float64())),
                      ("top_k", pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))),
                      ("error", pa.string())])


def rows_to_table(rows: list[dict], schema):
    import pyarrow as pa

    return pa.Table.from_pylist([{**row, "scores": list(row["scores"].items())} for row in rows], schema=schema)


def table_to_rows(table) -> list[dict]:
    """Rows back as ``foveal predict --format json`` objects (scores as a dict, in score order)."""
    return [{**row, "scores": dict(row["scores"] or [])} for row in table.to_pylist()]


def read_predictions(folder: Path) -> list[dict]:
    """Every row of the shards in ``folder`` (Parquet or JSON Lines)."""
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for shard in sorted(Path(folder).iterdir()):
        if shard.suffix == ".parquet":
            rows += table_to_rows(pq.read_table(shard))
        elif shard.suffix == ".jsonl":
            rows += [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines() if line]
    return rows


class BundleActor:
    """One Ray actor: loads the bundle once, then predicts batches of paths (errors become rows)."""

    def __init__(self, bundle: str, top_k: int, threads: int = 1) -> None:
        from foveal.bundle import load_bundle

        try:
            import torch

            torch.set_num_threads(max(1, threads))
        except ImportError:
            pass
        self.predictor = load_bundle(bundle)
        self.top_k = top_k
        self.schema = prediction_schema(self.predictor.task.type)

    def __call__(self, batch):
        from foveal.progress import quiet

        paths = [Path(p) for p in batch.column("path").to_pylist()]
        with quiet():
            results = self.predictor.predict_files(paths, top_k=self.top_k, names=batch.column("name").to_pylist())
        return rows_to_table([r.to_json() for r in results], self.schema)


def jsonl_sink(path: str):
    """A Ray datasink writing one JSON object per line, floats exactly as ``json`` writes them."""
    from ray.data.datasource import BlockBasedFileDatasink

    from foveal.files import to_json

    class JsonlSink(BlockBasedFileDatasink):
        def __init__(self, folder: str) -> None:
            super().__init__(folder, file_format="jsonl")

        def write_block_to_file(self, block, file) -> None:
            rows = table_to_rows(block.to_arrow())
            file.write("".join(to_json(row, indent=None) for row in rows).encode("utf-8"))

    return JsonlSink(path)


def predict_with_ray(bundle: Path, files: list[Path], output: Path, *, fmt: str = "parquet", top_k: int = 1,
                     address: str | None = None, batch_size: int = 64, actors: int | None = None) -> dict:
    """Predict ``files`` on Ray and write shards into ``output`` (new or empty; written whole or not at all)."""
    import ray

    from foveal.bundle import load_bundle, resolve_bundle_path

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} does not apply to --engine ray", f"use one of {', '.join(FORMATS)}")
    output = Path(output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ConfigError(f"{output} exists and is not an empty folder", "give --output a new or empty folder")
    bundle = resolve_bundle_path(bundle).resolve()
    load_bundle(bundle)  # a broken bundle fails here, before the cluster does any work
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the CLI prints its own summary
    staging = output.parent.resolve() / f".{output.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        ds = _prediction_dataset(bundle, files, top_k, batch_size, actors)
        if fmt == "parquet":
            ds.write_parquet(str(staging))
        else:
            ds.write_datasink(jsonl_sink(str(staging)))
        if output.exists():
            output.rmdir()
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if started:
            ray.shutdown()
    rows = read_predictions(output)
    return {"rows": len(rows), "errors": sum(r["error"] is not None for r in rows),
            "shards": len(list(output.iterdir())), "path": str(output)}


def _prediction_dataset(bundle: Path, files: list[Path], top_k: int, batch_size: int, actors: int | None):
    import ray

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    items = [{"path": str(Path(f).resolve()), "name": str(f)} for f in files]  # names as `foveal predict` shows them
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    blocks = max(math.ceil(len(items) / batch_size), min(len(items), cpus))  # at least one block per CPU
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    pool = ray.data.ActorPoolStrategy(size=actors) if actors else ray.data.ActorPoolStrategy(min_size=1, max_size=cpus)
    return ds.map_batches(BundleActor, fn_constructor_kwargs={"bundle": str(bundle), "top_k": top_k},
                          batch_size=batch_size, batch_format="pyarrow", compute=pool, num_cpus=1)
