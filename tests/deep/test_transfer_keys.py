"""Key mapping for --pretrained: torchvision names, foreign names, channel adaptation."""

from __future__ import annotations

import torch

from foveal.deep.models import build_model
from foveal.deep.transfer import match_state


def test_torchvision_resnet_weights_fit_timm_resnet():
    import torchvision

    source = torchvision.models.resnet18(weights=None, num_classes=1000).state_dict()
    net = build_model("resnet18", 3, 4, {"drop_rate": 0.0})
    matched, report = match_state(net, source)
    assert report["missing"] == [] and report["unexpected"] == []
    assert report["reinitialised"] == ["fc.bias", "fc.weight"]
    assert torch.equal(matched["layer4.1.conv2.weight"], source["layer4.1.conv2.weight"])


def test_foreign_names_are_matched_by_position_and_rgb_conv_adapted_to_gray():
    donor = build_model("cnn-small", 3, 10, {})
    source = {f"backbone.block{i}": v for i, v in enumerate(donor.state_dict().values())}
    net = build_model("cnn-small", 1, 3, {})
    matched, report = match_state(net, source)
    assert report["missing"] == [] and len(matched) == len(net.state_dict()) - 2 - sum(
        k.endswith("num_batches_tracked") for k in net.state_dict())
    assert matched["features.3.weight"].shape == net.state_dict()["features.3.weight"].shape

    gray = build_model("cnn-small", 1, 10, {})
    matched, report = match_state(gray, donor.state_dict())  # same names, 3 → 1 input channels
    assert matched["features.0.weight"].shape[1] == 1 and report["reinitialised"] == []
