"""Feeding per-epoch validation metrics of deep trials to Optuna's pruner (a trainer Callback)."""

from __future__ import annotations

from foveal.deep.trainer import Callback


class ReportToTrial(Callback):
    """After every epoch: report the validation metric to the trial; stop it when the pruner says so."""

    def __init__(self, trial) -> None:
        self.trial = trial

    def on_epoch_end(self, loop, record: dict, improved: bool) -> None:
        import optuna

        metric = loop.state.metric
        if metric is None or record.get(metric) is None:
            return
        self.trial.report(float(record[metric]), int(record["epoch"]))
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"epoch {record['epoch']}: validation {metric} {record[metric]:.4f} "
                                     "below the median of earlier trials")
