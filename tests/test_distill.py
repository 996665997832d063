"""Ensemble distillation: the pool, the teachers' recipes and reuse, the soft loss, a tiny real run."""

import json
import os

import pytest
import torch

from brandpulse.core.errors import AnalysisError
from nlp.card import write_model_card
from nlp.datasets import Split
from nlp.distill import (distillation_pool, is_trained, soft_cross_entropy, student_steps, teacher_config,
                         teacher_dirs)
from nlp.train import TrainConfig, train_model
from tests.test_train_smoke import tiny_data, write


def split(*texts: str) -> Split:
    return Split(list(texts), [0] * len(texts), [""] * len(texts))


def test_pool_holds_each_training_text_once_and_no_dev_text():
    tasks = {"sentiment": split("a", "b", "c"), "emotion": split("b", "d"), "complaint_aux": split("e")}
    dev = {"sentiment": split("c"), "emotion": split("zzz")}
    assert distillation_pool(tasks, dev) == ["a", "b", "d", "e"]


def test_teachers_follow_the_recipe_with_their_own_seeds_and_no_teachers(tmp_path):
    student = TrainConfig(seed=13, teachers=2, distill_fraction=0.25)
    assert [teacher_config(student, k).seed for k in range(2)] == [13, 14]
    assert teacher_config(student, 1).teachers == 0 and teacher_config(student, 1).distill_fraction == 0.0
    assert teacher_config(student, 1).steps == student.steps
    assert [p.name for p in teacher_dirs(tmp_path, 13, 2)] == ["teacher-seed13", "teacher-seed14"]
    assert student_steps(student) == 16000 and student_steps(TrainConfig(teachers=0)) == 12000


def test_a_model_from_before_distillation_counts_as_a_teacher_of_its_recipe(tmp_path):
    recorded = {k: v for k, v in vars(TrainConfig()).items() if k not in ("teachers", "distill_fraction")}
    (tmp_path / "meta.json").write_text(json.dumps({"config": recorded}))
    assert is_trained(tmp_path, teacher_config(TrainConfig(teachers=1), 0))
    assert not is_trained(tmp_path, teacher_config(TrainConfig(teachers=2), 1))  # another seed
    assert not is_trained(tmp_path / "missing", TrainConfig())


def test_soft_cross_entropy_is_the_usual_loss_on_one_hot_targets_and_sums_tasks():
    logits = {"a": torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "b": torch.tensor([[0.5, -0.5]])}
    targets = {"a": torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "b": torch.tensor([[0.25, 0.75]])}
    expected_a = torch.nn.functional.cross_entropy(logits["a"], torch.tensor([0, 1]))
    expected_b = -(targets["b"] * torch.log_softmax(logits["b"], -1)).sum()
    assert soft_cross_entropy(logits, targets).item() == pytest.approx((expected_a + expected_b).item())


def with_unlabelled_train_texts(root):
    """tiny_data's dev splits equal its train splits; give train its own texts to distil on."""
    for folder, label in [("sentiment", "neutral"), ("emotion", "joy")]:
        write(root / f"{folder}/train.csv", [{"id": i, "text": t, "label": label} for i, t in
                                              enumerate(["the parcel came today", "new menu out", "ok then"])])
    return root


def test_a_tiny_student_reuses_its_finished_teacher_and_records_the_distillation(tmp_path):
    data = with_unlabelled_train_texts(tiny_data(tmp_path / "data"))
    config = TrainConfig(steps=3, batch_size=4, teachers=1, distill_fraction=0.5)
    work = tmp_path / "teachers"
    seen = []
    meta = train_model(data, tmp_path / "student", config, work_dir=work,
                       progress=lambda step, total, loss: seen.append((step, total, loss)))
    steps = [step for step, _, _ in seen]
    assert steps == list(range(1, len(seen) + 1)) and {total for _, total, _ in seen} == {len(seen)}
    assert [loss is None for _, _, loss in seen] == [False] * 3 + [True] + [False] * 6  # teacher, labels, student
    teacher = work / "teacher-seed13"
    assert is_trained(teacher, teacher_config(config, 0))
    assert meta["config"]["teachers"] == 1 and meta["distillation_texts"] > 0
    assert not (teacher / "README.md").exists()  # teachers are working files, not published models
    card = write_model_card(tmp_path / "student", None).read_text()
    assert "Distillation: 1 teacher(s) trained first with the recipe above and seed(s) 13" in card
    assert "--teachers 1 --distill-fraction 0.5" in card
    stamp = os.stat(teacher / "heads.safetensors").st_mtime_ns
    train_model(data, tmp_path / "student-again", config, work_dir=work)
    assert os.stat(teacher / "heads.safetensors").st_mtime_ns == stamp  # reused, not retrained


def test_distilling_without_texts_outside_dev_says_what_to_do(tmp_path):
    with pytest.raises(AnalysisError, match="--teachers 0"):
        train_model(tiny_data(tmp_path / "data"), tmp_path / "student",
                    TrainConfig(steps=2, batch_size=4, teachers=1), work_dir=tmp_path / "teachers")
