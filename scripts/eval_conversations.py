"""Follow-up questions measured: each conversation of tests/data/conversations.jsonl (two or three user turns over
the bundled corpus, ../shared/corpus2 and tests/data/corpus3) is answered twice, its last message asked alone and
read with the earlier turns (service/followups.py); answer hit is judged on the gold spans of the question set
the conversation names (`gold_of`). Follow-ups should gain; standalone questions after an unrelated turn must
not lose. The set's own question written out in full is asked too: what a perfect reading of the conversation
could reach.

    .venv/bin/python scripts/eval_conversations.py [--json conversations.json]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from service.asking import Asker, AskResult
from service.conversation import ask_in_conversation
from service.followups import resolve_with
from service.eval_corpora import open_sets
from service.evaluation import answer_hit, load_questions, outcome_of
from service.schemas import ask_out
from service.settings import PROJECT_ROOT, Settings

CONVERSATIONS = PROJECT_ROOT / "tests" / "data" / "conversations.jsonl"


def hit(result: AskResult, golds: tuple) -> bool:
    """Whether an answer quotes a gold span."""
    outcome = outcome_of(ask_out(result).model_dump())
    return outcome.answer is not None and answer_hit(outcome.answer, golds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS)
    parser.add_argument("--json", type=Path, help="write every conversation's outcome here")
    parser.add_argument("--carry-terms", action="store_true",
                        help="answer a reference back with the previous subject's keywords added to its words, "
                             "not within its documents")
    args = parser.parse_args()
    conversations = [
        json.loads(line) for line in args.conversations.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    settings = Settings()
    sets = sorted({c["set"] for c in conversations})
    rows = []
    for opened, name in zip(
        open_sets([PROJECT_ROOT / s for s in sets], settings, settings.index_dir.parent / "eval"), sets
    ):
        asker = Asker(opened.retriever, settings.model_copy(update={"cache_size": 0}))
        questions = {
            q.id: q for q in load_questions(opened.questions, opened.retriever.backend.texts, opened.doc_names)
        }
        golds = {i: q.golds for i, q in questions.items()}
        for c in (c for c in conversations if c["set"] == name):
            *history, last = c["turns"]
            if args.carry_terms:
                resolved = resolve_with(opened.retriever.backend, last, history)
                answered = asker.ask(resolved.question)
            else:
                answered, resolved = ask_in_conversation(asker, last, history)
            rows.append({
                "id": c["id"], "kind": c["kind"], "set": name, "turns": c["turns"], "searched": resolved.question,
                "carried": list(resolved.carried), "documents": list(resolved.documents),
                "alone": hit(asker.ask(last), golds[c["gold_of"]]), "with_history": hit(answered, golds[c["gold_of"]]),
                "written_out": hit(asker.ask(questions[c["gold_of"]].question), golds[c["gold_of"]]),
            })
    table: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        table[(row["kind"], row["set"])].append(row)
        table[(row["kind"], "all")].append(row)
    print("| kind | set | conversations | answer hit, last message alone | with the conversation | gain "
          "| the question written out (ceiling) |")
    print("|---|---|---|---|---|---|---|")
    for (kind, name), group in sorted(table.items()):
        alone = sum(r["alone"] for r in group) / len(group)
        with_history = sum(r["with_history"] for r in group) / len(group)
        written = sum(r["written_out"] for r in group) / len(group)
        print(f"| {kind} | {name} | {len(group)} | {alone:.3f} | {with_history:.3f} | {with_history - alone:+.3f} "
              f"| {written:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
