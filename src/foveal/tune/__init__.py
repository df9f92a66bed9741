"""Hyper-parameter tuning with Optuna: TPE over documented search spaces, per-epoch pruning of deep
trials, resumable SQLite studies, and a final model trained with the best configuration."""
