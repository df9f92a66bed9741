"""One ``foveal synthesize``: check everything, train (or resume, or load) a generator in its run
folder, draw the samples, score them and write DIR."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml

from foveal.errors import ConfigError, DataError, warn
from foveal.progress import info
from foveal.synth.data import RealImages, check_classes, load_real
from foveal.synth.loop import CHECKPOINT, GanLoop, GanOptions
from foveal.synth.models import GanSpec, check_size

RUN_CONFIG = "config.yaml"
PROJECT = Path("runs")


@dataclass
class SynthRequest:
    """The command's options: what to learn from, which classes, how many samples, where to write."""

    data: str | None = None
    classes: list[str] = field(default_factory=list)
    n: int = 100
    out: str | None = None
    epochs: int = 60
    batch_size: int = 32
    seed: int = 0
    image_size: int = 32
    channels: str = "auto"
    run_dir: str | None = None

    def check(self) -> None:
        if not self.classes:
            raise ConfigError("no --class given", "name the class(es) to synthesize, e.g. --class 8")
        if self.n < 1:
            raise ConfigError(f"--n {self.n} is not a number of samples", "use --n 1 or more")
        if not self.out:
            raise ConfigError("no --out given", "give a new folder for the samples")
        check_size(self.image_size)
        if self.epochs < 1 or self.batch_size < 2:
            raise ConfigError("--epochs must be ≥ 1 and --batch-size ≥ 2", "e.g. --epochs 60 --batch-size 32")


@dataclass
class SynthResult:
    run_dir: Path
    out: Path
    summary: dict


def data_name(data: str) -> str:
    """A local path made absolute (so --resume and --generator work from anywhere); a built-in name as is."""
    path = Path(data).expanduser()
    return str(path.resolve()) if path.exists() else data


def _new_folder(req: SynthRequest):
    from foveal.runs.folder import RunFolder

    if req.run_dir is None:
        return RunFolder(PROJECT / "synth-1", auto=(PROJECT, "synth", True))
    path = Path(req.run_dir)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError(f"--run-dir {path} exists and is not empty", "choose a new folder; runs never overwrite")
    return RunFolder(path)


def resumed_request(run: Path, given: dict) -> SynthRequest:
    """The saved options of a run folder, with ``given`` (epochs, n, out) taking precedence."""
    path = Path(run) / RUN_CONFIG
    if not path.is_file() or not (Path(run) / CHECKPOINT).is_file():
        raise ConfigError(f"{run} is not an interrupted synthesize run", f"give a run folder holding {RUN_CONFIG} "
                          f"and {CHECKPOINT}")
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {k: v for k, v in saved.items() if k in SynthRequest.__dataclass_fields__}
    return replace(SynthRequest(**known), run_dir=str(run), **{k: v for k, v in given.items() if v is not None})


def synthesize(req: SynthRequest, resume: Path | None = None) -> SynthResult:
    """Train (or continue) a generator, then sample, score and write ``req.out``."""
    from foveal.runs.folder import RunFolder
    from foveal.synth.outputs import check_out

    req.check()
    check_out(Path(req.out))
    real = load_real(req.data, req.image_size, req.channels, wanted=req.classes)
    wanted = check_classes(req.classes, real.classes)
    folder = RunFolder.resuming(resume) if resume else _new_folder(req)
    spec = GanSpec(req.image_size, real.images.shape[3], real.classes)
    loop = GanLoop(spec, GanOptions(req.epochs, req.batch_size, req.seed))
    if resume:
        loop.restore(folder.path / CHECKPOINT)
        info(f"resuming {folder.path} after epoch {loop.state.epoch} (step {loop.state.step})")
    else:
        folder.create()
        from foveal.files import atomic_write_text

        atomic_write_text(folder.path / RUN_CONFIG, yaml.safe_dump(asdict(req), sort_keys=False))
    _train(loop, real, folder)
    from foveal.synth.generator import load_generator, save_generator

    save_generator(folder.path, loop.ema.module, {"data": req.data, "epochs": loop.state.epoch, "seed": req.seed,
                                                 "history": loop.state.history})
    saved = load_generator(folder.path)
    summary = draw(saved, [real.classes[i] for i in wanted], req.n, req.seed, Path(req.out), real, req.data)
    return SynthResult(folder.path, Path(req.out), summary)


def _train(loop: GanLoop, real: RealImages, folder) -> None:
    from foveal.deep.trainer import Interrupted
    from foveal.progress import stderr_console
    from foveal.runs.deep import stop_on_signals

    info(f"training a conditional GAN on {len(real.images)} {real.name} images ({len(real.classes)} classes, "
         f"{loop.spec.size} px) in {folder.path}")
    try:
        with stop_on_signals(loop.stop):
            loop.fit(real, folder.path)
    except Interrupted as stop:
        stderr_console().print(f"stopped by {stop}; checkpoint written to {folder.path / CHECKPOINT} — continue "
                               f"with `foveal synthesize --resume {folder.path}`", highlight=False, markup=False,
                               soft_wrap=True)
        raise
    except BaseException:
        folder.discard_if_unused()
        raise


def draw(saved, classes: list[str], n: int, seed: int, out: Path, real: RealImages | None, data: str | None) -> dict:
    """Sample ``n`` images of each class, score them against ``real`` (when known) and write ``out``."""
    from foveal.synth.generator import sample
    from foveal.synth.outputs import GRID, grid_png, write_output
    from foveal.synth.report import quality_summary, summary_files

    check_classes(classes, saved.spec.classes)
    samples = {c: sample(saved.module, saved.spec.classes.index(c), n, seed) for c in classes}
    summary = quality_summary(saved, samples, real, data, seed) if real is not None else {
        "generator": saved.sha256, "classes": {c: {"n_synthetic": n} for c in classes}}
    rows = [r for c in classes for r in (real.of_class(real.classes.index(c))[:8], samples[c])] if real is not None \
        else [samples[c] for c in classes]
    extra = {GRID: grid_png(rows), **summary_files(summary, grid_png(rows))}
    written = write_output(out, samples, saved.spec.classes, saved.sha256, seed, extra)
    info(f"wrote {len(written)} synthetic images, manifest.csv, grid.png and quality.json to {out}")
    return summary


def draw_more(generator: Path, classes: list[str], n: int, seed: int, out: Path, data: str | None) -> SynthResult:
    """``--generator RUN``: more samples from a saved generator, without training."""
    from foveal.synth.generator import load_generator
    from foveal.synth.outputs import check_out

    if n < 1:
        raise ConfigError(f"--n {n} is not a number of samples", "use --n 1 or more")
    check_out(Path(out))
    saved = load_generator(generator)
    if not classes:
        raise ConfigError("no --class given", f"name the class(es) to draw: {', '.join(saved.spec.classes)}")
    check_classes(classes, saved.spec.classes)
    source = data or saved.info.get("data")
    real = None
    if source:
        try:
            real = load_real(source, saved.spec.size, saved.spec.channels)
        except DataError as err:
            warn(f"no quality scores: the real data could not be loaded ({err})")
        if real is not None and real.classes != saved.spec.classes:
            warn(f"no quality scores: {source} has other classes than the generator was trained on")
            real = None
    summary = draw(saved, classes, n, seed, Path(out), real, source)
    return SynthResult(saved.path.parent, Path(out), summary)
