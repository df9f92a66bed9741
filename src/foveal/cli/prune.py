"""`foveal prune`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console


def prune_command(
    bundle: Path = typer.Argument(..., help="Deep (torch) bundle to prune (never modified)."),
    data: str = typer.Argument(..., help="Data: accuracy before/after on its test split; fine-tuning on the rest."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the new, pruned bundle."),
    amount: float = typer.Option(0.5, "--amount", help="Share of channels (structured) or weights (unstructured) to remove."),
    structured: bool = typer.Option(True, "--structured/--unstructured", help="Remove whole channels (faster on CPU) or zero single weights (sparser)."),
    finetune_epochs: int = typer.Option(0, "--finetune-epochs", help="Fine-tune the pruned network for N epochs through the ordinary trainer (0: off)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Fine-tuning learning rate. \\[default: 1e-3]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Fine-tuning batch size. \\[default: 64]"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML of training options for the fine-tuning run."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Keep the fine-tuning run folder here (default: a temporary one)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split for accuracy before/after. \\[default: test]"),
) -> None:
    """Prune a deep bundle (structured channels or unstructured weights), optionally fine-tune, and report
    parameters, MACs, latency and accuracy before and after."""
    from foveal.compress.prune import PruneOptions, prune_bundle

    finetune = {k: v for k, v in {"lr": lr, "batch_size": batch_size}.items() if v is not None}
    options = PruneOptions(amount=amount, structured=structured, finetune_epochs=finetune_epochs,
                           finetune=finetune, config=config, run_dir=run_dir, split=split)
    result = prune_bundle(bundle, data, out, options)
    print_report(result.report)
    console.print(f"pruned bundle: {result.bundle}")


def print_report(report: dict) -> None:
    from rich.table import Table

    stages = [s for s in ("before", "pruned", "finetuned") if s in report]
    table = Table(title=f"{report['method']} pruning, amount {report['amount']:g} "
                        f"({report['test']['n']} images of {report['test']['data']}, {report['test']['split']})",
                  header_style="bold")
    table.add_column("")
    for s in stages:
        table.add_column(s, justify="right")
    rows = [("parameters", "params", "{:,}"), ("non-zero parameters", "nonzero_params", "{:,}"),
            ("MACs", "macs", "{:,}"), ("latency p50 batch 1 (ms)", "latency_ms_p50", "{:.3f}"),
            ("images/s batch 64", "images_per_s_batch_64", "{:,.0f}"), (report["before"]["metric"], "value", "{:.4f}")]
    for label, key, form in rows:
        table.add_row(label, *(form.format(report[s][key]) for s in stages))
    console.print(table)
    console.print(f"speed-up at batch 64: {report['speedup_batch_64']:.2f}× · "
                  f"{report['before']['metric']} drop: {report['drop_points']:.2f} points")
