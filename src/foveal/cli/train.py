"""`foveal train`."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console, metrics_table, parse_params, skipped_table
from foveal.errors import ConfigError


def train_command(
    data: Optional[str] = typer.Argument(None, help="Folder, manifest (.csv/.jsonl/.parquet) or built-in dataset."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Classical: svm, knn, random-forest, decision-tree, logistic; deep: cnn-small or a timm architecture (see `foveal models PATTERN`). [default: svm]"),
    features: Optional[str] = typer.Option(None, "--features", "-f", help="Comma-separated features, e.g. hog,lbp. [default: hog]"),
    scale: Optional[str] = typer.Option(None, "--scale", help="Feature scaling: auto (standardise all but pixels), standard, none. [default: auto]"),
    task: Optional[str] = typer.Option(None, "--task", help="auto, binary, multiclass, multilabel, hierarchical. [default: auto]"),
    image_size: Optional[str] = typer.Option(None, "--image-size", help="Side in pixels, or auto (most common size, at most 64; deep models: at least 32), or model (a timm model's own size). [default: auto]"),
    channels: Optional[str] = typer.Option(None, "--channels", help="1, 3 or auto. [default: auto]"),
    val_fraction: Optional[float] = typer.Option(None, "--val-fraction", help="Held out for validation when DATA has no val split. [default: 0.2]"),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed. [default: 0]"),
    param: Optional[list[str]] = typer.Option(None, "--param", "-p", help="Classifier parameter KEY=VALUE (repeatable), e.g. C=10."),
    max_skip_ratio: Optional[float] = typer.Option(None, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded. [default: 0.1]"),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Refuse images with more pixels (decompression bombs)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (new or empty). [default: runs/<name>-<n>]"),
    name: Optional[str] = typer.Option(None, "--name", help="Run name. [default: the model name]"),
    project: Optional[str] = typer.Option(None, "--project", help="Parent folder of run folders. [default: runs]"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file of options; flags override it."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip report.html (the validation report) in the run folder."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Deep: training epochs. [default: 30]", rich_help_panel="Deep models"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Deep: images per batch (per process under torchrun). [default: 64]", rich_help_panel="Deep models"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Deep: peak learning rate. [default: 1e-3]", rich_help_panel="Deep models"),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="Deep: adamw, adam, sgd, rmsprop. [default: adamw]", rich_help_panel="Deep models"),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="Deep: cosine, step, onecycle, none. [default: cosine]", rich_help_panel="Deep models"),
    warmup_epochs: Optional[float] = typer.Option(None, "--warmup-epochs", help="Deep: linear warm-up epochs. [default: 1]", rich_help_panel="Deep models"),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="Deep: L2 / decoupled weight decay. [default: 0.05]", rich_help_panel="Deep models"),
    l1: Optional[float] = typer.Option(None, "--l1", help="Deep: L1 penalty on weights. [default: 0]", rich_help_panel="Deep models"),
    dropout: Optional[float] = typer.Option(None, "--dropout", help="Deep: dropout before the classifier. [default: 0.1]", rich_help_panel="Deep models"),
    label_smoothing: Optional[float] = typer.Option(None, "--label-smoothing", help="Deep: label smoothing. [default: 0]", rich_help_panel="Deep models"),
    early_stopping: Optional[int] = typer.Option(None, "--early-stopping", metavar="PATIENCE", help="Deep: stop after PATIENCE epochs without a better validation metric. [default: off]", rich_help_panel="Deep models"),
    ema: Optional[bool] = typer.Option(None, "--ema/--no-ema", help="Deep: keep an exponential moving average of the weights (validated and shipped).", rich_help_panel="Deep models"),
    ema_decay: Optional[float] = typer.Option(None, "--ema-decay", help="Deep: EMA decay per update (warmed up from 0). [default: 0.998]", rich_help_panel="Deep models"),
    amp: Optional[bool] = typer.Option(None, "--amp/--no-amp", help="Deep: mixed precision (bf16, or fp16 with loss scaling on GPUs without bf16).", rich_help_panel="Deep models"),
    grad_clip: Optional[float] = typer.Option(None, "--grad-clip", help="Deep: clip the gradient norm to this. [default: off]", rich_help_panel="Deep models"),
    accumulate: Optional[int] = typer.Option(None, "--accumulate", help="Deep: batches per optimizer step. [default: 1]", rich_help_panel="Deep models"),
    deterministic: Optional[bool] = typer.Option(None, "--deterministic/--no-deterministic", help="Deep: deterministic algorithms (bitwise-reproducible on CPU).", rich_help_panel="Deep models"),
    compile_: Optional[bool] = typer.Option(None, "--compile/--no-compile", help="Deep: torch.compile the network.", rich_help_panel="Deep models"),
    channels_last: Optional[bool] = typer.Option(None, "--channels-last/--no-channels-last", help="Deep: channels-last memory format.", rich_help_panel="Deep models"),
    workers: Optional[int] = typer.Option(None, "--workers", help="Deep: CPU threads for torch (0: torch's default). Batches come from an in-RAM tensor, not DataLoader workers.", rich_help_panel="Deep models"),
    cache: Optional[str] = typer.Option(None, "--cache", help="Deep: auto, ram (decoded uint8 images kept in RAM) or none (decode batches from files). [default: auto]", rich_help_panel="Deep models"),
    augment: Optional[str] = typer.Option(None, "--augment", help="Deep: none, light (no flips), standard, strong. [default: light]", rich_help_panel="Deep models"),
    mixup: Optional[float] = typer.Option(None, "--mixup", help="Deep: Mixup alpha (single-label tasks). [default: 0]", rich_help_panel="Deep models"),
    cutmix: Optional[float] = typer.Option(None, "--cutmix", help="Deep: CutMix alpha (single-label tasks). [default: 0]", rich_help_panel="Deep models"),
    class_weights: Optional[str] = typer.Option(None, "--class-weights", help="Deep: none or auto (inverse class frequency). [default: none]", rich_help_panel="Deep models"),
    sampler: Optional[str] = typer.Option(None, "--sampler", help="Deep: shuffle or balanced. [default: shuffle]", rich_help_panel="Deep models"),
    loss: Optional[str] = typer.Option(None, "--loss", help="Deep: ce or focal. [default: ce]", rich_help_panel="Deep models"),
    hierarchical_softmax: Optional[bool] = typer.Option(None, "--hierarchical-softmax/--per-level", help="Deep, hierarchical tasks: conditional softmax along the path (scalable) instead of a loss per level.", rich_help_panel="Deep models"),
    pretrained: Optional[Path] = typer.Option(None, "--pretrained", help="Deep: initial weights (.safetensors or weights-only .pth; timm or torchvision names).", rich_help_panel="Deep models"),
    freeze_backbone: Optional[bool] = typer.Option(None, "--freeze-backbone/--no-freeze-backbone", help="Deep: train only the classifier (linear probe).", rich_help_panel="Deep models"),
    unfreeze_after: Optional[int] = typer.Option(None, "--unfreeze-after", help="Deep: freeze the backbone for N epochs, then train it at --backbone-lr-scale × lr.", rich_help_panel="Deep models"),
    backbone_lr_scale: Optional[float] = typer.Option(None, "--backbone-lr-scale", help="Deep: backbone learning-rate factor with --pretrained / --init-from / --unfreeze-after. [default: 0.1]", rich_help_panel="Deep models"),
    init_from: Optional[Path] = typer.Option(None, "--init-from", help="Deep: fine-tune an existing deep bundle (a new label set gets a new head).", rich_help_panel="Deep models"),
    device: Optional[str] = typer.Option(None, "--device", help="Deep: auto, cpu or cuda. [default: auto]", rich_help_panel="Deep models"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Deep: continue a run folder from its checkpoints/last.", rich_help_panel="Deep models"),
) -> None:
    """Train a classifier and write a run folder with its bundle in model/."""
    options = dict(locals())
    from foveal.training import run_training

    if options.pop("resume") is not None:
        _resume(resume, options)
        return
    result = run_training(config_from_options(options))
    if result is not None:  # None on DDP ranks other than 0
        _summary(result)


def _resume(run_dir: Path, options: dict) -> None:
    from foveal.deep.run import resume_config, run_deep

    given = [k for k, v in options.items() if v is not None and v is not False]
    if given:
        raise ConfigError(f"--resume continues a run with its saved options; {', '.join(given)} given too",
                          "drop the other options, or start a new run")
    result = run_deep(resume_config(run_dir), resume=run_dir)
    if result is not None:
        _summary(result)


def config_from_options(options: dict):
    """A ``TrainConfig`` from this command's option values: defaults < YAML file < flags.

    Options named like a ``TrainConfig`` field flow in unchanged (``compile_`` → ``compile``);
    ``foveal cv`` builds its config the same way.
    """
    from foveal.config import TrainConfig, read_yaml, resolve

    known = {f.name for f in fields(TrainConfig)}
    file = options.get("config")
    overrides: dict = {}
    for option, value in options.items():
        name = option.rstrip("_")
        if name in ("image_size", "channels") and isinstance(value, str) and value.isdigit():
            value = int(value)
        elif isinstance(value, Path):
            value = str(value)
        if name == "param" and value:
            file_params = read_yaml(file).get("params", {}) if file else {}
            overrides["params"] = {**file_params, **parse_params(value)}
        elif name == "no_report":
            overrides["report"] = False if value else None
        elif name in known:
            overrides[name] = value
        elif name not in ("param", "config") and value not in (None, False):
            raise ConfigError(f"--{name.replace('_', '-')} cannot be used here", "drop it")
    cfg = resolve(TrainConfig, file, overrides)
    if not cfg.data:
        raise typer.BadParameter("give DATA (a folder, a manifest or a built-in dataset), or data: in --config")
    return cfg


def _model_text(cfg) -> str:
    from foveal.training import is_deep

    return f"{cfg.model} on {cfg.features} features" if not is_deep(cfg) else cfg.model


def _summary(result) -> None:
    cfg = result.config
    prep = result.preprocessing
    h, w = prep["size"]
    console.print(f"[bold]trained[/] {_model_text(cfg)} · task {result.task} · "
                  f"{h}×{w}×{prep['channels']} · {result.n_train} train / {result.n_val} val images · "
                  f"{result.seconds:.1f} s")
    if result.metrics:
        console.print(metrics_table(result.metrics["metrics"], title="validation"))
    if result.skipped:
        err_console.print(skipped_table(result.skipped))
        err_console.print(f"the skipped files are listed in {result.run_dir / 'skipped.csv'}")
    console.print(f"run folder: {result.run_dir}")
    if (result.run_dir / "report.html").is_file():
        console.print(f"report:     {result.run_dir / 'report.html'}")
    console.print(f"bundle:     {result.bundle}")
