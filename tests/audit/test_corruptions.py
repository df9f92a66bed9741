"""The corruption suite: every corruption at five severities, deterministic, getting worse with severity."""

from __future__ import annotations

import numpy as np
import pytest

from foveal.audit.corruptions import CORRUPTIONS, SEVERITIES, applicable, corrupt
from foveal.data.builtin import load_builtin
from foveal.errors import ConfigError

NAMES = ("gaussian_noise", "shot_noise", "impulse_noise", "gaussian_blur", "defocus_blur", "motion_blur", "jpeg",
         "pixelate", "brightness", "contrast", "saturate", "rotate", "occlusion")


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    gray = load_builtin("digits-in-clutter").images[:16]
    return np.ascontiguousarray(np.concatenate([gray, gray, gray], axis=3))  # RGB, so saturation applies


def _change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_the_suite_has_the_names_of_the_issue() -> None:
    assert tuple(CORRUPTIONS) == NAMES and SEVERITIES == (1, 2, 3, 4, 5)


@pytest.mark.parametrize("name", NAMES)
def test_each_corruption_is_deterministic_and_grows_with_severity(images, name) -> None:
    colourful = images.copy()
    colourful[..., 0] = np.clip(colourful[..., 0].astype(int) + 60, 0, 255)  # some saturation to change
    x = colourful if name == "saturate" else images
    outs = [corrupt(x, name, s, seed=0) for s in SEVERITIES]
    for out in outs:
        assert out.shape == x.shape and out.dtype == np.uint8
    assert np.array_equal(outs[2], corrupt(x, name, 3, seed=0))
    changes = [_change(x, out) for out in outs]
    assert changes[-1] > 0
    if name != "saturate":  # CIFAR-10-C's saturation first desaturates, then over-saturates
        assert changes[-1] > changes[0], changes


def test_seeds_change_the_random_corruptions(images) -> None:
    assert not np.array_equal(corrupt(images, "gaussian_noise", 3, 0), corrupt(images, "gaussian_noise", 3, 1))
    assert np.array_equal(corrupt(images, "jpeg", 3, 0), corrupt(images, "jpeg", 3, 1))  # nothing random


def test_saturation_means_nothing_for_gray_images() -> None:
    assert not applicable("saturate", 1) and applicable("saturate", 3) and applicable("jpeg", 1)


def test_bad_names_and_severities_are_refused(images) -> None:
    with pytest.raises(ConfigError, match="unknown corruption 'fog'"):
        corrupt(images, "fog", 1)
    with pytest.raises(ConfigError, match="severity 6"):
        corrupt(images, "jpeg", 6)
