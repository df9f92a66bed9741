"""``foveal prune``: structured channel pruning (torch-pruning's dependency graph) for real CPU
speed-ups, or unstructured magnitude pruning (``torch.nn.utils.prune``, made permanent) for sparsity;
optionally fine-tuned through the ordinary run pipeline (``--init-from`` the pruned network).

Reports parameters, MACs, latency and accuracy before and after; writes a new bundle whose lineage
names the parent and the operation ``prune``.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from foveal.errors import ConfigError

ROUND_TO = 8  # channel counts stay multiples of 8 (what CPU kernels vectorise over)


@dataclass
class PruneOptions:
    amount: float = 0.5
    structured: bool = True
    finetune_epochs: int = 0
    finetune: dict = field(default_factory=dict)  # training options for the fine-tune run (lr, batch_size, …)
    config: Path | None = None  # a YAML of training options for the fine-tune run
    run_dir: Path | None = None  # keep the fine-tune run folder here
    split: str | None = None

    def check(self) -> None:
        if not 0 < self.amount < 1:
            raise ConfigError(f"--amount must be between 0 and 1 (a fraction), got {self.amount}", "write e.g. --amount 0.5")
        if self.finetune_epochs < 0:
            raise ConfigError(f"--finetune-epochs must be at least 0, got {self.finetune_epochs}", "write e.g. --finetune-epochs 3")


@dataclass
class PruneResult:
    bundle: Path
    report: dict


def structured_prune(net, size: tuple[int, int], channels: int, amount: float) -> None:
    """Remove ``amount`` of the channels of every prunable layer group (L2 magnitude), in place."""
    import torch
    import torch_pruning as tp

    example = torch.zeros((1, channels, *size))
    classifier = net.get_classifier()
    pruner = tp.pruner.MetaPruner(net.eval(), example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                  pruning_ratio=amount, ignored_layers=[classifier], round_to=ROUND_TO)
    pruner.step()
    if hasattr(net, "num_features"):
        net.num_features = classifier.in_features


def unstructured_prune(net, amount: float) -> None:
    """Zero the ``amount`` smallest-magnitude weights of all convolutions and linear layers together, permanently."""
    from torch import nn
    from torch.nn.utils import prune

    targets = [(m, "weight") for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in targets:
        prune.remove(module, name)  # the mask is folded into the weight: a plain network again


def pruned_model(predictor, options: PruneOptions):
    """A pruned copy of the bundle's DeepModel (the bundle's own model is untouched)."""
    from foveal.bundle.deep import DeepModel

    model, prep = predictor.model, predictor.preprocessing
    net = copy.deepcopy(model.net).cpu()
    if options.structured:
        structured_prune(net, prep.size, prep.channels, options.amount)
    else:
        unstructured_prune(net, options.amount)
    how = {"method": "structured" if options.structured else "unstructured", "amount": options.amount,
           "importance": "L2 channel-group magnitude" if options.structured else "global L1 magnitude"}
    spec = {**predictor.manifest["model"], "pruned": how}
    return DeepModel(net, model.head, model.mean, model.std, spec)


def measure(model, task, prep, test) -> dict:
    """Parameters, MACs, latency at batch 1 and throughput at batch 64, and the test metric."""
    from foveal.compress.measure import timing, torch_counts
    from foveal.evaluation.metrics import evaluate_predictions, headline

    counts = torch_counts(model.net, prep.size, prep.channels)
    t = timing(model.predict_proba, test.images, batch=64, calls=30, min_seconds=0.5)
    result = evaluate_predictions(task, test.labels, model.predict_proba(test.images))
    metric, value = next(iter(headline(result).items()))
    return {**counts, "latency_ms_p50": round(t.p50_ms, 3), "images_per_s_batch_64": round(t.images_per_s, 1),
            "metric": metric, "value": float(value)}


def prune_bundle(bundle, data, out: str | Path, options: PruneOptions) -> PruneResult:
    """Prune ``bundle``, optionally fine-tune, measure, and write ``out``."""
    from foveal.bundle import load_bundle
    from foveal.bundle.derive import derive_bundle
    from foveal.compress.samples import test_sample

    options.check()
    if Path(out).exists() and any(Path(out).iterdir()):
        raise ConfigError(f"--out {out} already exists", "choose a new folder; bundles are never overwritten")
    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    if predictor.runtime != "torch":
        raise ConfigError(f"{predictor.path} runs on {predictor.runtime}; pruning needs PyTorch weights",
                          "prune the torch bundle, then export or quantize the result")
    test = test_sample(predictor, data, options.split)
    task, prep = predictor.task, predictor.preprocessing
    pruned = pruned_model(predictor, options)
    report = {**pruned.spec["pruned"], "before": measure(predictor.model, task, prep, test),
              "pruned": measure(pruned, task, prep, test), "test": {"data": test.data, "split": test.split,
                                                              "n": len(test.images)}}
    changes = {"model": pruned.spec, "calibration": None}
    final = pruned
    if options.finetune_epochs:
        final, run = finetune(predictor, pruned, data, options)
        report["finetuned"] = measure(final.model, final.task, prep, test)
        report["finetune"] = run
        changes.update(task=final.manifest["task"], metrics=final.manifest.get("metrics", {}),
                       training=final.manifest.get("training", {}))
        final = final.model
    after = report.get("finetuned", report["pruned"])
    report["speedup_batch_64"] = round(after["images_per_s_batch_64"] / report["before"]["images_per_s_batch_64"], 3)
    report["drop_points"] = round((report["before"]["value"] - after["value"]) * 100, 3)
    changes["pruning"] = report
    path = derive_bundle(predictor, out, changes, "prune", files=final.files(), drop=("weights.safetensors",))
    return PruneResult(path, report)


def finetune(predictor, pruned, data, options: PruneOptions):
    """Train the pruned network on DATA through ``run_training`` (``--init-from`` a temporary pruned
    bundle); returns (the fine-tuned Predictor, what the run recorded)."""
    from foveal.bundle import load_bundle
    from foveal.bundle.derive import derive_bundle
    from foveal.config import resolve
    from foveal.runs.deep import DeepEngine
    from foveal.runs.pipeline import run_training

    with tempfile.TemporaryDirectory(prefix="foveal-prune-") as tmp:
        start = derive_bundle(predictor, Path(tmp) / "pruned", {"model": pruned.spec, "calibration": None},
                              "prune", files=pruned.files(), drop=("weights.safetensors",))
        run_dir = Path(options.run_dir) if options.run_dir else Path(tmp) / "run"
        overrides = {"backbone_lr_scale": 1.0, "report": False, **options.finetune, "data": str(data),
                     "init_from": str(start), "epochs": options.finetune_epochs, "out": str(run_dir)}
        cfg = resolve(options.config, overrides)
        engine = DeepEngine()
        if not options.structured:
            engine.callbacks.append(keep_zeros())
        result = run_training(cfg, engine=engine)
        tuned = load_bundle(result.bundle)
        tuned.model.net.eval()
        record = {"epochs": options.finetune_epochs, "run": str(run_dir) if options.run_dir else None,
                  "val": result.metrics.get("metrics", {}),
                  "config": {k: v for k, v in cfg.applied("deep").items() if k in cfg.given and k not in ("out", "init_from")}}
        return tuned, record


def keep_zeros_masks(net) -> list:
    """(parameter, mask of its non-zero entries) for weight tensors holding pruned zeros."""
    return [(p, (p != 0).to(p.dtype)) for p in net.parameters() if p.ndim > 1 and bool((p == 0).any())]


def keep_zeros():
    """A trainer Callback for fine-tuning an unstructured-pruned network: pruned (zero) weights get
    no gradient and stay exactly zero."""
    from foveal.deep.trainer import Callback

    class KeepZeros(Callback):
        def __init__(self) -> None:
            self.masks: list | None = None

        def on_epoch_start(self, loop, n_batches: int) -> None:
            if self.masks is None:
                self.masks = keep_zeros_masks(loop.parts.net)

        def on_batch_end(self, loop, images: int) -> None:
            for p, mask in self.masks or []:
                if p.grad is not None:
                    p.grad.mul_(mask)

        def on_epoch_end(self, loop, record: dict, improved: bool) -> None:
            self.apply()

        def on_train_end(self, loop) -> None:
            self.apply()

        def apply(self) -> None:
            import torch

            with torch.no_grad():
                for p, mask in self.masks or []:
                    p.mul_(mask)

    return KeepZeros()
