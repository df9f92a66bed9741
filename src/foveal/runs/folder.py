"""The run folder: chosen (and checked) before any work, created only when there is something to
write, removed again when a run fails before it saved anything, cleaned of crash leftovers.

Every file foveal writes is first a hidden temporary sibling (``.name.XXXX``) renamed into place;
a killed process can leave those behind, and a rerun or ``--resume`` removes them.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import yaml

from foveal.config import TrainConfig
from foveal.errors import ConfigError
from foveal.files import atomic_write_text

CONFIG = "config.yaml"
CHECKPOINTS = "checkpoints"
_TEMP = re.compile(r"^\.[^/]+\.[A-Za-z0-9_]{6,}$")  # what tempfile.mkstemp/mkdtemp(prefix=".name.") make


def is_temp(path: Path) -> bool:
    return bool(_TEMP.match(path.name))


def clean_temps(folder: Path) -> list[Path]:
    """Remove crash leftovers (hidden temporaries) from ``folder`` and its checkpoints/; returns them."""
    removed = []
    for where in (folder, folder / CHECKPOINTS):
        if not where.is_dir():
            continue
        for item in where.iterdir():
            if is_temp(item):
                shutil.rmtree(item) if item.is_dir() else item.unlink()
                removed.append(item)
    return removed


def _restartable(folder: Path) -> bool:
    """A folder holding nothing but a config.yaml of a run that never saved a checkpoint (and temps)."""
    for item in folder.iterdir():
        if is_temp(item) or item.name == CONFIG:
            continue
        if item.name == CHECKPOINTS and item.is_dir() and all(is_temp(c) for c in item.iterdir()):
            continue
        return False
    return True


def _free(folder: Path) -> bool:
    return not folder.exists() or folder.is_dir() and not any(folder.iterdir())


class RunFolder:
    """Where a run writes; ``plan`` checks it, ``create`` makes it."""

    def __init__(self, path: Path, auto: tuple[Path, str, bool] | None = None) -> None:
        self.path = path
        self._auto = auto  # (project, stem, numbered) when the name is picked automatically
        self.created = False  # by this run: then a failure before any checkpoint removes it again
        self.resume = False

    @classmethod
    def resuming(cls, path: Path) -> "RunFolder":
        """An existing run folder to continue (``--resume``); it is never removed."""
        folder = cls(Path(path))
        folder.resume = True
        clean_temps(folder.path)
        return folder

    @property
    def ready(self) -> bool:
        """Whether the folder exists and holds this run's config.yaml."""
        return self.created or self.resume

    @classmethod
    def plan(cls, cfg: TrainConfig, stem: str | None = None) -> "RunFolder":
        """``--out`` as given (new, empty, or a run that stopped before its first checkpoint);
        else ``<project>/<name>`` (then ``<name>-2``, …) or ``<project>/<stem>-<n>`` (stem: the model)."""
        if cfg.out:
            out = Path(cfg.out)
            if out.exists() and not out.is_dir():
                raise ConfigError(f"--out {out} is a file", "give a folder for the run")
            if out.is_dir() and any(out.iterdir()) and not _restartable(out):
                raise ConfigError(f"--out {out} exists and is not empty", "choose a new folder; runs never overwrite")
            return cls(out)
        project = Path(cfg.project)
        if cfg.name:
            return cls(project / cfg.name, auto=(project, cfg.name, False))
        stem = stem or cfg.model
        return cls(project / f"{stem}-1", auto=(project, stem, True))

    def create(self) -> Path:
        """Make the folder (picking the next free automatic name); clean a restartable one."""
        if self._auto is None:
            self.path.mkdir(parents=True, exist_ok=True)
            clean_temps(self.path)
            (self.path / CONFIG).unlink(missing_ok=True)
        else:
            self.path = self._claim(*self._auto)
        self.created = True
        return self.path

    @staticmethod
    def _claim(project: Path, stem: str, numbered: bool) -> Path:
        project.mkdir(parents=True, exist_ok=True)
        if numbered:  # <model>-<n>: always a new, higher number
            taken = [int(p.name.rsplit("-", 1)[1]) for p in project.glob(f"{stem}-*")
                     if p.name.rsplit("-", 1)[1].isdigit()]
            names = (f"{stem}-{n}" for n in itertools.count(max(taken, default=0) + 1))
        else:  # --name: the name itself, then <name>-2, <name>-3, …
            names = itertools.chain([stem], (f"{stem}-{n}" for n in itertools.count(2)))
        for name in names:
            path = project / name
            try:
                path.mkdir()
                return path
            except FileExistsError:
                if _free(path):
                    return path
        raise AssertionError("unreachable")

    def write_config(self, cfg: TrainConfig, engine: str) -> None:
        atomic_write_text(self.path / CONFIG, yaml.safe_dump(_recorded(cfg, engine), sort_keys=False))

    def discard_if_unused(self) -> None:
        """After a failure: remove a folder this run created that holds no checkpoint or result."""
        if self.created and not self.resume and self.path.is_dir() and _restartable(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


def _recorded(cfg: TrainConfig, engine: str) -> dict:
    """The options that applied; a local DATA path is made absolute so ``--resume`` works from anywhere."""
    out = cfg.applied(engine)
    if not isinstance(cfg.data, (str, Path)):
        out["data"] = getattr(cfg.data, "name", str(cfg.data))
    elif Path(cfg.data).expanduser().exists():
        out["data"] = str(Path(cfg.data).expanduser().resolve())
    return out
