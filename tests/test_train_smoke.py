"""A tiny training run (seconds): the whole train → save → load → score path works."""

import csv
import json
from pathlib import Path

from nlp.card import write_model_card
from nlp.evaluate import evaluate
from nlp.model import MultiTaskScorer
from nlp.train import MODEL_VERSION, TrainConfig, train_model

POSITIVE = ["love the new update", "great service, thank you", "best coffee in town", "so happy with it"]
NEGATIVE = ["worst experience ever", "still waiting for my refund", "the app keeps crashing", "awful support"]
NEUTRAL = ["the store opens at nine", "new plans announced today", "meeting at the cafe", "it is tuesday"]


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def tiny_data(root: Path) -> Path:
    sentiment = ([{"id": i, "text": t, "label": "positive"} for i, t in enumerate(POSITIVE)]
                 + [{"id": i, "text": t, "label": "negative"} for i, t in enumerate(NEGATIVE)]
                 + [{"id": i, "text": t, "label": "neutral"} for i, t in enumerate(NEUTRAL)])
    for split in ("train", "dev"):
        write(root / f"sentiment/{split}.csv", sentiment)
        write(root / f"emotion/{split}.csv", [{"id": 1, "text": t, "label": label} for t, label in
                                               [("so angry", "anger"), ("yay", "joy"),
                                                ("it will get better", "optimism"), ("so sad", "sadness")]])
        write(root / f"offensive/{split}.csv", [{"id": 1, "text": "you idiot", "label": "offensive"},
                                                 {"id": 2, "text": "have a nice day", "label": "not_offensive"}])
        write(root / f"suggestions/{split}.csv", [{"id": 1, "text": "please add dark mode", "label": "suggestion"},
                                                   {"id": 2, "text": "it works", "label": "not_suggestion"}])
    domains = ["software", "software", "food", "food"]  # two product domains: leave-one-domain-out runs
    rows = ([(t, "complaint", d) for t, d in zip(NEGATIVE, domains)]
            + [(t, "not_complaint", d) for t, d in zip(NEUTRAL, domains)]
            + [(t, "not_complaint", "random_tweet") for t in POSITIVE])
    write(root / "complaints/train.csv",
          [{"id": i, "text": t, "label": label, "domain": d} for i, (t, label, d) in enumerate(rows)])
    return root


def test_tiny_training_run_produces_a_loadable_small_model(tmp_path):
    output = tmp_path / "models" / "tiny-model"
    meta = train_model(tiny_data(tmp_path / "data"), output, TrainConfig(steps=3, batch_size=4, teachers=0))
    assert meta["name"] == "tiny-model" and meta["task_sizes"]["sentiment"] == 12
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024
    report = evaluate(tmp_path / "data", output, baselines=False)
    assert [d.metric for d in report.drift] == list(report.rows)  # every metric, int8 against fp32
    assert all(0 <= d.agreement <= 1 and d.low <= d.delta <= d.high for d in report.drift)
    assert set(report.details) == {"emotion F1: anger (1)", "emotion F1: joy (1)", "emotion F1: optimism (1)",
                                   "emotion F1: sadness (1)", "complaint macro-F1: software (4)",
                                   "complaint macro-F1: food (4)"}
    card = write_model_card(output, report).read_text()
    assert "LoRA r=16" in card and "Mean over the metrics" in card and "suggestion F1" in card
    assert "| complaint macro-F1: food (4) |" in card
    scorer = MultiTaskScorer(output, quantize=True)
    probs = scorer.score(["love it", "refund now"]).probabilities
    assert probs["sentiment"].shape == (2, 3) and probs["complaint"].shape == (2, 2)
    assert json.loads((output / "meta.json").read_text())["version"] == MODEL_VERSION


def test_train_command_takes_the_recipe_defaults_from_train_config(tmp_path):
    from typer.testing import CliRunner

    from brandpulse.cli.main import app

    output = tmp_path / "tiny-cli"
    result = CliRunner().invoke(app, ["nlp", "train", "--data", str(tiny_data(tmp_path / "data")),
                                      "--output", str(output), "--steps", "2", "--teachers", "0",
                                      "--no-evaluate"])
    assert result.exit_code == 0, result.output
    config = json.loads((output / "meta.json").read_text())["config"]
    recipe = TrainConfig()
    assert config["steps"] == 2
    assert (config["seed"], config["sampling_exponent"], config["distill_fraction"]) == (
        recipe.seed, recipe.sampling_exponent, recipe.distill_fraction)
    assert config["teachers"] == 0
