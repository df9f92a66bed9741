"""Every extractor: shapes, dtypes, determinism, persistence and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone

import foveal.features.base as base
from foveal.errors import ConfigError
from foveal.features import create_features, list_features

NAMES = list(list_features())


@pytest.mark.filterwarnings("ignore:sift-bow. only")  # a 3-image fit has few descriptors
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [8, 25, 32, 64])
@pytest.mark.parametrize("name", NAMES)
def test_shape_and_dtype(name, size, channels, make_images):
    X = make_images(size, channels)
    extractor = create_features(name)
    features = extractor.fit_transform(X)
    assert features.dtype == np.float32
    assert features.shape == (len(X), extractor.n_features_out_)
    assert np.isfinite(features).all()
    assert extractor.image_shape_ == (size, size, channels)
    assert len(extractor.get_feature_names_out()) == extractor.n_features_out_


@pytest.mark.filterwarnings("ignore:sift-bow. only")
@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_clone(name, make_images):
    X = make_images(32, 3, n=4)
    first = create_features(name).fit(X).transform(X)
    again = clone(create_features(name)).fit(X).transform(X)
    np.testing.assert_array_equal(first, again)


@pytest.mark.filterwarnings("ignore:sift-bow. only")
@pytest.mark.parametrize("name", NAMES)
def test_skops_round_trip(name, make_images):
    X = make_images(25, 1, n=4)
    extractor = create_features(name).fit(X)
    blob = sio.dumps(extractor)
    loaded = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    np.testing.assert_array_equal(extractor.transform(X), loaded.transform(X))


def test_get_and_set_params():
    hog = create_features("hog", orientations=12)
    assert hog.get_params()["orientations"] == 12
    hog.set_params(orientations=6, cells_per_side=3)
    assert clone(hog).get_params()["cells_per_side"] == 3


def test_image_size_mismatch_is_an_error(make_images):
    extractor = create_features("hog").fit(make_images(32, 1))
    with pytest.raises(ValueError, match=r"\(32, 32, 1\).*\(25, 25, 1\)"):
        extractor.transform(make_images(25, 1))
    with pytest.raises(ConfigError, match="channel"):
        extractor.transform(make_images(32, 1)[..., 0])


def test_wrong_dtype_is_an_error(make_images):
    with pytest.raises(ConfigError, match="uint8"):
        create_features("lbp").fit(make_images(32, 1).astype(np.float64))


def test_invalid_parameter_is_reported_at_fit(make_images):
    extractor = create_features("sift-bow", descriptor="surf")
    with pytest.raises(ConfigError, match="descriptor"):
        extractor.fit(make_images(32, 1))


def test_sift_bow_without_keypoints_gives_zeros(make_images):
    extractor = create_features("sift-bow", n_words=8).fit(make_images(64, 1, n=4))
    assert extractor.codebook_.shape == (8, 128)
    features = extractor.transform(np.zeros((2, 64, 64, 1), dtype=np.uint8))
    np.testing.assert_array_equal(features, 0)
    assert extractor.transform(make_images(64, 1, n=1)).sum() == pytest.approx(1)


def test_sift_bow_shrinks_codebook_when_descriptors_are_scarce():
    with pytest.warns(UserWarning, match="codebook"):
        extractor = create_features("sift-bow").fit(np.zeros((3, 16, 16, 1), dtype=np.uint8))
    assert extractor.transform(np.zeros((1, 16, 16, 1), dtype=np.uint8)).shape == (1, extractor.n_features_out_)


def test_orb_descriptor_on_small_images(make_images):
    extractor = create_features("sift-bow", descriptor="orb", n_words=8).fit(make_images(25, 3, n=4))
    assert extractor.codebook_.shape == (8, 256)
    assert extractor.transform(make_images(25, 3, n=2)).sum(axis=1) == pytest.approx([1, 1])


def test_parallel_matches_sequential(monkeypatch, digits):
    X = digits[0][:40]
    sequential = create_features("hog,lbp").fit(X).transform(X)
    monkeypatch.setattr(base, "PARALLEL_MIN_IMAGES", 8)
    parallel = create_features("hog,lbp", n_jobs=2).fit(X).transform(X)
    np.testing.assert_array_equal(sequential, parallel)
