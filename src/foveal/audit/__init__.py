"""Auditing a model before shipping it: corruption robustness and test-time augmentation
(``corruptions``, ``tta``, ``robustness``), subgroup fairness (``fairness``, fairlearn) and label
errors (``label_issues``, cleanlab). Near-duplicates live with the data checks
(``foveal.data.near_duplicates``); sample reweighting with the data (``foveal.data.reweight``).
"""

from __future__ import annotations


def require(module: str, extra: str = "audit") -> None:
    """A one-line error naming the extra to install when an optional library is missing."""
    import importlib.util

    from foveal.errors import ConfigError

    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"this needs {module}, which is not installed", f"pip install 'foveal[{extra}]'")
