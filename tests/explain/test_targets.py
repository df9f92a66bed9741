"""Every bundle can be explained: occlusion through predict_proba for classical models, one map per
predicted label (multi-label) or per level of the predicted path (hierarchical); attention rollout."""

from __future__ import annotations

import numpy as np
import pytest

import foveal
from foveal.errors import BundleError, ConfigError
from foveal.progress import quiet
from helpers import small


def _train(tmp_path, data, **options):
    with quiet():
        return foveal.load_bundle(foveal.train(data, out=str(tmp_path / "run"), report=False, **options).bundle)


def test_classical_bundles_are_explained_by_occlusion(tmp_path) -> None:
    predictor = _train(tmp_path, small("faces", 20), model="logistic", features="pixels")
    images = foveal.load_dataset("faces").images[:3]
    with pytest.raises(ConfigError, match="classical model"):
        predictor.explain(images, method="gradcam")
    with pytest.raises(BundleError):
        predictor.differentiable()
    found = predictor.explain(images, method="occlusion")
    assert [e.index for e in found] == [0, 1, 2]
    assert all(e.map.shape == (25, 25) and e.map.max() > 0 for e in found)
    proba = predictor.predict_proba(images)
    assert [e.target for e in found] == [predictor.classes[i] for i in proba.argmax(1)]
    assert np.allclose([e.score for e in found], proba.max(1))


def test_multilabel_gets_one_map_per_predicted_label(tmp_path) -> None:
    predictor = _train(tmp_path, small("multidigits", 10), model="logistic", features="pixels")
    images = foveal.load_dataset("multidigits").images[:2]
    found = predictor.explain(images, method="occlusion")
    for i, prediction in enumerate(predictor.predict(images)):
        targets = [e.target for e in found if e.index == i]
        assert targets == (prediction.label or targets[:1])  # none predicted: the top label
        assert len(targets) >= 1


def test_hierarchical_gets_one_map_per_level(tmp_path) -> None:
    predictor = _train(tmp_path, small("digit-taxonomy", 15), model="logistic", features="pixels")
    images = foveal.load_dataset("digit-taxonomy").images[:3]
    found = predictor.explain(images, method="occlusion")
    proba = predictor.predict_proba(images)
    for i, prediction in enumerate(predictor.predict(images)):
        family, leaf = prediction.label.split("/")
        rows = [e for e in found if e.index == i]
        assert [e.target for e in rows] == [family, prediction.label]
        members = [k for k, c in enumerate(predictor.classes) if c.startswith(family + "/")]
        assert rows[0].score == pytest.approx(proba[i, members].sum())
    node = predictor.explain(images[:1], method="occlusion", target="loops")
    assert [e.target for e in node] == ["loops"]


def test_attention_rollout_on_a_vision_transformer() -> None:
    import timm
    import torch

    from foveal.deep.views import default_target_layer
    from foveal.explain.rollout import attention_blocks, attention_rollout

    torch.manual_seed(0)
    net = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, depth=2,
                            num_classes=3, in_chans=1).eval()
    layer = default_target_layer(net)
    assert layer.tokens and layer.grid == (4, 4) and len(attention_blocks(net)) == 2
    maps = attention_rollout(net, layer, torch.rand(2, 1, 32, 32))
    assert maps.shape == (2, 4, 4) and torch.all(maps > 0)
    # the class token's row of a row-stochastic product: patch shares plus its own sum to 1
    assert torch.all(maps.sum(dim=(1, 2)) < 1)
    with pytest.raises(BundleError, match="vision-transformer"):
        from foveal.deep.models import CnnSmall

        cnn = CnnSmall(in_chans=1, num_classes=3)
        attention_rollout(cnn, default_target_layer(cnn), torch.rand(1, 1, 32, 32))
