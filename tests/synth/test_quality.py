"""The quality yardsticks and the imbalanced built-in."""

from __future__ import annotations

from collections import Counter

import numpy as np

from foveal.data.builtin_imbalanced import MINORITY
from foveal.data.load import load_dataset
from foveal.synth.data import load_real
from foveal.synth.quality import Judge, frechet_distance, hog_features, noise_like


def test_frechet_distance_is_zero_for_a_set_and_large_for_noise():
    real = load_real("digits", 16)
    eights = hog_features(real.of_class(real.classes.index("8")))
    threes = hog_features(real.of_class(real.classes.index("3")))
    half = len(eights) // 2
    assert abs(frechet_distance(eights, eights)) < 1e-6
    same_class = frechet_distance(eights[:half], eights[half:])
    noise = hog_features(noise_like(real.images[:120]))
    assert same_class < frechet_distance(eights, threes) < frechet_distance(eights, noise)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3))
    assert abs(frechet_distance(a, a + 2.0) - 12.0) < 1e-6  # a mean shift of 2 in 3 dimensions, same covariance


def test_judge_recognises_real_digits_but_not_noise():
    real = load_real("digits", 16)
    held = load_real("digits", 16, split="val")
    judge = Judge(real.images, real.labels)
    three = real.classes.index("3")
    assert judge.accuracy(held.of_class(three), three) > 0.8
    assert judge.accuracy(noise_like(held.of_class(three)), three) < 0.5


def test_digits_imbalanced_cuts_only_the_minority_in_training():
    full, cut = load_dataset("digits"), load_dataset("digits-imbalanced")
    before, after = Counter(zip(full.labels, full.split)), Counter(zip(cut.labels, cut.split))
    assert after[(MINORITY, "train")] == round(before[(MINORITY, "train")] * 0.05) == 6
    assert all(after[key] == n for key, n in before.items() if key != (MINORITY, "train"))
    assert cut.orientation_sensitive and cut.task.classes == full.task.classes
