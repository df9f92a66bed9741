"""The ``fewer`` engine: the deep (or classical) engine plus unlabelled images, chosen when a run has
``--semi`` / ``--unlabeled`` (semi-supervised) or ``--adapt`` / ``--target-unlabeled`` (domain adaptation).

Deep runs keep everything of the deep engine (trainer, run folder, report, ``--resume``, DDP); the
loop's ``Parts.objective`` adds the unlabelled term (``foveal.fewer.objective``), and AdaBN re-estimates
batch-norm statistics on the target images after training. The manifest's ``training`` section
records what was used."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from foveal.config import FEWER, TrainConfig
from foveal.errors import ConfigError
from foveal.runs.deep import DeepEngine
from foveal.runs.engines import Fitted, engine_scopes

STRONG = {"erase": 1.0}  # FixMatch's strong view: the 'strong' preset, always with a Cutout-like erased box


def check_combination(cfg: TrainConfig) -> None:
    """Which unlabelled images go with which method: one-line errors for the mismatches."""
    if cfg.semi and cfg.adapt:
        raise ConfigError("--semi and --adapt both given", "use one: semi-supervised or domain adaptation")
    if cfg.teacher:
        raise ConfigError("distillation cannot be combined with --semi / --adapt", "drop --semi / --adapt")
    if cfg.semi and not cfg.unlabeled:
        raise ConfigError(f"--semi {cfg.semi} needs unlabelled images", "add --unlabeled DIR")
    if cfg.unlabeled and not cfg.semi:
        raise ConfigError("--unlabeled is given without a method", "add --semi pseudo-label or --semi fixmatch")
    if cfg.adapt and not cfg.target_unlabeled:
        raise ConfigError(f"--adapt {cfg.adapt} needs images of the target domain", "add --target-unlabeled DIR")
    if cfg.target_unlabeled and not cfg.adapt:
        raise ConfigError("--target-unlabeled is given without a method", "add --adapt adabn, dann or coral")
    for flag, source in (("--unlabeled", cfg.unlabeled), ("--target-unlabeled", cfg.target_unlabeled)):
        if source and not Path(str(source)).expanduser().exists() and not _builtin(str(source)):
            raise ConfigError(f"{flag} {source} does not exist", "give a folder (or manifest) of images")


def _builtin(name: str) -> bool:
    from foveal.data.builtin import BUILTINS
    from foveal.data.load import BUILTIN_PREFIX

    return name.removeprefix(BUILTIN_PREFIX) in BUILTINS


def absolute(cfg: TrainConfig) -> TrainConfig:
    """Local unlabelled folders as absolute paths, so ``--resume`` works from anywhere."""
    out = {}
    for name in ("unlabeled", "target_unlabeled"):
        value = getattr(cfg, name)
        if value and Path(value).expanduser().exists():
            out[name] = str(Path(value).expanduser().resolve())
    return replace(cfg, **out)


class FewerEngine(DeepEngine):
    name = FEWER

    def __init__(self) -> None:
        super().__init__()
        self.classical = None  # the classical engine, for classical models (self-training)
        self.unlabeled = None
        self.orientation = False

    def check(self, cfg: TrainConfig) -> None:
        check_combination(cfg)
        if engine_scopes(cfg, FEWER)[1] == "classical":
            from foveal.fewer.classical import check_self_training
            from foveal.runs.classical import ClassicalEngine

            self.classical = ClassicalEngine()
            self.classical.check(cfg)
            check_self_training(cfg)
            return
        super().check(cfg)
        if cfg.adapt == "adabn":
            check_batch_norm(self._cfg(cfg), self.parent)

    def check_task(self, cfg: TrainConfig, task) -> None:
        if cfg.semi and task.type not in ("binary", "multiclass"):
            raise ConfigError(f"--semi works for single-label tasks, not {task.type}", "drop --semi")
        (self.classical or super()).check_task(cfg, task)

    def load(self, cfg: TrainConfig, ds, validation: bool = True):
        from foveal.fewer.stream import load_unlabeled

        data = self.classical.load(cfg, ds, validation) if self.classical else super().load(cfg, ds, validation)
        source, flag = (cfg.unlabeled, "--unlabeled") if cfg.semi else (cfg.target_unlabeled, "--target-unlabeled")
        self.unlabeled = load_unlabeled(source, flag, data.prep, cfg.max_skip_ratio, data.val.loaded.hashes)
        self.orientation = bool(getattr(ds, "orientation_sensitive", False))
        return data

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted | None:
        import os

        cfg = absolute(cfg)
        if folder is not None and os.environ.get("RANK", "0") == "0" and not folder.ready:
            folder.create()
            folder.write_config(cfg, engine_scopes(cfg, FEWER))
        if self.classical:
            from foveal.fewer.classical import fit_self_training

            return fit_self_training(cfg, data, self.unlabeled)
        return super().fit(cfg, data, folder)

    def prepare(self, cfg: TrainConfig, loop) -> None:
        """Wrap the loop's parts: the objective on the unlabelled stream (AdaBN trains as usual)."""
        from foveal.deep.augment import make_augment
        from foveal.fewer.modules import domain_classifier
        from foveal.fewer.objective import FewerParts, Objective

        method = cfg.semi or cfg.adapt
        domain = domain_classifier(feature_size(loop.parts.net)) if method == "dann" else None
        loop.parts = FewerParts.around(loop.parts, domain, features=method in ("dann", "coral"))
        if method == "adabn":
            return
        strong = make_augment("strong", STRONG, self.orientation) if method == "fixmatch" else None
        loop.parts.objective = Objective(method, self.unlabeled, cfg.mu, cfg.pseudo_threshold, cfg.adapt_weight,
                                         strong)

    def _fitted(self, cfg: TrainConfig, loop, data) -> Fitted | None:
        from foveal.deep.distributed import all_reduce_sum

        parts = loop.parts
        seen, accepted = all_reduce_sum(parts.head.counts.tolist(), loop.ctx)
        parts.head = parts.head.inner  # the bundle's head (the domain classifier stays behind)
        summary = {"method": cfg.semi or cfg.adapt, "unlabeled": self.unlabeled.source,
                   "n_unlabeled": len(self.unlabeled)}
        if cfg.adapt == "adabn":
            from foveal.fewer.adabn import adapt_batch_norm

            layers = adapt_batch_norm(parts.eval_net, self.unlabeled.images, parts.inputs(cfg.channels_last))
            summary.update(batch_norm_layers=layers, source_val_score=loop.state.best_score, bundle_domain="target",
                           note="batch-norm statistics re-estimated on the target images: this bundle is for "
                                "the target domain; its validation metrics are on the source val split")
        fitted = super()._fitted(cfg, loop, data)
        if fitted is None:
            return None
        if cfg.adapt == "adabn":
            fitted.val_proba = None  # predicted before the statistics changed: the run predicts again
        if cfg.semi:
            summary.update(mu=cfg.mu, threshold=cfg.pseudo_threshold, pseudo_labels_seen=int(seen),
                           pseudo_labels_accepted=int(accepted), accepted_share=round(accepted / max(seen, 1), 4))
            fitted.summary["semi_supervised"] = summary
        else:
            if cfg.adapt != "adabn":
                summary.update(mu=cfg.mu, weight=cfg.adapt_weight)
            domains = sorted({d for d in data.train.ds.domain or [] if d})  # a manifest's domain column
            if domains:
                summary["source_domains"] = domains
            fitted.summary["adaptation"] = summary
        fitted.notes.append(_note(summary))
        return fitted


def _note(summary: dict) -> str:
    text = f"{summary['method']} with {summary['n_unlabeled']} unlabelled images from {summary['unlabeled']}"
    if "accepted_share" in summary:
        text += f"; {summary['accepted_share']:.0%} of pseudo-labels passed the threshold {summary['threshold']:g}"
    if summary.get("bundle_domain") == "target":
        text += "; batch-norm statistics are the target domain's (validation metrics: source domain)"
    return text


def feature_size(net) -> int:
    """The width of the pre-logit features (the classifier's input)."""
    clf = net.get_classifier()
    return int(getattr(clf, "in_features", 0) or getattr(net, "head_hidden_size", None) or net.num_features)


def check_batch_norm(cfg: TrainConfig, parent: dict | None) -> None:
    """AdaBN needs batch-norm layers: build the network (without weights) and look."""
    from foveal.deep.models import build_model, timm_args
    from foveal.fewer.adabn import has_batch_norm

    arch = parent["spec"]["architecture"] if parent else cfg.model
    args = dict(parent["spec"]["timm_args"]) if parent else timm_args(arch, (32, 32), 0.0)
    if not has_batch_norm(build_model(arch, 3, 2, args)):
        raise ConfigError(f"--adapt adabn re-estimates batch-norm statistics, and {arch} has no batch-norm layer",
                          "use --adapt coral or dann, or a network with batch norm (e.g. cnn-small, resnet18)")
