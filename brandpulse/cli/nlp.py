"""`brandpulse nlp …`: train, evaluate, predict and benchmark the analysis model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from brandpulse.cli.console import console, friendly
from brandpulse.core.settings import Settings, config_path, load_settings

nlp_app = typer.Typer(help="Train, evaluate, run and benchmark the analysis model.",
                      no_args_is_help=True)


def _settings() -> Settings:
    return load_settings() if config_path().exists() else Settings()


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console)


def _score_table(title: str, scores: dict, targets: bool, systems: list[str]) -> Table:
    from nlp.evaluate import TARGETS, score_cells

    table = Table(title=title)
    for column in ["metric", *systems, *(["target"] if targets else [])]:
        table.add_column(column)
    for metric, values in scores.items():
        table.add_row(metric, *score_cells(values, systems),
                      *([str(TARGETS.get(metric, ""))] if targets else []))
    return table


def _print_report(report) -> None:
    from nlp.evaluate import systems_of
    from nlp.int8_drift import DRIFT_COLUMNS, mean_drift

    systems = systems_of(report.rows)  # the details' columns in the same order
    console.print(_score_table("dev scores", report.rows, True, systems))
    if report.details:
        console.print(_score_table("per emotion class and per left-out complaint domain",
                                   report.details, False, systems))
    if report.drift:
        drift = Table(title="int8 − fp32 on the same dev texts (paired bootstrap)")
        for column in DRIFT_COLUMNS:
            drift.add_column(column)
        for row in report.drift:
            drift.add_row(*row.cells())
        console.print(drift)
        console.print(f"mean int8 − fp32 over the metrics: {mean_drift(report.drift):+.2f} points")


@nlp_app.command()
@friendly
def train(data: Path = typer.Option(..., help="folder laid out like ../shared/data"),
          output: Path = typer.Option(Path("nlp/models/brandpulse-minilm-multitask")),
          steps: Optional[int] = typer.Option(
              None, help="stage-1 optimisation steps (default: the committed recipe's; with its teacher ~2 h on 2 cores)"),
          seed: Optional[int] = typer.Option(None, help="default: the committed recipe's"),
          sampling_exponent: Optional[float] = typer.Option(
              None, help="tasks drawn ∝ size ** exponent (default: the committed recipe's)"),
          teachers: Optional[int] = typer.Option(
              None, help="models trained first with the recipe (seeds from --seed on) and distilled into this one"),
          distill_fraction: Optional[float] = typer.Option(
              None, help="share of the student's steps that distil the teachers (added to --steps)"),
          work_dir: Optional[Path] = typer.Option(
              None, help="where teachers are kept (default: beside --output); a finished one is reused"),
          device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda when present)"),
          max_examples: Optional[int] = typer.Option(None, help="cap per task (smoke runs)"),
          evaluate: bool = typer.Option(True, help="score the dev splits into the model card"),
          complaint_head_only: bool = typer.Option(
              False, help="redo only stage 2 (the complaint head) on the model already at --output")) -> None:
    """Fine-tune the multi-task model with LoRA and write adapter, heads and model card."""
    from nlp.card import write_model_card
    from nlp.evaluate import evaluate as run_evaluation
    from nlp.train import TrainConfig, refit_complaint_head, train_model

    if complaint_head_only:
        meta = refit_complaint_head(data, output)
        console.print(f"complaint head refitted (C {meta['complaint_c']}, "
                      f"product-domain weight {meta['complaint_product_weight']})")
        if evaluate:
            report = run_evaluation(data, output, baselines=False, log=console.print)
            console.print(f"model card: {write_model_card(output, report)}")
        return

    chosen = {"seed": seed, "steps": steps, "sampling_exponent": sampling_exponent, "teachers": teachers,
              "distill_fraction": distill_fraction}
    config = TrainConfig(max_examples_per_task=max_examples,  # TrainConfig holds the recipe's defaults
                         **{name: value for name, value in chosen.items() if value is not None})
    with _progress() as progress:
        task = progress.add_task("train", total=None, info="")

        def advance(step: int, total: int, loss: float | None) -> None:
            info = "teachers labelling the training texts" if loss is None else f"loss {loss:.3f}"
            progress.update(task, completed=step, total=total, info=info)

        meta = train_model(data, output, config, progress=advance, device=device, work_dir=work_dir)
    report = run_evaluation(data, output, baselines=False, log=console.print) if evaluate else None
    card = write_model_card(output, report)
    console.print(f"model {meta['name']}@{meta['version']} written to {output} (card: {card})")


@nlp_app.command("evaluate")
@friendly
def evaluate_command(data: Path = typer.Option(..., help="folder laid out like ../shared/data"),
                     model: Optional[Path] = typer.Option(None, help="default: the committed model"),
                     baselines: bool = typer.Option(True, help="also VADER and frozen encoder + LR"),
                     card: bool = typer.Option(False, help="write the scores into the model card")) -> None:
    """Print every dev metric for the model (fp32 and int8) next to the baselines."""
    from nlp.card import write_model_card
    from nlp.evaluate import evaluate
    from nlp.model import DEFAULT_MODEL

    report = evaluate(data, model or DEFAULT_MODEL, baselines=baselines, log=console.print)
    _print_report(report)
    if card:
        console.print(f"model card updated: {write_model_card(model or DEFAULT_MODEL, report)}")


@nlp_app.command()
@friendly
def predict(input: Path = typer.Argument(..., help="CSV with id,text header or JSONL of {id, text}"),
            output: Path = typer.Option(..., "--output", help="JSONL file to write")) -> None:
    """Score every row (same code path as the pipeline); one JSON object per row, in order."""
    from nlp.predict import predict_file

    with _progress() as progress:
        task = progress.add_task("predict", total=None, info="")
        count = predict_file(_settings(), input, output, progress=lambda n: progress.advance(task, n))
    console.print(f"{count} predictions written to {output}")


@nlp_app.command()
@friendly
def bench(data: Optional[Path] = typer.Option(None, help="real tweets to time (default: demo posts)"),
          count: int = typer.Option(3000), naive_count: int = typer.Option(500),
          repeats: int = typer.Option(5, help="timed runs per system; the median is reported")) -> None:
    """Mentions/s and peak RSS of the full pipeline and of a naive fp32 one-at-a-time baseline."""
    from nlp.bench import run_bench

    result = run_bench(data, count, naive_count, repeats=repeats)
    console.print(f"median of {result['repeats']} timed runs per system, range in brackets")
    console.print(f"texts: {result['texts']} from {result['source']} ({result['unique_texts']} unique)")
    console.print(f"full pipeline: {result['pipeline_per_s']:,.1f} mentions/s {result['pipeline_range']}, "
                  f"peak RSS {result['pipeline_peak_rss_mb']:,} MB")
    console.print("  each stage alone: " + ", ".join(
        f"{name} {rate:,.1f}/s" for name, rate in result["stages_alone_per_s"].items()))
    console.print(f"naive baseline, fp32 model one text at a time ({result['naive_texts']} texts): "
                  f"{result['naive_per_s']:,.1f} mentions/s {result['naive_range']}, peak RSS {result['naive_peak_rss_mb']:,} MB"
                  f" -> speed-up {result['speedup']}x")
    console.print(f"naive baseline with language and entities too: "
                  f"{result['naive_same_outputs_per_s']:,.1f} mentions/s, peak RSS "
                  f"{result['naive_same_outputs_peak_rss_mb']:,} MB -> speed-up "
                  f"{result['speedup_same_outputs']}x")

