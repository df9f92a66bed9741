"""`foveal distill`: a student trained (or fitted) on a teacher bundle's predictions, through the
ordinary run pipeline — the training options of `foveal train` apply unchanged."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options

TEACHER_ARGUMENT = inspect.Parameter(
    "teacher", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Path,
    default=typer.Argument(..., help="Teacher bundle (never modified)."))
STUDENT_OPTION = inspect.Parameter(
    "student", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
    default=typer.Option(None, "--student", "-m", help="Student: cnn-small or a timm architecture (trained with the "
                         "distillation loss), or decision-tree / logistic / … on --features (fitted to the teacher's "
                         "decisions). \\[default: cnn-small]", rich_help_panel="Distillation", show_default=False))
TEMPERATURE_OPTION = inspect.Parameter(
    "temperature", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
    default=typer.Option(None, "--temperature", "-T", help="Softening temperature of the distillation loss (deep "
                         "students). \\[default: 4]", rich_help_panel="Distillation", show_default=False))
ALPHA_OPTION = inspect.Parameter(
    "alpha", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
    default=typer.Option(None, "--alpha", help="Weight of the distillation loss; 1 - alpha weighs the hard-label "
                         "loss (deep students). \\[default: 0.5]", rich_help_panel="Distillation", show_default=False))


def distill_body(teacher: Path, data: str | None = None, config: Path | None = None, student: str | None = None,
                 temperature: str | None = None, alpha: str | None = None, **values) -> None:
    """Train a student of TEACHER on DATA and write a run folder with its bundle in model/."""
    from foveal.cli.train import print_summary
    from foveal.runs.pipeline import run_training

    values.update(teacher=str(Path(teacher).resolve()), model=student, distill_temperature=temperature, alpha=alpha)
    cfg = config_from_values(data, config, values)
    if "model" not in cfg.given:
        from dataclasses import replace

        cfg = replace(cfg, model="cnn-small", given=tuple(sorted({*cfg.given, "model"})))
    result = run_training(cfg)
    if result is not None:
        print_summary(result)
        if (result.run_dir / "distill.html").is_file():
            from foveal.cli.common import console

            console.print(f"distillation: {result.run_dir / 'distill.html'}")


def build_distill_command():
    options = option_parameters(exclude={"model", "image_size", "channels"})
    return with_options(distill_body, [TEACHER_ARGUMENT, DATA_ARGUMENT, CONFIG_OPTION, STUDENT_OPTION,
                                       TEMPERATURE_OPTION, ALPHA_OPTION], options,
                        "Distil TEACHER into a smaller deep student or an interpretable classical one (fitted to "
                        "its decisions; fidelity and, for a tree, its rules are reported). Same training options "
                        "and run folder as `foveal train`.")
