"""`foveal bench`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console


def bench_command(
    bundles: list[Path] = typer.Argument(..., help="Bundles to measure (torch, ONNX fp32/int8, pruned, classical)."),
    data: Optional[str] = typer.Option(None, "--data", help="Measure accuracy on its test split too (and time on its images)."),
    batch: str = typer.Option("1,64", "--batch", help="Batch sizes: latency at the smallest, throughput at the largest."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch and onnxruntime. \\[default: theirs]"),
    calls: int = typer.Option(100, "--calls", min=5, help="Batch-1 calls behind the latency percentiles."),
    seconds: float = typer.Option(2.0, "--seconds", min=0.05, help="Time each throughput measurement runs for (at least)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the table as JSON here."),
) -> None:
    """Latency p50/p95/p99 at batch 1, throughput, peak memory, size and accuracy across bundles and runtimes."""
    from foveal.compress.bench import BenchOptions, parse_batches, run_bench
    from foveal.files import write_json

    options = BenchOptions(batches=parse_batches(batch), threads=threads, data=data, calls=calls, seconds=seconds)
    rows = run_bench(bundles, options)
    console.print(table(rows))
    if json_out:
        write_json(json_out, {"batches": list(options.batches), "threads": threads, "data": data,
                              "rows": [r.to_json() for r in rows]})
        console.print(f"wrote {json_out}")


def table(rows):
    from rich.table import Table

    out = Table(header_style="bold", title="foveal bench")
    for name in ("bundle", "variant", "p50 ms", "p95 ms", "p99 ms", "images/s", "peak MiB", "size MiB", "accuracy"):
        out.add_column(name, justify="left" if name in ("bundle", "variant") else "right")
    for r in rows:
        acc = next(iter(r.accuracy.values()), None)
        out.add_row(Path(r.bundle).name if Path(r.bundle).name != "model" else str(Path(r.bundle).parent.name),
                    r.variant, f"{r.latency_ms['p50']:.2f}", f"{r.latency_ms['p95']:.2f}", f"{r.latency_ms['p99']:.2f}",
                    f"{r.images_per_s:,.0f} @{r.batch}", f"{r.peak_memory_mib:.0f}", f"{r.size_mib:.2f}",
                    "—" if acc is None else f"{acc:.4f}")
    return out
