"""Explanations are tested, not assumed: pointing game, the randomisation check, deletion."""

from __future__ import annotations

import numpy as np

import foveal
from foveal.explain import explain
from foveal.explain.explainer import check_method, maps_for
from foveal.explain.sanity import deletion_check, pointing_game, randomisation_check
from foveal.explain.targets import score_space


def test_gradcam_points_at_the_digit(clutter_bundle, clutter_test) -> None:
    images, boxes, _ = clutter_test
    found = explain(foveal.load_bundle(clutter_bundle), images, method="gradcam")
    assert len(found) == len(images)
    maps = np.stack([e.map for e in found])
    assert maps.shape == (len(images), 32, 32) and maps.dtype == np.float32 and (maps >= 0).all()
    score = pointing_game(maps, boxes)
    assert score >= 0.8, score
    # a map that ignores the image cannot pass: the same maps against shuffled boxes miss most
    assert pointing_game(maps, np.roll(boxes, 7, axis=0)) < 0.5


def test_pointing_game_counts_peaks_in_boxes() -> None:
    maps = np.zeros((3, 10, 10), np.float32)
    maps[0, 2, 3] = maps[1, 9, 9] = maps[2, 5, 5] = 1.0
    boxes = np.array([[0, 0, 5, 5], [0, 0, 5, 5], [5, 5, 8, 8]])
    assert pointing_game(maps, boxes) == 2 / 3
    assert pointing_game(maps, boxes, tolerance=5) == 1.0


def test_randomised_weights_change_the_maps(clutter_bundle, clutter_test) -> None:
    images = clutter_test[0][:24]
    result = randomisation_check(foveal.load_bundle(clutter_bundle), images, "gradcam")
    assert result.trained_vs_trained > 0.99  # Grad-CAM is deterministic
    assert result.trained_vs_random < 0.5, result  # Adebayo et al.: well below


def test_deleting_salient_pixels_hurts_more_than_random_ones(clutter_bundle, clutter_test) -> None:
    predictor = foveal.load_bundle(clutter_bundle)
    images, _, labels = clutter_test
    targets = [predictor.classes.index(y) for y in labels]
    maps = maps_for(predictor, images, targets, "gradcam", score_space(predictor.task))
    result = deletion_check(predictor, images, maps, targets, fraction=0.2)
    assert result.salient_drop > result.random_drop + 0.1, result


def test_every_deep_method_gives_maps(clutter_bundle, clutter_test) -> None:
    predictor = foveal.load_bundle(clutter_bundle)
    images, boxes, _ = clutter_test
    for method in ("gradcam++", "integrated-gradients", "saliency", "occlusion"):
        found = predictor.explain(images[:3], method=method)
        maps = np.stack([e.map for e in found])
        assert maps.shape == (3, 32, 32) and np.isfinite(maps).all() and (maps >= 0).all(), method
        assert all(m.max() > m.min() for m in maps), method
        assert {e.method for e in found} == {check_method(predictor, method)}
