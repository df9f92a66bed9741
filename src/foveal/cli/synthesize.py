"""`foveal synthesize`: class-conditional GAN samples for rare classes, written apart from the data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.errors import ConfigError

DEFAULT_N = 100
TRAINING = ("epochs", "batch_size", "image_size", "channels", "run_dir")


def synthesize_command(
    data: Optional[str] = typer.Argument(None, metavar="DATA", help="Labelled images to learn from (folder, "
                                         "manifest or built-in dataset); with --generator, optional: scores samples."),
    classes: list[str] = typer.Option([], "--class", help="A class to synthesize (repeat for more)."),
    n: Optional[int] = typer.Option(None, "--n", help="Samples per class.", show_default="100"),
    out: Optional[Path] = typer.Option(None, "--out", help="New folder for the PNGs, manifest.csv, grid and quality."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="GAN training epochs.", show_default="60"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="GAN batch size.", show_default="32"),
    image_size: Optional[int] = typer.Option(None, "--image-size", help="Side of the generated images: 8, 16, 32 "
                                             "or 64.", show_default="32"),
    channels: Optional[str] = typer.Option(None, "--channels", help="1, 3 or auto (as the data).", show_default="auto"),
    seed: int = typer.Option(0, "--seed", help="Seed of training and of the samples drawn."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Run folder for checkpoints and the generator.",
                                           show_default="runs/synth-N"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run folder (its saved "
                                          "options; --epochs, --n and --out may be given)."),
    generator: Optional[Path] = typer.Option(None, "--generator", help="Draw from a trained run folder's generator "
                                             "instead of training."),
) -> None:
    """Train a small class-conditional DCGAN on DATA and write N synthetic images of each --class into --out,
    with a manifest marking every row origin=synthetic. Nothing is added to DATA: to train with the samples,
    pass a manifest that lists them (see the README)."""
    from foveal.deep.trainer import Interrupted

    given = {k: v for k, v in locals().items() if k in TRAINING and v is not None}
    try:
        if generator is not None:
            result = _draw(generator, data, classes, n, seed, out, given, resume)
        elif resume is not None:
            result = _resume(resume, data, classes, n, out, given)
        else:
            result = _train(data, classes, n, seed, out, given)
    except Interrupted as stop:
        raise typer.Exit(stop.exit_code) from None
    console.print(f"wrote {result.out} (generator: {result.run_dir})")
    for name, values in result.summary["classes"].items():
        if "judge_accuracy" in values:
            console.print(f"class {name}: judge accuracy {values['judge_accuracy']:.3f} · Fréchet (HOG) "
                          f"{values['frechet_hog']:.3f} (noise: {values['frechet_hog_noise']:.3f})")


def _draw(generator: Path, data, classes, n, seed, out, given: dict, resume):
    from foveal.synth.run import draw_more

    if given or resume is not None:
        raise ConfigError(f"--generator draws from a trained generator; {_flags(given) or '--resume'} given too",
                          "drop the training options")
    return draw_more(generator, classes, DEFAULT_N if n is None else n, seed, out, data)


def _resume(run: Path, data, classes, n, out, given: dict):
    from foveal.synth.run import resumed_request, synthesize

    extra = set(given) - {"epochs"}
    if data is not None or classes or extra:
        raise ConfigError(f"--resume continues a run with its saved options; {_flags(extra) or 'DATA/--class'} "
                          "given too", "give only --resume RUN (and --epochs, --n or --out)")
    req = resumed_request(run, {"epochs": given.get("epochs"), "out": None if out is None else str(out), "n": n})
    return synthesize(req, resume=run)


def _train(data, classes, n, seed, out, given: dict):
    from foveal.synth.run import SynthRequest, data_name, synthesize

    if data is None:
        raise ConfigError("no DATA given", "pass the labelled images to learn from")
    options = {k: (str(v) if k == "run_dir" else v) for k, v in given.items()}
    return synthesize(SynthRequest(data=data_name(data), classes=list(classes), n=DEFAULT_N if n is None else n,
                                   out=None if out is None else str(out), seed=seed, **options))


def _flags(names) -> str:
    return ", ".join(f"--{k.replace('_', '-')}" for k in sorted(names))
