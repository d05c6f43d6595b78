("""Time a full index build (no reused vectors) of a corpus in a fresh process (imports and model load """
 """included) and report the index size.

    .venv/bin/python scripts/bench_build.py [--runs 3] [--corpus DIR]
""")

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_once(corpus: Path, index_dir: Path) -> float:
    govqa = Path(sys.executable).parent / "govqa"
    started = time.perf_counter()
    subprocess.run([str(govqa), "build", "--corpus", str(corpus), "--index-dir", str(index_dir)],
                   check=True, capture_output=True, env={**os.environ, "TQDM_DISABLE": "1"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times = [build_once(args.corpus, Path(tmp) / f"index-{run}") for run in range(args.runs)]
        index_dir = Path(tmp) / f"index-{args.runs - 1}"
        current = index_dir / "versions" / (index_dir / "CURRENT").read_text().strip()
        manifest = json.loads((current / "manifest.json").read_text())
        files = {p.name: p.stat().st_size for p in current.iterdir() if p.is_file()}
        print(f"corpus: {args.corpus} ({manifest['counts']['documents']} documents, "
              f"{sum(len(p.read_text(encoding='utf-8')) for p in args.corpus.glob('*.txt'))} characters)")
        print(f"chunks: {manifest['counts']['chunks']}, sentences: {manifest['counts']['sentences']}")
        print(f"full build, fresh process, model load included: median {statistics.median(times):.1f} s "
              f"(runs: {', '.join(f'{t:.1f}' for t in times)})")
        print(f"index size on disk: {directory_size(current) / 1e6:.2f} MB")
        for name, size in sorted(files.items(), key=lambda kv: -kv[1]):
            print(f"  {name:24s} {size / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
