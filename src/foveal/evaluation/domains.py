"""Per-domain metrics: when the evaluated data has a ``domain`` column (a manifest's), each domain
(site, scanner, camera…) is scored on its own, so a shift shows instead of hiding in the average."""

from __future__ import annotations

import numpy as np


def domain_metrics(task, part, kept: np.ndarray, labels: list, proba: np.ndarray) -> dict:
    """``{"domains": {name: {"n", "metrics"}}}`` (headline metrics) when the samples carry two or more
    domains (or one plus unnamed rows); ``{}`` otherwise."""
    from foveal.evaluation.metrics import evaluate_predictions, headline

    if part.domain is None:
        return {}
    values = [part.domain[int(i)] or "(none)" for i in kept]
    names = sorted(set(values))
    if len(names) < 2:
        return {}
    out = {}
    for name in names:
        rows = np.array([v == name for v in values])
        result = evaluate_predictions(task, [lab for lab, r in zip(labels, rows) if r], proba[rows])
        out[name] = {"n": int(rows.sum()), "metrics": {k: float(v) for k, v in headline(result).items()}}
    return {"domains": out}


def domain_rows(result: dict) -> list[list]:
    """Rows ``[domain, n, metric values…]`` for tables (console and report)."""
    return [[name, d["n"], *d["metrics"].values()] for name, d in result.get("domains", {}).items()]


def domain_header(result: dict) -> list[str]:
    first = next(iter(result.get("domains", {}).values()), {"metrics": {}})
    return ["domain", "n", *first["metrics"]]


def domain_table_html(result: dict) -> str:
    """The report's per-domain table ('' without domains)."""
    from foveal.evaluation.report_html import table

    return table(domain_header(result), domain_rows(result)) if result.get("domains") else ""
