"""Ensemble distillation study: each teacher, the teachers' ensemble and distilled students on dev.

Meant for a machine with a GPU (it runs on the CPU too, hours instead of minutes): teachers
are trained in parallel processes into the same folder ``brandpulse nlp train`` uses, so
the student that ``train_model`` then trains is the one the one-command recipe produces.

    python bench/distill_study.py teacher 0 --data ../shared/data --work W --out O   # one per teacher
    python bench/distill_study.py ensemble --data ../shared/data --work W --out O
    python bench/distill_study.py student NAME --data ../shared/data --work W --out O [--distill-fraction F]

Measured on a lent H100 (torch 2.11, transformers 5.17, one process, batch 32): ~19 steps/s
once warm, 4.4x two CPU cores; the step is bound by Python and autograd overhead, not by
the GPU, so a 12,000-step teacher takes ~11 min and three teachers in parallel processes did
not finish in 9.5 min. With cuDNN attention on (torch's default there) the first 20 steps took
22 s instead of 5.8 s, as it plans every new batch shape: ``training_device`` turns it off.

Scores are fp32 PyTorch on the dev splits (the issue's metrics and the per-class and
per-domain details) and are printed as JSON lines; ``brandpulse nlp evaluate`` remains
the reference, with int8 and baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.complaint_head import left_out_domains, unseen_domain_predictions  # noqa: E402
from nlp.datasets import load_training_data  # noqa: E402
from nlp.distill import teacher_config, teacher_dirs  # noqa: E402
from nlp.evaluate import DEV_TASKS, detail_metrics, task_metrics  # noqa: E402
from nlp.train import TrainConfig, embed_texts, train_model, training_device  # noqa: E402

TEACHERS = 3


@torch.no_grad()
def dev_probabilities(model, tokenizer, dev) -> dict[str, np.ndarray]:
    """fp32 class probabilities of every dev text, per task."""
    device = next(model.parameters()).device
    out = {}
    for task in DEV_TASKS:
        pooled = torch.from_numpy(embed_texts(model, tokenizer, dev[task].texts)).to(device)
        out[task] = torch.softmax(model.heads_of(pooled, [task])[task].float(), -1).cpu().numpy()
    return out


def scores(probabilities: dict[str, np.ndarray], dev, complaint, features=None) -> dict[str, float]:
    """The issue's metrics and details from dev probabilities (and complaint embeddings, if given)."""
    result: dict[str, float] = {}
    for task, probs in probabilities.items():
        predicted = probs.argmax(1).tolist()
        result |= task_metrics(task, dev[task].labels, predicted) | detail_metrics(task, dev[task].labels, predicted)
    if features is not None:
        gold, predicted = unseen_domain_predictions(features, complaint.labels, complaint.groups)
        result |= task_metrics("complaint", gold, predicted)
        result |= detail_metrics("complaint", gold, predicted, left_out_domains(complaint.groups))
    return {name: round(float(value), 4) for name, value in result.items()}


def record(out: Path, line: dict) -> None:
    """Print one system's scores and append them to ``out/scores.jsonl``."""
    print(json.dumps(line), flush=True)
    with (out / "scores.jsonl").open("a") as handle:
        handle.write(json.dumps(line) + "\n")


def printer(name: str):
    """A progress callback printing every 1000th step with the seconds since it was made."""
    started = time.perf_counter()
    return lambda step, total, loss: step % 1000 == 0 and print(
        f"{name} {step}/{total} loss {loss} {time.perf_counter() - started:.0f}s", flush=True)


def score_model(name: str, model_dir: Path, data: Path, out: Path, device, complaint_too: bool = True) -> None:
    from transformers import AutoTokenizer

    from nlp.multitask import base_model_dir, load_artifacts

    train, dev = load_training_data(data)
    complaint = train["complaint"]
    model = load_artifacts(model_dir).to(device)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    probabilities = dev_probabilities(model, tokenizer, dev)
    np.savez(out / f"{name}.dev.npz", **probabilities)
    # nested leave-one-domain-out: minutes on two cores
    features = embed_texts(model, tokenizer, complaint.texts) if complaint_too else None
    meta = json.loads((model_dir / "meta.json").read_text())
    record(out, {"system": name, "train_seconds": meta["train_seconds"],
                 **scores(probabilities, dev, complaint, features)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["teacher", "ensemble", "student"])
    parser.add_argument("name", nargs="?", default="")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--distill-fraction", type=float, default=None)
    parser.add_argument("--max-examples", type=int, default=None, help="cap per task (smoke runs)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    device = training_device()
    recipe = replace(TrainConfig(), teachers=TEACHERS, steps=args.steps or TrainConfig.steps,
                     max_examples_per_task=args.max_examples)
    if args.what == "teacher":
        index = int(args.name)
        path = teacher_dirs(args.work, recipe.seed, TEACHERS)[index]
        train_model(args.data, path, teacher_config(recipe, index), device=device.type, complaint_head=False,
                    progress=printer(path.name))
        score_model(path.name, path, args.data, args.out, device, complaint_too=False)
    elif args.what == "ensemble":
        _, dev = load_training_data(args.data)
        runs = [np.load(args.out / f"{p.name}.dev.npz") for p in teacher_dirs(args.work, recipe.seed, TEACHERS)]
        mean = {task: np.mean([run[task] for run in runs], axis=0) for task in DEV_TASKS}
        record(args.out, {"system": "teacher ensemble (dev tasks only)", **scores(mean, dev, None)})
    else:
        recipe = replace(recipe, distill_fraction=args.distill_fraction or recipe.distill_fraction)
        path = args.out / args.name
        train_model(args.data, path, recipe, device=device.type, work_dir=args.work,
                    progress=printer(args.name))
        score_model(args.name, path, args.data, args.out, device, not args.max_examples)


if __name__ == "__main__":
    main()
