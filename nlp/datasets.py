"""Load the labelled training and dev data (../shared/data layout) into per-task example lists.

Each task gets (text, label index) pairs. Sources, by task:

* sentiment: SemEval 2013-16 train + airline tweets + FINCORP sentiment; dev = TweetEval dev
* emotion: TweetEval emotion (anger / joy / optimism / sadness)
* offensive: TweetEval offensive (OffensEval 2019)
* suggestion: SemEval-2019 Task 9A
* complaint: Preoţiuc-Pietro et al. 2019 (with its domain column) + airline negative reasons
  + FINCORP complaint labels and severity
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

LABELS = {
    "sentiment": ["negative", "neutral", "positive"],
    "emotion": ["anger", "joy", "optimism", "sadness"],
    "offensive": ["not_offensive", "offensive"],
    "suggestion": ["not_suggestion", "suggestion"],
    "complaint": ["not_complaint", "complaint"],
    "severity": ["none", "no_explicit_reproach", "disapproval", "accusation", "blame"],
}
_USER = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


def normalize(text: str) -> str:
    """The text as the model sees it: entities decoded, handles → @user, links → http."""
    text = html.unescape(text or "")
    text = _URL.sub("http", _USER.sub("@user", text))
    return " ".join(text.split())


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # e.g. the complaint domain

    def add(self, text: str, label: int, group: str = "") -> None:
        text = normalize(text)
        if text:
            self.texts.append(text)
            self.labels.append(label)
            self.groups.append(group)

    def __len__(self) -> int:
        return len(self.texts)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _simple(path: Path, task: str) -> Split:
    split = Split()
    names = LABELS[task]
    for row in _rows(path):
        if row["label"] in names:
            split.add(row["text"], names.index(row["label"]))
    return split


def load_training_data(root: Path | str) -> tuple[dict[str, Split], dict[str, Split]]:
    """(train, dev) splits per task from a ../shared/data-style folder."""
    root = Path(root)
    train = {task: Split() for task in LABELS}
    dev = {task: Split() for task in LABELS}
    train["sentiment"] = _simple(root / "sentiment/train.csv", "sentiment")
    dev["sentiment"] = _simple(root / "sentiment/dev.csv", "sentiment")
    for task, folder in [("emotion", "emotion"), ("offensive", "offensive"), ("suggestion", "suggestions")]:
        train[task] = _simple(root / folder / "train.csv", task)
        dev[task] = _simple(root / folder / "dev.csv", task)
    for row in _rows(root / "complaints/train.csv"):
        train["complaint"].add(row["text"], LABELS["complaint"].index(row["label"]), row["domain"])
    airline = root / "airline/tweets.csv"
    if airline.exists():
        for row in _rows(airline):
            train["sentiment"].add(row["text"], LABELS["sentiment"].index(row["airline_sentiment"]), "airline")
            reason = row.get("negativereason") or ""
            if row["airline_sentiment"] == "negative" and reason and reason != "Can't Tell":
                train["complaint"].add(row["text"], 1, "airline")
            elif row["airline_sentiment"] == "positive":
                train["complaint"].add(row["text"], 0, "airline")
    fincorp = root / "fincorp/fincorp.csv"
    if fincorp.exists():
        severity = {"Non-Complaint": 0, "No explicit reproach": 1, "Disapproval": 2, "Accusation": 3,
                    "Blame": 4}
        for row in _rows(fincorp):
            text = row["Complaint/ Opinion"]
            if row["Sentiment"] in LABELS["sentiment"]:
                train["sentiment"].add(text, LABELS["sentiment"].index(row["Sentiment"]), "fincorp")
            if row["Severity level"] in severity:
                train["severity"].add(text, severity[row["Severity level"]], "fincorp")
            train["complaint"].add(text, int(row["Complaint Label"]), "fincorp")
    return train, dev


COMPLAINT_DOMAINS = ("apparel", "electronics", "food", "retail", "software")
