"""Decoding ahead in a forked child: the same pixels, hashes and skipped files as decoding in place."""

from __future__ import annotations

import numpy as np
import pytest

from foveal.data import ahead
from foveal.data.images import Preprocessing, load_images
from foveal.data.load import load_dataset


@pytest.fixture()
def forking(monkeypatch):
    """The test process has torch imported already, where the run pipeline would not fork: allow it here."""
    monkeypatch.setattr(ahead, "possible", lambda: True)
    yield
    ahead.cancel()


def test_taken_result_equals_decoding_in_place(forking, dirty_folder):
    ds = load_dataset(dirty_folder)
    prep = Preprocessing(size=(20, 24), channels=3)
    here = load_images(ds, prep, 1.0, ahead=False)
    assert here.skipped  # the dirty files: some are undecodable
    assert ahead.decode_ahead(ds, prep)
    taken = load_images(ds, prep, 1.0)  # takes the child's result
    assert not ahead._pending
    np.testing.assert_array_equal(taken.images, here.images)
    np.testing.assert_array_equal(taken.kept, here.kept)
    assert taken.hashes == here.hashes and taken.skipped == here.skipped


def test_other_preprocessing_is_not_taken_and_cancel_reaps_the_child(forking, dirty_folder):
    ds = load_dataset(dirty_folder)
    assert ahead.decode_ahead(ds, Preprocessing(size=(16, 16), channels=1))
    other = load_images(ds, Preprocessing(size=(16, 16), channels=3), 1.0)
    assert other.images.shape[-1] == 3 and len(ahead._pending) == 1
    ahead.cancel()
    assert not ahead._pending


def test_a_failed_child_means_decoding_in_place(forking, dirty_folder, monkeypatch):
    import foveal.data.images as images

    ds = load_dataset(dirty_folder)
    prep = Preprocessing(size=(16, 16), channels=1)
    real = images.load_images

    def broken(*args, **kwargs):
        if kwargs.get("ahead") is False:  # the child's call
            raise RuntimeError("child failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "load_images", broken)
    assert ahead.decode_ahead(ds, prep)
    assert ahead.take(ds, prep) is None  # the child exited 1: the caller decodes itself
    assert len(real(ds, prep, 1.0).kept) > 0


def test_in_memory_data_and_imported_torch_start_nothing(dirty_folder, monkeypatch):
    import torch  # noqa: F401 - once torch is imported there is no import left to overlap

    assert not ahead.possible()
    assert not ahead.decode_ahead(load_dataset(dirty_folder), Preprocessing(size=(16, 16), channels=1))
    monkeypatch.setattr(ahead, "possible", lambda: True)
    assert not ahead.decode_ahead(load_dataset("digits"), Preprocessing(size=(8, 8), channels=1))  # arrays
    assert not ahead._pending
