"""foveal distill: deep students with the distillation loss, classical students fitted to the teacher."""

from __future__ import annotations

import shutil

import torch
import yaml

from compress_helpers import manifest
from helpers import run_cli

FAST = ["--batch-size", "32", "--workers", "1", "--no-report"]


def test_deep_student_lineage_names_the_teacher(capsys, deep_bundle, digits_folder, tmp_path):
    code, out, err = run_cli(capsys, "--quiet", "distill", deep_bundle, digits_folder, "--student", "cnn-small",
                             "--epochs", "2", "--temperature", "3", "--alpha", "0.7", "--out", tmp_path / "run", *FAST)
    assert code == 0, err
    m = manifest(tmp_path / "run" / "model")
    parent = m["lineage"]["parent"]
    assert parent["operation"] == "distill" and parent["path"] == str(deep_bundle.resolve())
    d = m["training"]["distillation"]
    assert d["temperature"] == 3.0 and d["alpha"] == 0.7 and 0.0 <= d["fidelity"] <= 1.0 and d["n"] > 20
    cfg = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert cfg["teacher"] == str(deep_bundle.resolve()) and cfg["distill_temperature"] == 3.0 and cfg["epochs"] == 2
    assert m["lineage"]["config"]["alpha"] == 0.7 and "fidelity" in out
    assert (tmp_path / "run" / "distill.html").is_file()
    shutil.rmtree(tmp_path / "run" / "model")  # as if the run stopped after its last checkpoint
    code, _, err = run_cli(capsys, "--quiet", "train", "--resume", tmp_path / "run")
    assert code == 0, err
    resumed = manifest(tmp_path / "run" / "model")
    assert resumed["lineage"]["parent"]["operation"] == "distill" and resumed["training"]["epochs"] == 2


def test_decision_tree_student_reports_fidelity_and_rules(capsys, deep_bundle, digits_folder, tmp_path):
    code, out, err = run_cli(capsys, "--quiet", "distill", deep_bundle, digits_folder, "--student", "decision-tree",
                             "--features", "pixels", "--param", "max_depth=6", "--out", tmp_path / "tree")
    assert code == 0, err
    d = manifest(tmp_path / "tree" / "model")["training"]["distillation"]
    assert d["fitted_to"] == "teacher decisions" and 0.3 < d["fidelity"] <= 1.0
    rules = (tmp_path / "tree" / "rules.txt").read_text()
    assert "pixels_" in rules and "class:" in rules
    page = (tmp_path / "tree" / "distill.html").read_text()
    assert "fidelity" in page and "Decision rules" in page
    assert (tmp_path / "tree" / "report.html").is_file()


def test_student_must_share_the_teachers_classes(capsys, deep_bundle, faces_folder, tmp_path):
    code, _, err = run_cli(capsys, "distill", deep_bundle, faces_folder, "--student", "logistic",
                           "--out", tmp_path / "x")
    assert code == 2 and "differs from the teacher's" in err and not (tmp_path / "x").exists()
    code, _, err = run_cli(capsys, "distill", deep_bundle, faces_folder, "--student", "logistic",
                           "--temperature", "0", "--out", tmp_path / "x")
    assert code == 2 and "distill_temperature must be above 0" in err


def test_kd_loss_mixes_hard_and_soft_terms():
    from foveal.compress.distill import DistillHead, kd_loss
    from foveal.deep.heads import SoftmaxHead

    torch.manual_seed(0)
    student, target = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    assert kd_loss(student, student.clone(), 4.0, False).abs() < 1e-6  # agreeing with the teacher costs nothing
    teacher = torch.randn(6, 4)
    hard = SoftmaxHead(4).loss(student, target)
    head = DistillHead(SoftmaxHead(4), temperature=2.0, alpha=0.0, multilabel=False)
    assert torch.allclose(head.loss(torch.cat([student, teacher], 1), target), hard)
    head = DistillHead(SoftmaxHead(4), temperature=2.0, alpha=1.0, multilabel=False)
    expected = 4.0 * torch.nn.functional.kl_div(torch.log_softmax(student / 2, 1), torch.log_softmax(teacher / 2, 1),
                                                reduction="batchmean", log_target=True)
    assert torch.allclose(head.loss(torch.cat([student, teacher], 1), target), expected, atol=1e-6)


def test_teacher_sees_the_same_augmented_batch():
    from foveal.compress.distill import TeacherAlongside

    seen = []

    def teacher(x01):
        seen.append(x01.clone())
        return torch.zeros(len(x01), 3)

    mean, std = torch.tensor([0.5]), torch.tensor([0.25])
    net = TeacherAlongside(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)), teacher, mean, std)
    x01 = torch.rand(5, 1, 4, 4)
    out = net((x01 - 0.5) / 0.25)
    assert out.shape == (5, 6) and torch.allclose(seen[0], x01, atol=1e-6)
