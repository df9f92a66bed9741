"""`foveal eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import confusion_table, console, err_console, metrics_table, skipped_table
from foveal.errors import ConfigError


def eval_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset to evaluate on."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to use, or all. [default: test if DATA has one, else all]"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON here."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    save_threshold: Optional[str] = typer.Option(None, "--save-threshold", help="Binary: write a new bundle that decides with this threshold: a number, best-f1 or youden (picked on the evaluated split). Needs --out."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="New bundle folder for --save-threshold."),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
    runtime: Optional[str] = typer.Option(None, "--runtime", help="Run the bundle on torch, onnx or sklearn explicitly (a torch bundle asked for onnx is exported in memory). \\[default: the bundle's own]"),
    tta: bool = typer.Option(False, "--tta", help="Test-time augmentation: average the probabilities over shifted and zoomed views (and flipped ones for models trained with flips); the views are listed in the output."),
) -> None:
    """Evaluate a bundle on labelled data."""
    from foveal.evaluation.run import evaluation_json, run_evaluation
    from foveal.files import write_json

    if save_threshold is not None and out is None:
        raise ConfigError("--save-threshold writes a new bundle", "add --out DIR for it")
    if out is not None and save_threshold is None:
        raise ConfigError("--out is only used with --save-threshold", "add --save-threshold, or drop --out")
    if runtime is not None:
        from foveal.compress.runtime import load_for_runtime

        bundle = load_for_runtime(bundle, runtime)
    if tta:
        if save_threshold is not None:
            raise ConfigError("--save-threshold picks a threshold for the bundle as saved, without TTA", "drop --tta")
        from foveal.audit.tta import with_tta
        from foveal.bundle import load_bundle

        bundle = with_tta(load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle)
    ev = run_evaluation(bundle, data, split=split, max_skip_ratio=max_skip_ratio)
    result = evaluation_json(ev)
    _print_result(result)
    if json_out:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
    if report:
        from foveal.evaluation.report import write_report

        write_report(ev, report)
        console.print(f"wrote {report}")
    if save_threshold is not None:
        from foveal.transforms.threshold import save_threshold_bundle

        if ev.split == "test" and save_threshold in ("best-f1", "youden"):
            err_console.print("[yellow]note: choosing a threshold on the test split makes later test "
                              "numbers optimistic; prefer --split val[/]")
        path, value = save_threshold_bundle(ev, save_threshold, out)
        console.print(f"decision threshold {value:.4f} ({save_threshold}) → new bundle {path}")


def _print_result(result: dict) -> None:
    console.print(f"[bold]{result['task']}[/] · {result['n']} images · split {result['split']} of {result['data']}")
    console.print(metrics_table(result["metrics"]))
    if "confusion_matrix" in result and len(result["classes"]) <= 20:
        console.print(confusion_table(result["classes"], result["confusion_matrix"]))
    thresholds = result.get("thresholds", {})
    if "best_f1" in thresholds:
        b, j = thresholds["best_f1"], thresholds["youden"]
        console.print(f"thresholds: best F1 {b['f1']:.4f} at {b['threshold']:.4f} · "
                      f"Youden J {j['j']:.4f} at {j['threshold']:.4f}")
    for name, domain in result.get("domains", {}).items():  # a manifest's domain column
        console.print(metrics_table(domain["metrics"], title=f"domain {name} ({domain['n']} images)"))
    if "per_label" in result:
        per = {f"{k} f1": v["f1"] for k, v in result["per_label"].items()}
        console.print(metrics_table(per, title="per label"))
    if result["skipped"]:
        err_console.print(skipped_table(result["skipped"]))
