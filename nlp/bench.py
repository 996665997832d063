"""`brandpulse nlp bench`: mentions/s and peak RSS, full pipeline vs a naive baseline.

Each system runs in its own fresh process so its peak RSS is its own. The full
pipeline is what `analyze` runs (language, the int8 multi-task model under ONNX Runtime
with length-sorted batches, spaCy entities, independent stages at the same time,
duplicate texts scored once). Two naive baselines: the issue's (the same model in fp32
through plain transformers, one text at a time) and one that also produces what the
pipeline produces (language and spaCy entities per text, the same components).
"""

from __future__ import annotations

import csv
import gzip
import json
import multiprocessing
import resource
import statistics
import time
from pathlib import Path
from typing import Callable

DEMO = Path(__file__).resolve().parent.parent / "brandpulse" / "demo" / "mentions.jsonl.gz"


def benchmark_texts(data_dir: Path | None, count: int) -> tuple[list[str], str]:
    """Real tweets (sentiment + emotion dev) when data is given, else the bundled demo posts."""
    texts: list[str] = []
    if data_dir and (data_dir / "sentiment" / "dev.csv").exists():
        for name in ("sentiment/dev.csv", "emotion/dev.csv", "offensive/dev.csv"):
            with (data_dir / name).open(encoding="utf-8", newline="") as handle:
                texts += [row["text"] for row in csv.DictReader(handle)]
        source = f"{data_dir} dev tweets"
    else:
        with gzip.open(DEMO, "rt", encoding="utf-8") as handle:
            texts = [json.loads(line)["text"] for line in handle]
        source = "bundled synthetic demo posts"
    while len(texts) < count:
        texts += texts
    return texts[:count], source


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rates(count: int, repeats: int, work: Callable[[], None]) -> list[float]:
    """Texts per second of ``repeats`` timed runs of ``work`` over ``count`` texts (warm-up not timed)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        rates.append(count / (time.perf_counter() - started))
    return rates


def _pipeline(texts: list[str], model_path: str | None, repeats: int, queue) -> None:
    from brandpulse.core.settings import Settings
    from nlp.analyzer import build_analyzer
    from nlp.stage import Doc

    settings = Settings.model_validate({"nlp": {"model_path": model_path}} if model_path else {})
    analyzer = build_analyzer(settings)
    analyzer.analyze([Doc(key=0, text="warm up the model")])

    def analyze_all() -> None:
        for start in range(0, len(texts), 256):
            analyzer.analyze([Doc(key=i, text=t) for i, t in enumerate(texts[start:start + 256])])

    rates = _rates(len(texts), repeats, analyze_all)
    stages = {}  # each stage alone over the same texts, in 256-text batches
    docs = [Doc(key=i, text=t) for i, t in enumerate(texts)]
    for stage in analyzer.stages:
        def process_all(stage=stage) -> None:
            for start in range(0, len(docs), 256):
                stage.process(docs[start:start + 256])

        stages[stage.name] = round(_rates(len(docs), 1, process_all)[0], 1)
    queue.put((rates, _peak_rss_mb(), stages))


def _naive(texts: list[str], model_path: str | None, repeats: int, queue, same_outputs: bool = False) -> None:
    import torch
    from transformers import AutoTokenizer

    from nlp.model import DEFAULT_MODEL
    from nlp.multitask import base_model_dir, load_artifacts

    model = load_artifacts(Path(model_path or DEFAULT_MODEL))
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    extras = _naive_extras() if same_outputs else []

    def one_at_a_time(chunk: list[str]) -> None:
        with torch.inference_mode():
            for text in chunk:
                batch = tokenizer(text, truncation=True, max_length=128, return_tensors="pt")
                model(batch["input_ids"], batch["attention_mask"])
                for extra in extras:
                    extra(text)

    one_at_a_time(texts[:8])  # warm-up
    queue.put((_rates(len(texts), repeats, lambda: one_at_a_time(texts)), _peak_rss_mb(), {}))


def _naive_full(texts: list[str], model_path: str | None, repeats: int, queue) -> None:
    _naive(texts, model_path, repeats, queue, same_outputs=True)


def _naive_extras() -> list:
    """Language and entities one text at a time, with the pipeline's own components."""
    from brandpulse.core.settings import Settings
    from nlp.entities import DEFAULT_ASPECTS, EntityStage, ruler_patterns
    from nlp.language import detect_language
    from nlp.stage import Doc

    stage = EntityStage(ruler_patterns(Settings().brands, DEFAULT_ASPECTS))
    return [detect_language, lambda text: stage.process([Doc(key=0, text=text)])]


def _run(target, texts: list[str], model_path: str | None, repeats: int) -> tuple[list[float], float, dict]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(texts, model_path, repeats, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def run_bench(data_dir: Path | None = None, count: int = 3000, naive_count: int = 500,
              model_path: str | None = None, repeats: int = 5) -> dict:
    """Both systems' mentions/s (median of ``repeats`` runs, with the range) and peak RSS, and the speed-up."""
    texts, source = benchmark_texts(data_dir, count)
    pipeline, pipeline_rss, stages = _run(_pipeline, texts, model_path, repeats)
    naive, naive_rss, _ = _run(_naive, texts[:naive_count], model_path, repeats)
    full, full_rss, _ = _run(_naive_full, texts[:naive_count], model_path, repeats)
    pipeline_rate, naive_rate, full_rate = map(statistics.median, (pipeline, naive, full))

    def spread(rates: list[float]) -> list[float]:
        return [round(min(rates), 1), round(max(rates), 1)]

    return {"source": source, "texts": len(texts), "unique_texts": len(set(texts)), "repeats": repeats,
            "pipeline_per_s": round(pipeline_rate, 1), "pipeline_range": spread(pipeline),
            "pipeline_peak_rss_mb": round(pipeline_rss),
            "stages_alone_per_s": stages, "naive_texts": min(naive_count, len(texts)),
            "naive_per_s": round(naive_rate, 1), "naive_range": spread(naive),
            "naive_peak_rss_mb": round(naive_rss),
            "speedup": round(pipeline_rate / naive_rate, 2),
            "naive_same_outputs_per_s": round(full_rate, 1),
            "naive_same_outputs_peak_rss_mb": round(full_rss),
            "speedup_same_outputs": round(pipeline_rate / full_rate, 2)}
