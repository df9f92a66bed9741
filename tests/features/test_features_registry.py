"""create_features / list_features / TRUSTED_TYPES."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import FeatureUnion

import foveal.features as features
from foveal.errors import ConfigError
from foveal.features import TRUSTED_TYPES, create_features, list_features


def test_list_features_describes_every_name():
    described = list_features()
    assert {"pixels", "color-hist", "hog", "lbp", "sift-bow", "edges", "corners"} <= set(described)
    assert all(isinstance(text, str) and text for text in described.values())


def test_trusted_types_are_the_extractor_classes():
    classes = {type(create_features(name)) for name in list_features()}
    assert sorted(f"{c.__module__}.{c.__qualname__}" for c in classes) == sorted(TRUSTED_TYPES)
    assert features.HOGFeatures.__name__ == "HOGFeatures"


def test_several_names_give_a_named_feature_union(make_images):
    union = create_features("hog, lbp", hog={"orientations": 12}, n_jobs=1)
    assert isinstance(union, FeatureUnion)
    assert [name for name, _ in union.transformer_list] == ["hog", "lbp"]
    hog, lbp = (part for _, part in union.transformer_list)
    assert (hog.orientations, hog.n_jobs, lbp.n_jobs) == (12, 1, 1)
    X = make_images(32, 3)
    out = union.fit_transform(X)
    assert out.dtype == np.float32
    assert out.shape[1] == hog.n_features_out_ + lbp.n_features_out_
    assert union.get_feature_names_out()[0] == "hog__hog_0"


def test_list_spec_and_hyphenated_params():
    union = create_features(["lbp", "sift-bow"], **{"sift-bow": {"n_words": 5}})
    assert union.transformer_list[1][1].n_words == 5
    assert create_features("sift_bow", sift_bow={"descriptor": "orb"}).descriptor == "orb"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown feature 'hgo'") as caught:
        create_features("hog,hgo")
    assert "lbp" in caught.value.fix and "sift-bow" in caught.value.fix


@pytest.mark.parametrize(
    ("spec", "params", "message"),
    [
        ("", {}, "no feature"),
        ("hog,hog", {}, "twice"),
        ("hog", {"radius": 3}, "no parameter radius"),
        ("hog,lbp", {"lbp": {"orientations": 3}}, "no parameter orientations"),
        ("hog", {"hog": 12}, "mapping"),
    ],
)
def test_bad_specs_and_params(spec, params, message):
    with pytest.raises(ConfigError, match=message):
        create_features(spec, **params)


def test_import_is_light():
    code = "import sys, foveal.features; print(any(m in sys.modules for m in ('torch', 'skimage', 'sklearn')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
