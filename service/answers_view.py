"""Showing an answer in a terminal: rich formatting when attached to one, plain text otherwise."""

from __future__ import annotations

from service.schemas import AskOut, PassageOut


def marked(passage: PassageOut, before: str, after: str) -> str:
    """The passage text with its highlights wrapped in the given markers."""
    out, cursor = [], passage.start
    for span in passage.highlights:
        out += [
            passage.text[cursor - passage.start:span.start - passage.start], before,
            passage.text[span.start - passage.start:span.end - passage.start], after,
        ]
        cursor = span.end
    out.append(passage.text[cursor - passage.start:])
    return "".join(out)


def plain_lines(result: AskOut) -> list[str]:
    lines = []
    if result.answer is None:
        lines.append(
            "The documents do not seem to answer this"
            + (f" ({'; '.join(result.abstain_reasons)})." if result.abstain_reasons else "."),
        )
        lines.append("Nearest passages:")
    else:
        lines += [result.answer.text, ""]
    for p in result.passages:
        lines.append(f"[{p.n}] {p.title} · {p.section or '-'} · {p.doc_id}[{p.start}:{p.end}]")
        lines.append("    " + marked(p, "«", "»").replace("\n", " "))
    return lines


def print_answer(result: AskOut, rich: bool) -> None:
    if not rich:
        print("\n".join(plain_lines(result)))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    console = Console()
    if result.answer is None:
        console.print(Panel(
            escape("The documents do not seem to answer this.\n" + "\n".join(result.abstain_reasons)), style="yellow",
        ))
    else:
        console.print(Panel(escape(result.answer.text), title="answer", border_style="green"))
    for p in result.passages:
        console.print(
            f"[bold][{p.n}][/bold] {escape(p.title)} · "
            f"[dim]{escape(p.section or '-')} · {p.doc_id}[{p.start}:{p.end}][/dim]",
        )
        console.print(
            "    "
            + escape(marked(p, "\0", "\1"))
            .replace("\0", "[bold yellow]")
            .replace("\1", "[/bold yellow]")
            .replace("\n", " "),
        )
