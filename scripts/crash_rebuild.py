"""Kill rebuilds at random points and check that what is left always serves.

Each round starts `govqa build --force` or `govqa add` (alternating) on copies of the corpus and
of the built index, kills it with SIGKILL after a random delay, then starts as the server does:
removes leftovers, loads and verifies CURRENT, reads the corpus, and answers a known question
with the real model. Exits 1 on the first round that does not.

    .venv/bin/python scripts/crash_rebuild.py --kills 200
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store  # noqa: E402
from index.documents import load_corpus  # noqa: E402
from index.faiss_bm25 import load_index  # noqa: E402
from service.pipeline import search  # noqa: E402
from service.reloading import clean_leftovers  # noqa: E402
from service.retrieval import Retriever  # noqa: E402
from service.runtime import make_embedder  # noqa: E402
from service.settings import Settings  # noqa: E402


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def main(
    kills: int = typer.Option(100, min=1), seed: int = typer.Option(None, help="random seed (default: a new one)")
) -> None:
    settings = Settings()
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    embedder = make_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="govqa-crash-") as tmp:
        work = Path(tmp)
        shutil.copytree(settings.corpus, work / "corpus")
        shutil.copytree(settings.index_dir, work / "index")
        living = settings.model_copy(update={"corpus": work / "corpus", "index_dir": work / "index"})
        env = {**os.environ, "GOVQA_CORPUS": str(living.corpus), "GOVQA_INDEX_DIR": str(living.index_dir)}
        govqa = str(ROOT / ".venv" / "bin" / "govqa")
        build = [govqa, "build", "--force"]
        durations = {"build": timed(build, env)}
        (work / "probe.md").write_text("# 探针\n\n探针文件用于测量加入一篇文档所需的时间。\n", encoding="utf-8")
        durations["add"] = timed([govqa, "add", str(work / "probe.md")], env)
        outcomes: Counter[str] = Counter()
        for round_ in range(kills):
            kind = "build" if round_ % 2 == 0 else "add"
            source = work / f"new-{round_}.md"
            source.write_text(f"# 第{round_}号文件\n\n第{round_}号文件记录了一次被中断的加入。\n", encoding="utf-8")
            command = build if kind == "build" else [govqa, "add", str(source)]
            before = store.current_version(living.index_dir)
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 1.2 * durations[kind]))
            process.kill()
            process.wait()
            outcomes[
                f"{kind}: killed mid-write" if any((living.index_dir / "versions").glob(".tmp-*")) else f"{kind}: other"
            ] += 1
            problem = check(living, embedder)
            if problem:
                print(f"round {round_} ({kind}, seed {seed}): {problem}")
                raise typer.Exit(1)
            outcomes[
                f"{kind}: new version served" if store.current_version(living.index_dir) != before
                else f"{kind}: old version served"
            ] += 1
    print(f"seed {seed}; uninterrupted build {durations['build']:.1f} s, add {durations['add']:.1f} s")
    for name, count in sorted(outcomes.items()):
        print(f"{name:32s} {count:5d}")
    print(f"{kills} kills, 0 failures")


def check(settings: Settings, embedder) -> str | None:  # noqa: ANN001
    """What is wrong with starting on what a killed rebuild left, or None."""
    try:
        clean_leftovers(settings)
        if list((settings.index_dir / "versions").glob(".tmp-*")):
            return "an unfinished build was left behind"
        load_corpus(settings.corpus)
        backend = load_index(settings.index_dir, model_name=settings.model, verify=True)
        passages = search(Retriever(backend, embedder, settings), "首尔峰会的主题是什么", 1)
        return (
            None if passages and passages[0].doc_id == "000_4a4f11ac61068251" else "the known question is not answered"
        )
    except Exception as exc:  # any failure to start is the finding
        return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    typer.run(main)
