"""foveal prune: structured pruning lowers parameters and MACs, unstructured sparsity survives fine-tuning."""

from __future__ import annotations

from compress_helpers import manifest
from helpers import run_cli


def test_structured_pruning_shrinks_the_network(capsys, deep_bundle, digits_folder, tmp_path):
    import foveal

    code, out, err = run_cli(capsys, "--quiet", "prune", deep_bundle, digits_folder, "--amount", "0.5",
                             "--structured", "--out", tmp_path / "pruned")
    assert code == 0, err
    m = manifest(tmp_path / "pruned")
    r = m["pruning"]
    assert r["method"] == "structured" and m["model"]["pruned"]["amount"] == 0.5
    assert r["pruned"]["params"] < 0.5 * r["before"]["params"] and r["pruned"]["macs"] < 0.5 * r["before"]["macs"]
    assert m["lineage"]["parent"]["operation"] == "prune"
    p = foveal.load_bundle(tmp_path / "pruned")  # narrower layers are rebuilt from the weights
    assert sum(t.numel() for t in p.model.net.parameters()) == r["pruned"]["params"]
    assert "MACs" in out
    code, _, err = run_cli(capsys, "export", tmp_path / "pruned", "--out", tmp_path / "pruned-onnx")
    assert code == 0, err


def test_unstructured_pruning_keeps_zeros_through_finetuning(deep_bundle, digits_folder, tmp_path):
    import foveal
    from foveal.compress.prune import PruneOptions, prune_bundle
    from foveal.progress import quiet

    with quiet():
        result = prune_bundle(deep_bundle, digits_folder, tmp_path / "sparse",
                              PruneOptions(amount=0.6, structured=False, finetune_epochs=1,
                                           finetune={"batch_size": 32, "workers": 1}))
    r = result.report
    assert r["pruned"]["params"] == r["before"]["params"]
    assert r["finetuned"]["nonzero_params"] <= 0.45 * r["before"]["params"]
    assert r["finetune"]["epochs"] == 1 and "accuracy" in r["finetune"]["val"]
    weights = [t.detach().numpy() for t in foveal.load_bundle(result.bundle).model.net.parameters() if t.ndim > 1]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
    assert zeros >= 0.59
    assert r["finetuned"]["value"] >= r["pruned"]["value"] - 0.05


def test_prune_refuses_non_torch_bundles(capsys, onnx_bundle, digits_folder, tmp_path):
    code, _, err = run_cli(capsys, "prune", onnx_bundle, digits_folder, "--out", tmp_path / "x")
    assert code == 2 and "pruning needs PyTorch weights" in err
    code, _, err = run_cli(capsys, "prune", onnx_bundle, digits_folder, "--amount", "1.5", "--out", tmp_path / "x")
    assert code == 2 and "--amount" in err
    assert not (tmp_path / "x").exists()
