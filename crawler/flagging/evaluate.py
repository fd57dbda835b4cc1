"""Measure the flagger against a labelled set: precision, recall and F1, overall and per kind.

A labelled listing is a record for :func:`crawler.flagging.flagger.flag` plus ``kind`` (how it
was written: "plain", "evasive", "lookalike"...) and ``label`` (true when it offers
imported used clothing). Kinds whose listings are all legal get a false-positive rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.decoding import DecodeError, decode_json
from crawler.flagging.flagger import Verdict, flag

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from crawler.flagging.lexicon import Lexicon


@dataclass(frozen=True)
class Counts:
    """A confusion matrix and the figures drawn from it (``None`` when undefined)."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    def add(self, label: bool, flagged: bool) -> Counts:
        if label:
            return Counts(
                self.true_positives + flagged,
                self.false_positives,
                self.false_negatives + (not flagged),
                self.true_negatives,
            )
        return Counts(
            self.true_positives,
            self.false_positives + flagged,
            self.false_negatives,
            self.true_negatives + (not flagged),
        )

    @property
    def total(self) -> int:
        return (
            self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
        )

    @property
    def positives(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def flagged(self) -> int:
        return self.true_positives + self.false_positives

    @property
    def precision(self) -> float | None:
        return _ratio(self.true_positives, self.flagged)

    @property
    def recall(self) -> float | None:
        return _ratio(self.true_positives, self.positives)

    @property
    def f1(self) -> float | None:
        precision, recall = self.precision, self.recall
        if precision is None or recall is None or precision + recall == 0:
            return None
        return 2 * precision * recall / (precision + recall)

    @property
    def false_positive_rate(self) -> float | None:
        return _ratio(self.false_positives, self.false_positives + self.true_negatives)


@dataclass(frozen=True)
class Mistake:
    """A labelled listing the flagger got wrong, with its verdict."""

    record: Mapping[str, Any]
    verdict: Verdict


@dataclass(frozen=True)
class Evaluation:
    overall: Counts
    by_kind: dict[str, Counts]
    mistakes: list[Mistake] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able figures, overall and per kind."""
        return {
            "overall": _figures(self.overall),
            "by_kind": {kind: _figures(counts) for kind, counts in self.by_kind.items()},
        }


def read_labelled(lines: Iterable[str], source: str = "labelled set") -> list[dict[str, Any]]:
    """Parse JSON Lines of labelled listings; a bad line raises ``ValueError`` naming it."""
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = decode_json(line)
        except DecodeError as error:
            raise ValueError(f"{source}, line {number}: not valid JSON: {error}") from error
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("label"), bool)
            or not record.get("kind")
        ):
            raise ValueError(
                f"{source}, line {number}: a labelled listing needs 'kind' and a true/false 'label'"
            )
        records.append(record)
    return records


def evaluate(records: Iterable[Mapping[str, Any]], lexicon: Lexicon) -> Evaluation:
    """Flag every labelled record and count hits and misses, overall and per kind."""
    overall, by_kind, mistakes = Counts(), {}, []
    for record in records:
        verdict = flag(record, lexicon)
        label, kind = record["label"], record["kind"]
        overall = overall.add(label, verdict.flagged)
        by_kind[kind] = by_kind.get(kind, Counts()).add(label, verdict.flagged)
        if verdict.flagged != label:
            mistakes.append(Mistake(record, verdict))
    return Evaluation(overall, by_kind, mistakes)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _figures(counts: Counts) -> dict[str, Any]:
    return {
        "listings": counts.total,
        "flagged": counts.flagged,
        "precision": counts.precision,
        "recall": counts.recall,
        "f1": counts.f1,
        "false_positive_rate": counts.false_positive_rate,
    }
