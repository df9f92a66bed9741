"""Saving and loading estimators with skops, trusting only an explicit list of types.

Nothing is unpickled: skops rebuilds objects from a JSON schema, and any type
outside the allow-list is refused before loading.
"""

from __future__ import annotations

import zipfile
from io import BytesIO

from foveal.errors import BundleError

TRUSTED_EXTRA = (
    "foveal.classical.svm.SVMClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)


def trusted_types() -> set[str]:
    from foveal.features import TRUSTED_TYPES

    return set(TRUSTED_EXTRA) | set(TRUSTED_TYPES)


def dump_estimator(estimator) -> bytes:
    import skops.io as sio

    data = sio.dumps(estimator)
    untrusted = set(sio.get_untrusted_types(data=data)) - trusted_types()
    if untrusted:  # would be refused on load: fail now, not after shipping
        raise BundleError(f"the model holds types foveal will not load: {', '.join(sorted(untrusted))}",
                          "report this as a foveal bug")
    return data


def load_estimator(data: bytes, where: str):
    """Rebuild an estimator from skops bytes, refusing pickles and unknown types."""
    import skops.io as sio

    if data[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or not zipfile.is_zipfile(BytesIO(data)):
        raise BundleError(f"{where} is not a skops file (a pickle or other format?)",
                          "foveal never loads pickles; retrain or re-save the model with foveal")
    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as err:  # skops raises several kinds on malformed schemas
        raise BundleError(f"{where} is not a valid skops file ({err})", "retrain or restore the bundle") from None
    refused = untrusted - trusted_types()
    if refused:
        raise BundleError(f"{where} contains types that are not trusted: {', '.join(sorted(refused))}",
                          "only load bundles written by foveal; nothing from this file was run")
    return sio.loads(data, trusted=sorted(untrusted))
