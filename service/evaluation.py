"""Retrieval evaluation against question sets with verbatim gold spans.

A returned passage is relevant to a gold span when it comes from the span's document,
is at most 800 characters long, and covers at least half of the span's characters.
Each gold span is one relevance item: a passage counts for the first span it covers
that no earlier passage has covered, so nDCG rewards finding every span of a
multi-part answer. Metrics are computed by ranx.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.normalize import RADICAL_FORMS, to_simplified

MAX_PASSAGE_CHARS = 800
MIN_COVERAGE = 0.5
CUTOFFS = (1, 3, 5, 10)
METRICS = [f"hit_rate@{k}" for k in CUTOFFS] + ["mrr@10", "ndcg@10"]
ANSWER_FIGURES = ["answer_hit", "abstained", "false_abstain"]
GROUPS = {"non-english": lambda t: t != "english"}


class QuestionSetError(ValueError):
    """A question set that cannot be evaluated; names the offending question ids."""


@dataclass(frozen=True)
class Gold:
    doc: str
    span: str
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    golds: tuple[Gold, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.golds)


@dataclass(frozen=True)
class Returned:
    """What a retriever returned at one rank: enough to judge it."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Outcome:
    """What one question produced: ranked passages and the answer's sentences (None: abstained)."""

    passages: list[Returned]
    answer: list[Returned] | None = None
    answered: bool | None = None


@dataclass
class QuestionResult:
    question: Question
    judged: list[str | None]
    latency_ms: float
    answer_hit: bool | None = None
    abstained: bool | None = None


def outcome_of(body: dict) -> Outcome:
    """The Outcome of one answer in the API's JSON form (`POST /v1/ask`, or `ask_out(...).model_dump()`). A
    sentence quoted only for what another refers back to is context, not an answer: it does not count."""
    answer = body["answer"]
    return Outcome(
        [Returned(p["doc_id"], p["start"], p["end"]) for p in body["passages"]],
        None if answer is None else [
            Returned(s["doc_id"], s["start"], s["end"]) for s in answer["sentences"] if not s.get("context")
        ],
        answer is not None,
    )


def answer_hit(answer: Sequence[Returned], golds: Sequence[Gold]) -> bool:
    """Whether any answer sentence overlaps any gold span."""
    return any(
        s.doc_id == g.doc and min(end, s.end) > max(start, s.start)
        for s in answer for g in golds for start, end in g.ranges
    )


def occurrences(text: str, span: str) -> tuple[tuple[int, int], ...]:
    """Where a gold span stands in a document: verbatim, else ignoring whitespace and Unicode
    compatibility forms (a PDF's text wraps lines and folds ⼈ to 人; the question file quotes the source)."""
    found, at = [], text.find(span)
    while at >= 0:
        found.append((at, at + len(span)))
        at = text.find(span, at + 1)
    return tuple(found) or folded_occurrences(text, span)


WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=32)  # each document is folded once for all of its questions' spans
def fold_for_matching(text: str) -> tuple[str, list[int]]:
    """The text folded per character (NFKC, radical forms, Traditional to Simplified) with whitespace
    removed, and each folded character's source offset."""
    chars, offsets = [], []
    for at, ch in enumerate(text):
        for folded in to_simplified(unicodedata.normalize("NFKC", ch).translate(RADICAL_FORMS)):
            if not folded.isspace():
                chars.append(folded)
                offsets.append(at)
    return "".join(chars), offsets


def folded_occurrences(text: str, span: str) -> tuple[tuple[int, int], ...]:
    folded, offsets = fold_for_matching(text)
    needle = fold_for_matching(span)[0]
    if not needle:
        return ()
    found, at = [], folded.find(needle)
    while at >= 0:
        found.append((offsets[at], offsets[at + len(needle) - 1] + 1))
        at = folded.find(needle, at + 1)
    return tuple(found)


def doc_key(name: str) -> str:
    """Question files name documents by file name; the index by stem."""
    return name.rsplit(".", 1)[0] if name.endswith((".txt", ".md")) else name


def load_questions(path: Path, texts: dict[str, str], names: dict[str, str] | None = None) -> list[Question]:
    """Read a question file; every gold span must be found in its document. `names` maps the file
    names the questions use to doc_ids (an uploaded document's id is its content hash)."""
    names = names or {}
    questions, errors = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            golds = []
            for answer in row.get("answers", []):
                doc = names.get(answer["doc"]) or doc_key(answer["doc"])
                ranges = occurrences(texts.get(doc, ""), answer["span"]) if answer["span"] else ()
                if not ranges:
                    errors.append(f"{row['id']}: span not found verbatim in {answer['doc']}: {answer['span'][:40]!r}")
                golds.append(Gold(doc, answer["span"], ranges))
            questions.append(Question(str(row["id"]), row["question"], row.get("type", "unknown"), tuple(golds)))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            errors.append(f"line {number}: {type(exc).__name__}: {exc}")
    ids = [q.id for q in questions]
    errors += [f"{i}: duplicate id" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if errors:
        raise QuestionSetError(f"{path}: {len(errors)} problem(s):\n  " + "\n  ".join(errors))
    return questions


def coverage(passage: Returned, gold: Gold) -> float:
    """The largest fraction of the gold span's characters that the passage covers."""
    if passage.doc_id != gold.doc or not gold.ranges:
        return 0.0
    return max(max(min(end, passage.end) - max(start, passage.start), 0) / (end - start) for start, end in gold.ranges)


def relevant(passage: Returned, gold: Gold) -> bool:
    return passage.end - passage.start <= MAX_PASSAGE_CHARS and coverage(passage, gold) >= MIN_COVERAGE


def judge(passages: Sequence[Returned], golds: Sequence[Gold]) -> list[str | None]:
    """For each rank, the id of the gold span it newly covers (None when it covers none)."""
    covered: set[int] = set()
    judged: list[str | None] = []
    for passage in passages:
        hit = next((i for i, g in enumerate(golds) if i not in covered and relevant(passage, g)), None)
        if hit is not None:
            covered.add(hit)
        judged.append(None if hit is None else f"g{hit}")
    return judged


def ranx_scores(results: list[QuestionResult]) -> dict[str, float]:
    """Mean metrics over answerable questions, computed by ranx."""
    import warnings

    from ranx import Qrels, Run, evaluate

    warnings.filterwarnings("ignore", message="unsafe cast", module="ranx")

    answerable = [r for r in results if r.question.answerable]
    if not answerable:
        return {m: float("nan") for m in METRICS}
    qrels = {r.question.id: {f"g{i}": 1 for i in range(len(r.question.golds))} for r in answerable}
    run = {
        r.question.id: (
            {(label or f"miss{rank}"): float(len(r.judged) - rank) for rank, label in enumerate(r.judged)}
            or {"none": 0.0}
        )
        for r in answerable
    }
    scores = evaluate(Qrels(qrels), Run(run), METRICS, make_comparable=True)
    return {m: float(scores[m]) for m in METRICS}


def summarize(results: list[QuestionResult]) -> dict:
    """Overall and per-type figures."""
    def block(rows: list[QuestionResult]) -> dict:
        latencies = [r.latency_ms for r in rows]
        figures = {"questions": len(rows), "answerable": sum(r.question.answerable for r in rows)}
        figures.update(ranx_scores(rows))
        figures.update(answer_figures(rows))
        figures["p50_ms"] = statistics.median(latencies) if latencies else float("nan")
        figures["p95_ms"] = (
            sorted(latencies)[max(0, int(round(0.95 * len(latencies))) - 1)] if latencies else float("nan")
        )
        return figures

    types = sorted({r.question.type for r in results})
    return {
        "overall": block(results),
        "groups": {name: block([r for r in results if keep(r.question.type)]) for name, keep in GROUPS.items()},
        "by_type": {t: block([r for r in results if r.question.type == t]) for t in types},
        "questions": [question_row(r) for r in results],
    }


def question_row(result: QuestionResult) -> dict:
    """One question's outcome: the rank of its first relevant passage (None: not in the top 10) and its answer."""
    first = next((rank for rank, label in enumerate(result.judged, start=1) if label), None)
    return {
        "id": result.question.id, "type": result.question.type,
        "first_relevant": first if result.question.answerable else None,
        "answer_hit": result.answer_hit, "abstained": result.abstained, "latency_ms": round(result.latency_ms, 2),
    }


def answer_figures(rows: list[QuestionResult]) -> dict[str, float]:
    """Answer-sentence hit and false abstention over answerable questions, abstention over the rest."""
    nan = float("nan")
    judged = [r for r in rows if r.abstained is not None]
    answerable = [r for r in judged if r.question.answerable]
    unanswerable = [r for r in judged if not r.question.answerable]
    return {
        "answer_hit": sum(bool(r.answer_hit) for r in answerable) / len(answerable) if answerable else nan,
        "false_abstain": sum(r.abstained for r in answerable) / len(answerable) if answerable else nan,
        "abstained": sum(r.abstained for r in unanswerable) / len(unanswerable) if unanswerable else nan,
    }


def run_questions(questions: list[Question], ask: Callable[[str], Outcome]) -> list[QuestionResult]:
    """Ask every question, timing each call."""
    results = []
    for question in questions:
        started = time.perf_counter()
        outcome = ask(question.question)
        latency = (time.perf_counter() - started) * 1000
        abstained = None if outcome.answered is None else not outcome.answered
        hit = None if outcome.answer is None else answer_hit(outcome.answer, question.golds)
        results.append(QuestionResult(question, judge(outcome.passages[:10], question.golds), latency, hit, abstained))
    return results


WIDTH = 14


def short(column: str) -> str:
    return column.replace("hit_rate", "hit")


def format_table(summary: dict) -> str:
    columns = ["questions"] + METRICS + ANSWER_FIGURES + ["p50_ms", "p95_ms"]
    header = f"{'':14s}" + "".join(f"{short(c):>{WIDTH}s}" for c in columns)
    lines = [header]
    rows = (
        [("overall", summary["overall"])] + sorted(summary.get("groups", {}).items())
        + sorted(summary["by_type"].items())
    )
    for name, figures in rows:
        cells = []
        for c in columns:
            value = figures.get(c)
            cells.append(
                f"{value:>{WIDTH}d}" if isinstance(value, int)
                else f"{value:>{WIDTH}.3f}" if value == value else f"{'-':>{WIDTH}s}",
            )
        lines.append(f"{name:14s}" + "".join(cells))
    return "\n".join(lines)


def compare(before: dict, after: dict) -> str:
    """after − before for every figure, overall and per type."""
    columns = METRICS + ANSWER_FIGURES + ["p50_ms"]
    lines = [f"{'':14s}" + "".join(f"{short(c):>{WIDTH}s}" for c in columns)]

    def figures(summary: dict, name: str) -> dict:
        if name == "overall":
            return summary["overall"]
        return summary.get("groups", {}).get(name) or summary["by_type"].get(name, {})

    names = ["overall", *GROUPS] + sorted(set(before["by_type"]) | set(after["by_type"]))
    for name in names:
        a, b = figures(before, name), figures(after, name)
        cells = [f"{b[c] - a[c]:>+{WIDTH}.3f}" if c in a and c in b else f"{'-':>{WIDTH}s}" for c in columns]
        lines.append(f"{name:14s}" + "".join(cells))
    return "\n".join(lines + changed_questions(before, after))


def changed_questions(before: dict, after: dict) -> list[str]:
    """A line per question whose first relevant rank, answer hit or abstention differs between two runs."""
    earlier = {row["id"]: row for row in before.get("questions", [])}
    keys = ("first_relevant", "answer_hit", "abstained")
    lines = []
    for row in after.get("questions", []):
        old = earlier.get(row["id"])
        if old and any(old[k] != row[k] for k in keys):
            change = ", ".join(f"{k} {old[k]} → {row[k]}" for k in keys if old[k] != row[k])
            lines.append(f"  {row['id']} ({row['type']}): {change}")
    return (["changed questions:"] + lines) if lines else []


def mean_figures(blocks: list[dict]) -> dict:
    """The mean of each figure over blocks that have it (NaN where none does)."""
    keys = [k for k in blocks[0] if isinstance(blocks[0][k], (int, float))] if blocks else []
    out: dict = {}
    for key in keys:
        values = [b[key] for b in blocks if key in b and b[key] == b[key]]
        out[key] = float(statistics.fmean(values)) if values else float("nan")
    return out


def macro(summaries: dict[str, dict]) -> dict:
    """Each figure averaged over the sets, every set counting once whatever its size: the overall
    figures, the groups and the question types."""
    blocks = list(summaries.values())
    groups = sorted({g for s in blocks for g in s.get("groups", {})})
    types = sorted({t for s in blocks for t in s["by_type"]})
    return {
        "overall": mean_figures([s["overall"] for s in blocks]),
        "groups": {g: mean_figures([s["groups"][g] for s in blocks if g in s.get("groups", {})]) for g in groups},
        "by_type": {t: mean_figures([s["by_type"][t] for s in blocks if t in s["by_type"]]) for t in types},
    }


def compare_sets(before: dict, after: dict) -> str:
    """`compare` for each set two multi-set runs share, then for their macro averages."""
    if "sets" not in before or "sets" not in after:
        return compare(before, after)
    parts = []
    for name in [n for n in after["sets"] if n in before["sets"]]:
        parts += [f"== {name}", compare(before["sets"][name], after["sets"][name])]
    if "macro" in before and "macro" in after:
        parts += ["== macro average", compare(before["macro"], after["macro"])]
    return "\n".join(parts)
