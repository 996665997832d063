"""`brandpulse nlp predict`: score a CSV (id, text) or JSONL ({"id", "text"}) into JSONL."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable, Iterator

from brandpulse.core.errors import ImportFormatError
from nlp.analyzer import build_analyzer
from nlp.stage import Doc

BATCH = 256


def read_inputs(path: Path) -> Iterator[tuple[str, str]]:
    """(id, text) pairs in file order; invalid UTF-8 is replaced, never fatal."""
    if not path.is_file():
        raise ImportFormatError(f"input {path} does not exist")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        if path.suffix.lower() in (".jsonl", ".json"):
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        row = json.loads(line)
                        yield str(row["id"]), str(row.get("text") or "")
                    except (json.JSONDecodeError, KeyError, TypeError) as exc:
                        raise ImportFormatError(f"{path} line {number} is not a JSON object with "
                                                f"\"id\" and \"text\" ({exc})") from None
            return
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"id", "text"} <= set(reader.fieldnames):
            raise ImportFormatError(f"{path} needs a header with id and text columns, "
                                    f"found {reader.fieldnames}")
        for row in reader:
            yield str(row["id"]), row.get("text") or ""


def prediction(analyzer, doc: Doc) -> dict:
    """One output object of the prediction contract."""
    result = analyzer.result(doc)
    return {"id": doc.key, "language": result["language"], "sentiment": result["sentiment"],
            "sentiment_scores": result["sentiment_scores"], "emotion": result["emotion"],
            "emotion_scores": result["emotion_scores"], "complaint": result["complaint"],
            "complaint_score": result["complaint_score"], "intents": result["intents"],
            "offensive": result["offensive"], "offensive_score": result["offensive_score"],
            "entities": result["entities"], "model": f"{analyzer.model_name}@{analyzer.model_version}",
            **({"error": doc.error} if doc.error else {})}


def predict_file(settings, source: Path, output: Path,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write one JSON object per input row, in input order; return the row count."""
    analyzer = build_analyzer(settings)
    count = 0
    with output.open("w", encoding="utf-8") as out:
        batch: list[Doc] = []

        def flush() -> None:
            analyzer.analyze(batch)
            for doc in batch:
                out.write(json.dumps(prediction(analyzer, doc), ensure_ascii=False) + "\n")
            if progress:
                progress(len(batch))
            batch.clear()

        for key, text in read_inputs(source):
            batch.append(Doc(key=key, text=text))
            count += 1
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    return count
