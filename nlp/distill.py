"""Ensemble distillation: teachers trained with the same recipe label every training text for every task.

Each labelled set is small for its task (3,257 emotion tweets) while the stage-1 data
holds ~90k tweets in all. Teachers (the recipe with other seeds) give every one of them
soft labels for every distilled task; their mean is sharper than any one teacher and
the student learns emotion, offensive and the rest from all the texts, not only from the
few labelled for it. The complaint dataset's product domains stay out of the pool, so
the leave-domains-out evaluation of the complaint head stays leak-free.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nlp.datasets import Split

DISTILLED_TASKS = ("sentiment", "emotion", "offensive", "suggestion", "complaint_aux")
LABEL_BATCH = 256


def distillation_pool(tasks: dict[str, Split], dev: dict[str, Split]) -> list[str]:
    """Every stage-1 training text once, in first-seen order, leaving out any text of a dev split."""
    held_out = {text for split in dev.values() for text in split.texts}
    pool = dict.fromkeys(text for split in tasks.values() for text in split.texts)
    return [text for text in pool if text not in held_out]


def teacher_dirs(work_dir: Path, seed: int, count: int) -> list[Path]:
    """Where the ``count`` teachers of a student with ``seed`` live (seeds from the student's on)."""
    return [Path(work_dir) / f"teacher-seed{seed + k}" for k in range(count)]


def teacher_config(config, index: int):
    """The recipe of teacher ``index``: the student's without teachers, with seed ``config.seed + index``
    (teacher 0 is the model the recipe trains without distillation)."""
    return replace(config, seed=config.seed + index, teachers=0, distill_fraction=0.0)


def student_steps(config) -> int:
    """Distillation steps come on top of the recipe's steps on labelled data."""
    return round(config.steps / (1 - config.distill_fraction)) if config.teachers else config.steps


def is_trained(path: Path, config) -> bool:
    """Whether ``path`` holds a finished model trained with exactly ``config`` (models from before
    distillation existed record no teachers)."""
    meta = Path(path) / "meta.json"
    if not meta.exists():
        return False
    recorded = json.loads(meta.read_text(encoding="utf-8")).get("config", {})
    return {"teachers": 0, "distill_fraction": 0.0, **recorded} == asdict(config)


def labelling_batches(texts: int, teachers: int) -> int:
    """How many batches the teachers run to label ``texts`` texts (the unit of labelling progress)."""
    return teachers * -(-texts // LABEL_BATCH)


@torch.no_grad()
def teacher_probabilities(paths: list[Path], texts: list[str], tokenizer, device: torch.device, max_length: int,
                          progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """The teachers' mean class probabilities of every text, per distilled task; ``progress(batches done)``."""
    from nlp.multitask import load_artifacts
    from nlp.train import embed_texts

    per_teacher = labelling_batches(len(texts), 1)
    mean: dict[str, np.ndarray] = {}
    for index, path in enumerate(paths):
        model = load_artifacts(path).to(device)
        pooled = embed_texts(model, tokenizer, texts, max_length, LABEL_BATCH, progress=progress and (
            lambda done, offset=index * per_teacher: progress(offset + done)))
        logits = model.heads_of(torch.from_numpy(pooled).to(device), list(DISTILLED_TASKS))
        for task, values in logits.items():
            probs = torch.softmax(values.float(), -1).cpu().numpy() / len(paths)
            mean[task] = mean.get(task, 0) + probs
        del model
    return mean


def soft_cross_entropy(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over tasks of the cross-entropy of the student's logits against the teachers' probabilities."""
    return sum(-(targets[t] * torch.log_softmax(logits[t].float(), -1)).sum(-1).mean() for t in logits)
