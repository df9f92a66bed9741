"""Key mapping for --pretrained: by name and shape only, wrapper prefixes, heads, channel adaptation."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from foveal.deep.models import build_model
from foveal.deep.transfer import load_pretrained, match_state, transfer_summary
from foveal.errors import ConfigError


def timm_state(name: str, classes: int, chans: int = 3) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return build_model(name, chans, classes, {"drop_rate": 0.0}).state_dict()


def save(state: dict, path) -> None:
    if str(path).endswith(".safetensors"):
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)


def test_torchvision_resnet_weights_fit_timm_resnet():
    import torchvision

    source = torchvision.models.resnet18(weights=None, num_classes=1000).state_dict()
    net = build_model("resnet18", 3, 4, {"drop_rate": 0.0})
    matched, report = match_state(net, source)
    assert report["missing"] == [] and report["skipped"] == [] and report["unexpected"] == []
    assert report["reinitialised"] == ["fc.bias", "fc.weight"]
    assert report["loaded"] == report["total"] - 2
    assert torch.equal(matched["layer4.1.conv2.weight"], source["layer4.1.conv2.weight"])


def test_another_architecture_is_refused_in_one_line(tmp_path):
    path = tmp_path / "resnet18.safetensors"
    save(timm_state("resnet18", 1000), path)
    net = build_model("mobilenetv3_small_050", 3, 3, {"drop_rate": 0.0})
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ConfigError) as err:
        load_pretrained(net, path)
    message = f"foveal: error: {err.value}"
    assert len(message.splitlines()) == 1 and "same architecture" in message
    matched, report = match_state(net, timm_state("resnet18", 1000))
    assert f"only {report['body_loaded']} of the model's {report['body_total']}" in message
    assert report["body_loaded"] < report["body_total"] / 2
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # nothing was loaded


def test_foreign_names_are_never_matched_by_position():
    donor = build_model("cnn-small", 3, 10, {})
    source = {f"block{i}": v for i, v in enumerate(donor.state_dict().values())}
    matched, report = match_state(build_model("cnn-small", 3, 10, {}), source)
    assert matched == {} and report["loaded"] == 0 and len(report["skipped"]) == len(source)


@pytest.mark.parametrize("prefix,suffix", [("module.", ".safetensors"), ("backbone.", ".pth"),
                                           ("module.backbone.", ".pth"), ("_orig_mod.encoder.", ".safetensors")])
def test_wrapper_and_backbone_prefixes_load_fully(tmp_path, prefix, suffix):
    state = timm_state("resnet18", 3)
    path = tmp_path / f"weights{suffix}"
    save({prefix + k: v for k, v in state.items()}, path)
    net = build_model("resnet18", 3, 3, {"drop_rate": 0.0})
    report = load_pretrained(net, path)
    assert report["loaded"] == report["total"] and report["missing"] == report["skipped"] == []
    assert report["reinitialised"] == []
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())


def test_backbone_prefix_with_a_separate_head_reinitialises_the_head(tmp_path):
    state = timm_state("resnet18", 10)
    source = {("head." if k.startswith("fc.") else "backbone.") + k: v for k, v in state.items()}
    net = build_model("resnet18", 3, 3, {"drop_rate": 0.0})
    matched, report = match_state(net, source)
    assert report["missing"] == [] and report["skipped"] == ["head.fc.bias", "head.fc.weight"]
    assert report["reinitialised"] == ["fc.bias", "fc.weight"]


def test_ten_class_head_into_three_class_model_is_reinitialised(tmp_path):
    state = timm_state("resnet18", 10)
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": state}, path)  # a weights-only checkpoint dict
    net = build_model("resnet18", 3, 3, {"drop_rate": 0.0})
    head_before = net.fc.weight.detach().clone()
    report = load_pretrained(net, path)
    assert report["reinitialised"] == ["fc.bias", "fc.weight"]
    assert report["missing"] == [] and report["skipped"] == []
    assert report["loaded"] == report["total"] - 2
    assert torch.equal(net.fc.weight, head_before) and net.fc.weight.shape == (3, 512)
    assert torch.equal(net.layer1[0].conv1.weight, state["layer1.0.conv1.weight"])
    line = transfer_summary(report)
    assert line == (f"pretrained weights: {report['total'] - 2} of {report['total']} tensors loaded, "
                    "2 re-initialised (fc.bias, fc.weight), 0 skipped")


def test_gray_model_from_rgb_weights_adapts_the_first_conv(tmp_path):
    state = timm_state("resnet18", 3)
    path = tmp_path / "rgb.safetensors"
    save(state, path)
    gray = build_model("resnet18", 1, 3, {"drop_rate": 0.0})
    report = load_pretrained(gray, path)
    assert report["loaded"] == report["total"] and report["missing"] == []
    assert gray.conv1.weight.shape[1] == 1
    assert torch.allclose(gray.conv1.weight, state["conv1.weight"].sum(dim=1, keepdim=True))

    small = build_model("cnn-small", 1, 10, {})  # same for foveal's own network
    matched, report = match_state(small, build_model("cnn-small", 3, 10, {}).state_dict())
    assert matched["features.0.weight"].shape[1] == 1 and report["reinitialised"] == []


def test_only_the_first_conv_is_channel_adapted():
    source = timm_state("resnet18", 3)
    source["layer1.0.conv1.weight"] = torch.zeros(64, 32, 3, 3)  # a mid-network conv of another width
    net = build_model("resnet18", 3, 3, {"drop_rate": 0.0})
    matched, report = match_state(net, source)
    assert "layer1.0.conv1.weight" not in matched
    assert report["missing"] == ["layer1.0.conv1.weight"] and report["skipped"] == ["layer1.0.conv1.weight"]
    assert "1 missing (layer1.0.conv1.weight)" in transfer_summary(report)


def test_pickles_and_missing_files_are_refused(tmp_path):
    from pathlib import Path

    net = build_model("cnn-small", 3, 10, {})
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": net.state_dict(), "payload": Path("x")}, evil)
    with pytest.raises(ConfigError, match="not a weights-only state dict"):
        load_pretrained(net, evil)
    with pytest.raises(ConfigError, match="does not exist"):
        load_pretrained(net, tmp_path / "nope.safetensors")
