"""The govqa command line: build the index, search it, serve it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Optional, TypeVar

import typer

from service.settings import Mode, Settings

T = TypeVar("T")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="govqa: cited answers from documents on AI governance."
)


def settings_with(**overrides) -> Settings:  # noqa: ANN003 - CLI options, None when not given
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def build(
    corpus: Annotated[Optional[Path], typer.Option(help="corpus directory (default: GOVQA_CORPUS)")] = None,
    index_dir: Annotated[Optional[Path], typer.Option(help="index root (default: GOVQA_INDEX_DIR)")] = None,
    model: Annotated[Optional[str], typer.Option(help="sentence-transformers model (default: GOVQA_MODEL)")] = None,
    force: Annotated[bool, typer.Option(help="rebuild even when the corpus, model and settings are unchanged")] = False,
    backend: Annotated[Optional[str], typer.Option(
        help=(
            "faiss or milvus (default: GOVQA_BACKEND); milvus also loads the version into GOVQA_MILVUS_URI "
            "before publishing it"
        ),
    )] = None,
) -> None:
    """Build a new index version from the corpus and publish it atomically (waits for a rebuild already running)."""
    if backend is not None and backend not in ("faiss", "milvus"):
        raise typer.BadParameter("backend must be faiss or milvus", param_hint="--backend")
    settings = settings_with(corpus=corpus, index_dir=index_dir, model=model, backend=backend)
    result = corpus_or_exit(lambda: updater(settings).rebuild(force=force, progress=sys.stderr.isatty()))
    if result.skipped:
        typer.echo(f"index {result.version} is up to date ({result.path})")
    else:
        typer.echo(built_line(result))
    if settings.backend == "milvus":  # an up-to-date version built without Milvus is loaded now
        from index.milvus_backend import load_current

        typer.echo(load_current(settings.index_dir, settings.milvus_uri, settings.index_type))


def built_line(result) -> str:  # noqa: ANN001 - a BuildResult
    return (
        f"built index {result.version}: {result.documents} documents, {result.chunks} chunks, "
        f"{result.sentences} sentences ({result.embedded} embedded, {result.reused} reused) in {result.seconds:.1f} s"
    )


def updater(settings: Settings):  # noqa: ANN201 - a CorpusUpdater (imported lazily)
    from service.runtime import corpus_updater, make_embedder

    return corpus_updater(settings, make_embedder(settings), before_publish=milvus_hook(settings))


def milvus_hook(settings: Settings):  # noqa: ANN201 - a build hook, or None
    """With GOVQA_BACKEND=milvus, every new version (build, add, remove) is loaded into Milvus before it
    is published."""
    if settings.backend != "milvus":
        return None
    from index.milvus_backend import milvus_loader, require_pymilvus

    try:
        require_pymilvus()
    except ImportError as exc:
        typer.echo(f"govqa: {exc}", err=True)
        raise typer.Exit(1) from exc
    return milvus_loader(settings.milvus_uri, settings.index_type)


def corpus_or_exit(change: Callable[[], T]) -> T:
    """Run a corpus change, or print why it was refused and exit with status 1."""
    from index.documents import CorpusError
    from index.ingest import IngestError
    from index.updates import UpdateError

    try:
        return change()
    except (CorpusError, IngestError, UpdateError, OSError) as exc:
        typer.echo(f"govqa: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def add(
    files: Annotated[list[Path], typer.Argument(
        help=".txt, .md, .html, .pdf or .docx files", exists=True, dir_okay=False, readable=True,
    )],
    title: Annotated[Optional[str], typer.Option(help="title (default: the file's own, else its first line)")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", help="an author (repeatable)")] = None,
    date: Annotated[Optional[str], typer.Option(help="publication date, e.g. 2024-05-22")] = None,
    publisher: Annotated[Optional[str], typer.Option(help="publisher")] = None,
    url: Annotated[Optional[str], typer.Option(help="where the document is published")] = None,
) -> None:
    """Add documents to the corpus and publish an index version with them; a running server picks it up."""
    from index.updates import Upload

    overrides = {
        k: v for k, v in dict(title=title, authors=author, date=date, publisher=publisher, url=url).items() if v
    }
    uploads = [Upload(f.read_bytes(), f.name) for f in files]
    result = corpus_or_exit(lambda: updater(Settings()).add(uploads, overrides))
    for meta in result.added:
        typer.echo(f"added {meta.doc_id}: {meta.title}")
    typer.echo(built_line(result.build))


@app.command()
def remove(doc_ids: Annotated[list[str], typer.Argument(help="ids of documents to remove (see `govqa list`)")]) -> None:
    """Remove documents from the corpus and publish an index version without them."""
    result = corpus_or_exit(lambda: updater(Settings()).remove(doc_ids))
    typer.echo(f"removed {', '.join(result.removed)}")
    typer.echo(built_line(result.build))


@app.command("list")
def list_documents(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the corpus's documents, marking those the current index does not serve yet."""
    from index import store
    from index.documents import load_corpus

    settings = Settings()
    documents = corpus_or_exit(lambda: load_corpus(settings.corpus))
    try:
        served = set(store.read_manifest(store.current_dir(settings.index_dir)).get("corpus", {}))
    except store.IndexUnavailable:
        served = set()
    rows = [{**d.meta.to_dict(), "chars": len(d.text), "indexed": d.doc_id in served} for d in documents]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        mark = "" if row["indexed"] else "  (not indexed yet: run `govqa build`)"
        typer.echo(f"{row['doc_id']}  {row['date'] or '-':10s}  {row['chars']:>7d} chars  {row['title']}{mark}")


URL_HELP = (
    "ask the govqa server at this base URL (default: GOVQA_URL, else the configured host and port when a server "
    "answers there)"
)
LOCAL_HELP = "load the index in this process even when a server is running"


def question_or_exit(question: str) -> str:
    """The question, or exit 2 at once when it is empty (as the API answers 422)."""
    if not question.strip():
        raise typer.BadParameter("the question is empty", param_hint="QUESTION")
    return question


def answered(
    question: str, mode: str | None, url: str | None, local: bool, *,
    remote: Callable[[str, Settings], T], in_process: Callable[[Settings], T],
) -> T:
    """A question checked, then asked of a running server when one is chosen, else of the index in this process."""
    from service.server_client import server_url

    question_or_exit(question)
    check_mode(mode)
    settings = Settings()
    server = None if local else server_url(url, settings)
    if server:
        return server_call(lambda: remote(server, settings))
    quiet_model_loading()
    return in_process(settings)


def server_call(call: Callable[[], T]) -> T:
    """A request to the server, or its error on stderr with exit 2 (request refused) or 1 (unreachable, failed)."""
    from service.server_client import ServerError

    try:
        return call()
    except ServerError as exc:
        typer.echo(f"govqa: {exc}", err=True)
        raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from exc


def quiet_model_loading() -> None:
    """No progress bars from the model libraries on a terminal command's stderr (set by the command, for
    its process)."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


@app.command()
def search(
    question: str,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=50)] = 5,
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or keyword")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    url: Annotated[Optional[str], typer.Option(help=URL_HELP)] = None,
    local: Annotated[bool, typer.Option("--local", help=LOCAL_HELP)] = False,
) -> None:
    """Print the passages that best match a question."""
    from service.schemas import passage_out

    from service import server_client

    def in_process(settings: Settings) -> list:
        from service.pipeline import search as search_index
        from service.runtime import open_retriever

        return [passage_out(p) for p in search_index(index_or_exit(open_retriever, settings), question, k, mode)]

    passages = answered(
        question, mode, url, local, in_process=in_process,
        remote=lambda server, settings: server_client.search(server, settings, question, k, mode).passages,
    )
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return
    for p in passages:
        typer.echo(f"[{p.n}] {p.score:.4f}  {p.doc_id}  {p.section or '-'}  [{p.start}:{p.end}]")
        typer.echo("    " + p.text.replace("\n", " ")[:300])


@app.command()
def ask(
    question: str,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=20)] = 5,
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or keyword")] = None,
    doc_id: Annotated[
        Optional[list[str]], typer.Option("--doc-id", help="restrict to this document (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON")] = False,
    url: Annotated[Optional[str], typer.Option(help=URL_HELP)] = None,
    local: Annotated[bool, typer.Option("--local", help=LOCAL_HELP)] = False,
) -> None:
    """Answer a question with cited sentences, and show the passages with their evidence."""
    from service.answers_view import print_answer

    from service import server_client

    def in_process(settings: Settings):  # noqa: ANN202 - service.schemas.AskOut, imported late
        from service.runtime import open_asker
        from service.schemas import ask_out

        doc_ids = frozenset(doc_id) if doc_id else None
        return ask_out(index_or_exit(open_asker, settings).ask(question, k=k, mode=mode, doc_ids=doc_ids))

    out = answered(
        question, mode, url, local, in_process=in_process,
        remote=lambda server, settings: server_client.ask(server, settings, question, k, mode, doc_id),
    )
    if as_json:
        typer.echo(out.model_dump_json(indent=2))
        return
    print_answer(out, rich=sys.stdout.isatty())


def index_or_exit(opener: Callable[[Settings], T], settings: Settings) -> T:
    """Open the index, or say why it cannot be opened and exit with status 1."""
    from index.store import IndexUnavailable

    try:
        return opener(settings)
    except IndexUnavailable as exc:
        typer.echo(f"govqa: {exc}", err=True)
        raise typer.Exit(1) from exc


def check_mode(mode: str | None) -> None:
    if mode is not None and mode not in Mode.__args__:
        raise typer.BadParameter(f"mode must be one of {', '.join(Mode.__args__)}", param_hint="--mode")


@app.command("eval")
def evaluate(
    sets: Annotated[Optional[list[Path]], typer.Argument(
        help=(
            "question files (asked of the configured index) and corpus directories "
            "(documents in any readable format, with questions.jsonl)"
        ),
    )] = None,
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or keyword")] = None,
    url: Annotated[Optional[str], typer.Option(
        help="evaluate a running server at this base URL instead (question files only)",
    )] = None,
    scratch: Annotated[Path, typer.Option(
        help="where corpus directories are indexed (reused while their files are unchanged)",
    )] = Path("indexes/eval"),
    json_out: Annotated[Optional[Path], typer.Option("--json", help="write the figures to this file")] = None,
    compare: Annotated[
        Optional[tuple[Path, Path]], typer.Option(help="print B − A for two --json files instead"),
    ] = None,
) -> None:
    """Run question sets through govqa and print, per set and as a macro average, hit@k, MRR, nDCG,
    answer-sentence hit, abstention and latency."""
    from service import evaluation

    if compare:
        compare_runs(*compare)
        return
    if not sets:
        raise typer.BadParameter(
            "give question files or corpus directories (or --compare A.json B.json)", param_hint="SETS"
        )
    check_mode(mode)
    if url and any(path.is_dir() for path in sets):
        raise typer.BadParameter(
            "--url evaluates question files only: the server's corpus is its own", param_hint="--url"
        )
    summaries = {}
    for name, questions, texts, names, ask in eval_askers(sets, mode, url, scratch):
        try:
            items = evaluation.load_questions(questions, texts, names)
        except evaluation.QuestionSetError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        summary = evaluation.summarize(evaluation.run_questions(items, ask))
        summary.update(mode=mode or "hybrid", questions_file=str(questions))
        name = name if name not in summaries else f"{name} ({len(summaries) + 1})"
        summaries[name] = summary
        typer.echo(f"{name} ({questions}) · mode {summary['mode']}")
        typer.echo(evaluation.format_table(summary) + "\n")
    report: dict = summaries[name] if len(summaries) == 1 else {"sets": summaries, "macro": evaluation.macro(summaries)}
    if len(summaries) > 1:
        typer.echo(f"macro average over {len(summaries)} sets")
        typer.echo(evaluation.format_table(report["macro"]))
    if json_out:
        json_out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def eval_askers(sets: list[Path], mode: str | None, url: str | None, scratch: Path):  # noqa: ANN201 - yields (name, questions, texts, names, ask)
    """For each set: its name, question file, document texts, file-name map and an ask function."""
    from service import evaluation
    from service.eval_corpora import open_sets, set_name
    from service.schemas import ask_out

    if url:
        texts, ask = remote_asker(url, mode)
        for path in sets:
            yield set_name(path), path, texts, {}, ask
        return
    from service.asking import Asker

    settings = settings_with(cache_size=0)
    for opened in index_or_exit(lambda s: list(open_sets(sets, s, scratch)), settings):
        asker = Asker(opened.retriever, settings)

        def ask(q: str, asker: Asker = asker) -> evaluation.Outcome:
            return evaluation.outcome_of(ask_out(asker.ask(q, k=10, mode=mode)).model_dump())

        yield opened.name, opened.questions, opened.retriever.backend.texts, opened.doc_names, ask


def remote_asker(url: str, mode: str | None):  # noqa: ANN201 - (texts, ask function)
    """Document texts and an ask function for a running server, through POST /v1/ask."""
    import httpx

    from service import evaluation

    client = httpx.Client(base_url=url, timeout=60)
    listing = client.get("/v1/documents")
    listing.raise_for_status()
    texts = {
        d["doc_id"]: client.get(f"/v1/documents/{d['doc_id']}/text").json()["text"]
        for d in listing.json()["documents"]
    }

    def ask(q: str) -> evaluation.Outcome:
        response = client.post("/v1/ask", json={"question": q, "top_k": 10, "mode": mode or "hybrid"})
        response.raise_for_status()
        return evaluation.outcome_of(response.json())

    return texts, ask


@app.command("compare")
def compare_runs(before: Path, after: Path) -> None:
    """Print the difference between two `govqa eval --json` files (after − before)."""
    from service import evaluation

    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    typer.echo(evaluation.compare_sets(a, b))


@app.command()
def mcp() -> None:
    """Serve govqa's MCP tools over stdin and stdout, for desktop chat clients."""
    from service.mcp_server import run_stdio

    index_or_exit(run_stdio, Settings())


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="bind address (default: GOVQA_HOST)")] = None,
    port: Annotated[Optional[int], typer.Option(help="port (default: GOVQA_PORT)")] = None,
    replicas: Annotated[Optional[int], typer.Option(
        min=1, help="serve through Ray Serve with this many replicas (the scale extra; see docs/scaling.md)",
    )] = None,
    ray_address: Annotated[Optional[str], typer.Option(
        help="with --replicas: an existing Ray cluster (default: a local one bound to 127.0.0.1)",
    )] = None,
    workers: Annotated[Optional[int], typer.Option(
        min=1, help="answering processes sharing the port (default: GOVQA_WORKERS)",
    )] = None,
) -> None:
    """Serve the HTTP API."""
    settings = settings_with(host=host, port=port, workers=workers)
    if replicas is not None or ray_address is not None:
        from service.replicas import serve_replicas

        serve_replicas(settings, replicas or 1, ray_address)
        return
    from service.serving import serve as serve_api

    serve_api(settings)


def main() -> None:
    """The `govqa` entry point: logging is configured here (index.bounded_logging), never by a library."""
    from index.bounded_logging import configure_process

    configure_process(log_level())
    app()


def log_level() -> str:
    """GOVQA_LOG_LEVEL, or INFO when the settings cannot be read (the command then says why)."""
    try:
        return Settings().log_level
    except Exception:  # noqa: BLE001 - a bad GOVQA_* value is reported by the command itself
        return "INFO"


if __name__ == "__main__":
    main()
