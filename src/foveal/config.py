"""The training options: one definition per option, used by the CLI, YAML files, the Python API,
``ImageClassifier`` and validation.

Each ``TrainConfig`` field carries an :class:`Option` (help, panel, flag, type, choices, range,
which engines it applies to). ``foveal train``/``cv``/``lr-find`` build their command-line
options from it (``foveal.cli.options``), ``resolve`` layers defaults < YAML < flags, and
``check_values`` refuses bad values before any image is decoded or any folder is created.
Nothing here imports torch, so ``--help`` stays fast.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from foveal.data.decode import DEFAULT_MAX_PIXELS
from foveal.errors import ConfigError
from foveal.options import BOTH, Named, Option, check, opt, typed

CLASSICAL, DEEP = "classical", "deep"
PRETRAIN = "pretrain"  # self-supervised pretraining (foveal.learn): a deep engine without labels
DEEP_RUNS = (DEEP, PRETRAIN)
EVERY = (*BOTH, PRETRAIN)
SSL_METHODS = ("simclr", "byol", "rotation", "colorization", "inpainting", "autoencoder")
DISTILL = "distill"  # knowledge distillation (foveal distill): a deep or classical student of a teacher bundle
FEWER = "fewer"  # semi-supervised training, domain adaptation (foveal.fewer): an engine plus unlabelled images

TASKS = ("auto", "binary", "multiclass", "multilabel", "hierarchical")
SCALES = ("auto", "standard", "none")
OPTIMIZERS = ("adamw", "adam", "sgd", "rmsprop")
SCHEDULES = ("cosine", "step", "onecycle", "none")
AUGMENT_PRESETS = ("none", "light", "standard", "strong", "robust")
CACHE_MODES = ("auto", "ram", "none")
LOSSES = ("ce", "focal")
MAX_IMAGE_SIDE = 2048

PANELS = {"data": "Data and model", "run": "Run folder", CLASSICAL: "Classical models", DEEP: "Deep models",
          "augment": "Augmentation (deep models; overrides the --augment preset)",
          "transfer": "Transfer learning (deep models)",
          PRETRAIN: "Self-supervised pretraining (foveal pretrain)",
          DISTILL: "Distillation (foveal distill)",
          FEWER: "Fewer labels (semi-supervised, domain adaptation)"}


def _deep(**spec) -> dict:
    return {"panel": DEEP, "applies": (DEEP,), **spec}


def _run(**spec) -> dict:
    """Deep options that self-supervised pretraining takes too."""
    return {"panel": DEEP, "applies": DEEP_RUNS, **spec}


def _aug(help: str, high: float | None = None, kind: str = "float") -> Any:
    return opt(None, help, kind, panel="augment", applies=(DEEP,), low=0.0, high=high)


@dataclass
class TrainConfig:
    """Everything a training run needs; the resolved copy (only the options that apply) is saved
    in the run folder as ``config.yaml``."""

    data: Any = opt("", "Folder, manifest (.csv/.jsonl/.parquet), built-in dataset name or Dataset.", "str",
                    estimator=False, cli=False, applies=EVERY)
    model: str = opt("svm", "Classical: svm, knn, random-forest, decision-tree, logistic; deep: cnn-small or any "
                     "timm architecture (`foveal models PATTERN`).", "str", short="-m", example="cnn-small",
                     applies=EVERY)
    task: str = opt("auto", "What is predicted.", "str", choices=TASKS)
    image_size: Any = opt("auto", "Side in pixels, auto (the data's common size, at most 64; deep: at least 32, "
                          "cnn-small single-label 16) or model (a timm model's own size); "
                          f"at most {MAX_IMAGE_SIDE}.", "size",
                          words=("auto", "model"), low=8, high=MAX_IMAGE_SIDE, example="64", applies=EVERY)
    channels: Any = opt("auto", "1 (gray), 3 (RGB) or auto (gray when every sampled image is).", "size",
                        words=("auto",), choices=(1, 3), metavar="1|3|auto", applies=EVERY)
    val_fraction: float = opt(0.2, "Held out for validation when DATA has no val split.", "float", low=0.0,
                              high=1.0, low_open=True, high_open=True)
    seed: int = opt(0, "Random seed (splits, initialisation, augmentation).", "int", low=0, high=2**32 - 1,
                    applies=EVERY)
    max_skip_ratio: float = opt(0.1, "Abort when more than this share of the images cannot be decoded.", "float",
                                low=0.0, high=1.0, applies=EVERY)
    max_pixels: int = opt(DEFAULT_MAX_PIXELS, "Refuse images with more pixels (decompression bombs).", "int",
                          low=1, applies=EVERY)
    reweight: str | None = opt(None, "Weight training samples so every COLUMN value × class counts equally "
                               "(a manifest column such as site or skin_tone, or group; `foveal audit` measures "
                               "the gaps).", "str", metavar="COLUMN", example="site")
    # run folder
    out: str | None = opt(None, "Run folder (new or empty). [default: runs/<name>-<n>]", "str", panel="run",
                          short="-o", estimator=False, applies=EVERY)
    name: str | None = opt(None, "Run name: runs/<name>, then <name>-2, … [default: <model>-<n>]", "str",
                           panel="run", estimator=False, applies=EVERY)
    project: str = opt("runs", "Parent folder of run folders.", "str", panel="run", estimator=False, applies=EVERY)
    report: bool = opt(True, "Write report.html (the validation report) into the run folder.", "bool",
                       panel="run", estimator=False, flag="--report/--no-report")
    # classical models
    features: str = opt("auto", "Comma-separated features: pixels, color-hist, hog, lbp, sift-bow, edges, corners; "
                        "auto is pixels for images under 16 px (HOG needs room for cells), else hog.", "str", panel=CLASSICAL, short="-f", applies=(CLASSICAL,), example="hog,lbp")
    scale: str = opt("auto", "Feature scaling: auto (standardise all but pixels), standard, none.", "str",
                     panel=CLASSICAL, choices=SCALES, applies=(CLASSICAL,))
    params: dict = opt({}, "Classifier parameter KEY=VALUE (repeatable), e.g. C=10.", "dict", panel=CLASSICAL,
                       flag="--param", short="-p", applies=(CLASSICAL,), metavar="KEY=VALUE")
    feature_params: dict = opt({}, "Feature parameters, e.g. {hog: {orientations: 12}} (YAML / Python).", "dict",
                               panel=CLASSICAL, cli=False, applies=(CLASSICAL,))
    # deep models
    epochs: int = opt(30, "Training epochs.", "int", low=1, high=100_000, **_run())
    batch_size: int = opt(64, "Images per batch (per process under torchrun).", "int", low=1, high=65_536, **_run())
    lr: float = opt(1e-3, "Peak learning rate.", "float", low=0.0, low_open=True, **_run(), example="3e-3")
    optimizer: str = opt("adamw", "Optimizer.", "str", choices=OPTIMIZERS, **_run())
    schedule: str = opt("cosine", "Learning-rate schedule (per update).", "str", choices=SCHEDULES, **_run())
    warmup_epochs: float = opt(1.0, "Linear warm-up epochs (at most a fifth of the run).", "float", low=0.0,
                               **_run())
    weight_decay: float = opt(0.05, "Decoupled weight decay (not on biases and norms).", "float", low=0.0, **_run())
    l1: float = opt(0.0, "L1 penalty on weights.", "float", low=0.0, **_run())
    dropout: float = opt(0.1, "Dropout before the classifier.", "float", low=0.0, high=1.0, high_open=True,
                         **_deep())
    label_smoothing: float = opt(0.0, "Label smoothing.", "float", low=0.0, high=1.0, high_open=True, **_deep())
    early_stopping: int = opt(0, "Stop after this many epochs without a better validation metric (0: off).", "int",
                              low=0, metavar="PATIENCE", **_deep())
    target_accuracy: float | None = opt(None, "Stop once the validation metric (accuracy; mAP for multi-label) "
                                        "reaches this, e.g. 0.95 (checked at each epoch's end and half-way "
                                        "through it).", "float", low=0.0, high=1.0, low_open=True,
                                        metavar="A", **_deep())
    ema: bool = opt(False, "Keep an exponential moving average of the weights (validated and shipped).", "bool",
                    flag="--ema/--no-ema", **_deep())
    ema_decay: float = opt(0.998, "EMA decay per update (warmed up from 0).", "float", low=0.0, high=1.0,
                           high_open=True, **_deep())
    amp: bool = opt(False, "Mixed precision (bf16; fp16 with loss scaling on GPUs without bf16).", "bool",
                    flag="--amp/--no-amp", **_run())
    grad_clip: float = opt(0.0, "Clip the gradient norm to this (0: off).", "float", low=0.0, **_run())
    accumulate: int = opt(1, "Batches per optimizer update.", "int", low=1, high=4096, **_run())
    deterministic: bool = opt(False, "Deterministic algorithms (bitwise-reproducible on CPU).", "bool",
                              flag="--deterministic/--no-deterministic", **_run())
    compile: bool = opt(False, "torch.compile the network.", "bool", flag="--compile/--no-compile", **_run())
    channels_last: bool = opt(True, "Channels-last memory format (on by default: 1.06-1.75x the training "
                              "speed and 1.1-2x the validation speed of the other layout for every model tried "
                              "on CPU; bench/trainer.py).", "bool",
                              flag="--channels-last/--no-channels-last", **_run())
    workers: int = opt(0, "CPU threads for torch (0: torch's default). Batches come from an in-RAM tensor.", "int",
                       low=0, high=1024, **_run())
    cache: str = opt("auto", "auto, ram (decoded images kept in RAM) or none (decode batches from files).", "str",
                     choices=CACHE_MODES, **_run())
    augment: str = opt("light", "Augmentation preset (`foveal data preview` shows it).", "str",
                       choices=AUGMENT_PRESETS, **_deep())
    mixup: float = opt(0.0, "Mixup alpha (single-label tasks; 0: off).", "float", low=0.0, **_deep())
    cutmix: float = opt(0.0, "CutMix alpha (single-label tasks; 0: off).", "float", low=0.0, **_deep())
    class_weights: str = opt("none", "none or auto (inverse class frequency).", "str", choices=("none", "auto"),
                             **_deep())
    sampler: str = opt("shuffle", "shuffle, or balanced (every class drawn equally often).", "str",
                       choices=("shuffle", "balanced"), **_deep())
    loss: str = opt("ce", "ce (cross-entropy / BCE) or focal.", "str", choices=LOSSES, **_deep())
    hierarchical_softmax: bool = opt(False, "Hierarchical tasks: conditional softmax along the true path "
                                     "(scalable) instead of a loss per level.", "bool",
                                     flag="--hierarchical-softmax/--per-level", **_deep())
    device: str = opt("auto", "auto, cpu or cuda.", "str", choices=("auto", "cpu", "cuda"), **_run())
    # augmentation overrides (None: the preset's value)
    hflip: float | None = _aug("Probability of a left-right flip.", high=1.0)
    vflip: float | None = _aug("Probability of an up-down flip.", high=1.0)
    rotate: float | None = _aug("Rotation range in degrees (±).", high=180.0)
    zoom: Any = _aug("Zoom range MIN,MAX of the sampled region's side (<1 zooms in).", high=2.0, kind="range")
    translate: float | None = _aug("Shift range as a fraction of the side (±).", high=0.5)
    brightness: float | None = _aug("Brightness jitter (± fraction).", high=1.0)
    contrast: float | None = _aug("Contrast jitter (± fraction).", high=1.0)
    saturation: float | None = _aug("Saturation jitter (± fraction; RGB only).", high=1.0)
    noise: float | None = _aug("Standard deviation of Gaussian pixel noise (0..1 units).", high=1.0)
    blur: float | None = _aug("Probability of a light Gaussian blur.", high=1.0)
    erase: float | None = _aug("Probability of erasing a small box (never the whole centre).", high=1.0)
    # transfer learning
    pretrained: str | None = opt(None, "Initial weights (.safetensors or weights-only .pth; timm or torchvision "
                                 "names), or a deep bundle such as a `foveal pretrain` backbone.", "str",
                                 panel="transfer", applies=(DEEP,))
    freeze_backbone: bool = opt(False, "Train only the classifier (a linear probe); needs --pretrained or "
                                "--init-from.", "bool", panel="transfer", applies=(DEEP,),
                                flag="--freeze-backbone/--no-freeze-backbone")
    unfreeze_after: int = opt(0, "Freeze the backbone for N epochs, then train it at --backbone-lr-scale × lr; "
                              "needs --pretrained or --init-from.", "int", panel="transfer", low=0, applies=(DEEP,))
    backbone_lr_scale: float = opt(0.1, "Backbone learning-rate factor with --pretrained / --init-from.", "float",
                                   panel="transfer", low=0.0, high=1.0, applies=(DEEP,))
    init_from: str | None = opt(None, "Fine-tune an existing deep bundle (new labels get a new head).", "str",
                                panel="transfer", applies=(DEEP,))
    # self-supervised pretraining (foveal pretrain)
    method: str = opt("simclr", "Pretraining method: contrastive simclr or byol, pretext rotation, colorization or "
                      "inpainting, or a convolutional autoencoder.", "str", panel=PRETRAIN, choices=SSL_METHODS,
                      applies=(PRETRAIN,), estimator=False)
    projection_dim: int = opt(128, "Output size of the simclr / byol projection head.", "int", panel=PRETRAIN,
                              low=8, high=8192, applies=(PRETRAIN,), estimator=False)
    temperature: float = opt(0.2, "simclr: NT-Xent temperature.", "float", panel=PRETRAIN, low=0.0, low_open=True,
                             high=10.0, applies=(PRETRAIN,), estimator=False)
    momentum: float = opt(0.99, "byol: momentum of the target network at the start (rises to 1 on a cosine).",
                          "float", panel=PRETRAIN, low=0.0, high=1.0, high_open=True, applies=(PRETRAIN,),
                          estimator=False)
    min_scale: float = opt(0.25, "simclr / byol: smallest random crop, as a share of the image area.", "float",
                           panel=PRETRAIN, low=0.01, high=1.0, applies=(PRETRAIN,), estimator=False)
    mask_ratio: float = opt(0.4, "inpainting: share of the image hidden in square patches.", "float", panel=PRETRAIN,
                            low=0.05, high=0.9, applies=(PRETRAIN,), estimator=False)
    # knowledge distillation (foveal distill; its command line names the last two --temperature and --alpha)
    teacher: str | None = opt(None, "Teacher bundle whose predictions the student learns.", "str", panel=DISTILL,
                              cli=False, applies=(DISTILL,), estimator=False)
    distill_temperature: float = opt(4.0, "Softening temperature of teacher and student probabilities in the "
                                     "distillation loss (deep students).", "float", panel=DISTILL, cli=False,
                                     low=0.0, low_open=True, high=100.0, applies=(DISTILL,), estimator=False)
    alpha: float = opt(0.5, "Weight of the distillation loss; 1 - alpha weighs the hard-label loss (deep students).",
                       "float", panel=DISTILL, cli=False, low=0.0, high=1.0, applies=(DISTILL,), estimator=False)
    # fewer labels (foveal.fewer): semi-supervised training and domain adaptation
    unlabeled: str | None = opt(None, "Folder (or manifest) of unlabelled images for --semi.", "str", panel=FEWER,
                                metavar="DIR", applies=BOTH)
    semi: str | None = opt(None, "Semi-supervised method (needs --unlabeled); classical models: self-training.",
                           "str", panel=FEWER, choices=("pseudo-label", "fixmatch"), applies=BOTH)
    mu: int = opt(3, "Unlabelled images per labelled image in each batch (deep --semi / --adapt).", "int",
                  panel=FEWER, low=1, high=64, applies=(DEEP,), needs=("semi", "adapt"))
    pseudo_threshold: float = opt(0.95, "Confidence a pseudo-label needs to count.", "float", panel=FEWER,
                                  low=0.0, high=1.0, low_open=True, applies=BOTH, needs=("semi",))
    target_unlabeled: str | None = opt(None, "Unlabelled images of the target domain for --adapt.", "str",
                                       panel=FEWER, metavar="DIR", applies=(DEEP,))
    adapt: str | None = opt(None, "Domain adaptation: adabn (target batch-norm statistics), dann, coral.", "str",
                            panel=FEWER, choices=("adabn", "dann", "coral"), applies=(DEEP,))
    adapt_weight: float = opt(1.0, "Weight of the DANN / CORAL loss.", "float", panel=FEWER, low=0.0,
                              applies=(DEEP,), needs=("adapt",))
    # which options were set explicitly (YAML or flags); not an option itself
    given: tuple = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in option_fields()}

    def applied(self, engine: str | tuple[str, ...]) -> dict:
        """The options that mean something to ``engine`` (or any of several scopes, e.g. distill + deep):
        what ``config.yaml`` records."""
        scopes = {engine} if isinstance(engine, str) else set(engine)
        return {f.name: _plain(getattr(self, f.name)) for f in option_fields() if scopes & set(spec(f.name).applies)}


def augment_overrides(cfg: TrainConfig) -> dict:
    """The augmentation options set explicitly (the rest come from the ``--augment`` preset)."""
    return {f.name: getattr(cfg, f.name) for f in option_fields()
            if spec(f.name).panel == "augment" and getattr(cfg, f.name) is not None}


def _plain(value):
    if isinstance(value, tuple):
        return list(value)
    return value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else str(value)


def option_fields() -> list:
    return [f for f in fields(TrainConfig) if "option" in f.metadata]


def spec(name: str) -> Option:
    return TrainConfig.__dataclass_fields__[name].metadata["option"]


def default(name: str):
    f = TrainConfig.__dataclass_fields__[name]
    return f.default_factory() if f.default is MISSING else f.default


def flag_of(name: str) -> str:
    """The option as users type it: ``--batch-size`` (``--report`` for ``--report/--no-report``)."""
    return named(name).flag


# --- values ----------------------------------------------------------------------------


def named(name: str) -> Named:
    return Named(name, spec(name), default(name))


def coerce(name: str, value):
    """One option's value from a flag (text) or YAML (any type), typed; raises ConfigError."""
    return typed(named(name), value)


def check_values(cfg: TrainConfig) -> None:
    """Every option's choices and range; the first bad one raises a one-line ConfigError."""
    for f in option_fields():
        check(named(f.name), getattr(cfg, f.name))


# --- layering --------------------------------------------------------------------------


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "check the --config path") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML ({err})".replace("\n", " "), "fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of option: value", "write e.g. `model: svm`")
    return data


def yaml_options(file: str | Path | None) -> dict:
    """A YAML file's options, with their names checked (``batch-size`` and ``batch_size`` both work)."""
    known = {f.name for f in option_fields()}
    out = {}
    for key, value in (read_yaml(file) if file else {}).items():
        name = str(key).replace("-", "_")
        if name not in known:
            close = _close(name, known)
            raise ConfigError(f"unknown option {key!r} in {file}", f"{close}see `foveal train --help` for the options")
        out[name] = value
    return out


def _close(name: str, known) -> str:
    import difflib

    match = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean {match[0]!r}? " if match else ""


def resolve(file: str | Path | None = None, overrides: dict | None = None) -> TrainConfig:
    """``TrainConfig`` from defaults < the YAML ``file`` < non-None ``overrides``; typed and range-checked."""
    merged = yaml_options(file)
    known = {f.name for f in option_fields()}
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown option {name!r}", f"{_close(name, known)}see `foveal train --help`")
        if value is not None:
            merged[name] = {**merged.get(name, {}), **value} if name == "params" and isinstance(value, dict) \
                and isinstance(merged.get(name), dict) else value
    values = {name: coerce(name, value) for name, value in merged.items()}
    cfg = TrainConfig(**values, given=tuple(sorted(values)))
    check_values(cfg)
    return cfg
