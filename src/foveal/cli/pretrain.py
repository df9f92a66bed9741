"""`foveal pretrain`: self-supervised pretraining (the ``pretrain`` engine; options from ``foveal.config``)."""

from __future__ import annotations

from pathlib import Path

from foveal.cli.common import console
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options
from foveal.cli.train import RESUME_OPTION
from foveal.config import PRETRAIN, flag_of
from foveal.errors import ConfigError

DEFAULT_MODEL = "cnn-small"


def pretrain_body(data: str | None = None, config: Path | None = None, resume: Path | None = None, **values) -> None:
    """Pretrain a backbone without labels and write a run folder with a backbone bundle in model/."""
    from foveal.runs.deep import resume_config
    from foveal.runs.pipeline import run_training, stray_options

    if resume is not None:
        given = [k for k, v in {"data": data, "config": config, **values}.items() if v is not None]
        if given:
            raise ConfigError(f"--resume continues a run with its saved options; {', '.join(given)} given too",
                              "drop the other options, or start a new run")
        cfg, folder = resume_config(resume), resume
    else:
        values["model"] = values.get("model") or DEFAULT_MODEL
        cfg, folder = config_from_values(data, config, values), None
    stray = stray_options(cfg, PRETRAIN)[0]
    if stray:
        raise ConfigError(f"{', '.join(flag_of(n) for n in stray)} cannot be used with foveal pretrain (supervised "
                          "training options)", "drop them; `foveal pretrain --help` lists the options")
    result = run_training(cfg, resume=folder, engine=PRETRAIN)
    if result is not None:  # None on DDP ranks other than 0
        print_summary(result)


def print_summary(result) -> None:
    prep = result.preprocessing
    h, w = prep["size"]
    cfg = result.config
    console.print(f"[bold]pretrained[/] {cfg.model} with {cfg.method} · {h}×{w}×{prep['channels']} · "
                  f"{result.n_train} images · {result.seconds:.1f} s")
    for note in result.notes:
        console.print(note, markup=False)
    console.print(f"run folder: {result.run_dir}")
    console.print(f"bundle:     {result.bundle} (a backbone)")


def build_pretrain_command():
    return with_options(pretrain_body, [DATA_ARGUMENT, CONFIG_OPTION, RESUME_OPTION],
                        option_parameters(engines=(PRETRAIN,)),
                        "Pretrain a backbone without labels (SimCLR, BYOL, rotation, colorization, inpainting or an "
                        "autoencoder) and write a run folder with a backbone bundle in model/ (--model defaults "
                        "to cnn-small).")
