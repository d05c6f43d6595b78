"""Fuzz `index.ingest.extract` with malformed files of every format for a bounded time.

Seeds are valid files made here (txt in several encodings, md, html, pdf, docx);
each input is a mutation of a seed (bit flips, truncation, splices, inserted
magic tokens, mutated zip entries, huge repeated lines) or pure random bytes.
Anything raised other than IngestError, or an input that takes longer than
--timeout seconds, is a failure: it is printed, the input is saved to a temp
directory, and the script exits 1 after printing a per-format table.

First, the hostile shapes of tests/hostile_files.py (a PDF that makes pypdf warn
from deep recursion, 1,999 pages sharing one content stream, a DOCX with forged
sizes, 1 MB of `好。`, a 19 MB line, and mutations of them) go through the bounded
extraction worker the server uses (index.extraction, --timeout as its wall-clock
limit): each must be refused within the limit (plus 2 s), with the worker's peak
memory and the log it wrote reported.

    .venv/bin/python scripts/fuzz_ingest.py --seconds 60 --seed 0
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import hostile_files  # noqa: E402 - tests/hostile_files.py, shared with the tests
from index.extraction import ExtractionLimits, extract_isolated  # noqa: E402
from index.ingest import IngestError, extract  # noqa: E402

FORMATS = ("txt", "md", "html", "pdf", "docx")
TEXT = (
    "第一章 总则\n\n人工智能治理已经成为国际社会关注的焦点问题。各国政府纷纷出台相关政策法规。\n\n"
    "一、监管框架\n\n欧盟通过了人工智能法案（AI Act），建立了基于风险的分级监管体系。\n"
)
MAGIC = [b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"<", b">", b"</p>", b"<!--", b"<script>", b"&#0;",
         b"&#xD800;", b"obj", b"endobj", b"stream", b"/Length 99999999", b"-1", b"99999999999999999999", b"<<", b">>",
         b"/Type /Page", b"xref", b"trailer", b"\r", b"\n" * 1000, b"PK\x03\x04", b"%", b"\\", b"(", b")"]


class Hang(BaseException):
    """Raised by the alarm when one input takes too long (a BaseException so parsers cannot swallow it)."""


@dataclass
class Tally:
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: int = 0
    slowest: float = 0.0


def seeds() -> dict[str, list[bytes]]:
    """Valid files of every format, made here."""
    page = (f"<html><head><meta charset='utf-8'><title>标题</title><meta name='author' content='甲'></head><body>"
            f"<nav>菜单</nav><article><h1>人工智能治理</h1><p>{TEXT.replace(chr(10), '</p><p>')}</p></article>"
            f"<footer>版权</footer></body></html>")
    return {
        "txt": [TEXT.encode("utf-8"), TEXT.encode("gbk"), TEXT.encode("utf-16"), TEXT.encode("utf-8-sig")],
        "md": [("# 标题\n\n" + TEXT).encode("utf-8")],
        "html": [page.encode("utf-8"), page.replace("utf-8", "gbk").encode("gbk")],
        "pdf": [make_pdf(compress=False), make_pdf(compress=True)],
        "docx": [make_docx()],
    }


def make_pdf(compress: bool) -> bytes:
    """A two-page PDF with info metadata (Latin text: no font file needed)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(compress)
    pdf.set_font("helvetica", size=12)
    pdf.set_title("Fuzz seed")
    pdf.set_author("Fuzzer")
    for text in ("First page about AI governance.", "Second page about oversight."):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_docx() -> bytes:
    """A DOCX with headings, paragraphs, a table and core properties."""
    import docx

    document = docx.Document()
    document.add_heading("人工智能治理", level=1)
    document.add_paragraph("人工智能治理已经成为国际社会关注的焦点问题。")
    document.add_heading("监管框架", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(1, 1).text = "欧盟", "法案"
    document.core_properties.title = "种子"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- mutations ------------------------------------------------------------------


def bit_flips(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 32)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def random_bytes_in(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if rng.random() < 0.7 else data[rng.randrange(len(data) + 1):]


def splice(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    other = rng.choice(pool)
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


def insert_magic(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    out = data
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice(MAGIC) + out[at + rng.choice((0, 0, 1, 4)):]
    return out


def duplicate_chunk(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    start = rng.randrange(len(data) + 1)
    chunk = data[start:start + rng.randint(1, 2000)]
    return data[:start] + chunk * rng.randint(2, 50) + data[start:]


def huge_line(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    line = rng.choice([b"A", "人".encode(), b"<p>", b"x ", b"\t", b"0"]) * rng.randint(100_000, 3_000_000)
    if rng.random() < 0.5:
        line = (rng.choice([b"line of text ", "一行中文。".encode()]) + b"\n") * rng.randint(10_000, 200_000)
    at = rng.randrange(len(data) + 1)
    return data[:at] + line + data[at:]


def pure_random(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    return rng.randbytes(rng.choice([0, 1, 7, 64, 512, 4096, 65536]))


def zip_entry(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """Mutate one entry of a zip (a DOCX's XML parts) and re-zip, so the damage reaches the parser."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = {info.filename: archive.read(info) for info in archive.infolist()}
    except Exception:  # noqa: BLE001 - not a zip (any more): mutate the bytes instead
        return bit_flips(rng, data, pool)
    name = rng.choice(sorted(entries))
    mutate = rng.choice([bit_flips, random_bytes_in, truncate, insert_magic, duplicate_chunk, drop_entry])
    if mutate is drop_entry:
        entries.pop(name)
    else:
        entries[name] = mutate(rng, entries[name], pool)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry_name, content in entries.items():
            archive.writestr(entry_name, content)
    return buffer.getvalue()


def drop_entry(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    return data  # marker: zip_entry removes the chosen entry


MUTATIONS: list[Callable[[random.Random, bytes, list[bytes]], bytes]] = [
    bit_flips, random_bytes_in, truncate, splice, insert_magic, duplicate_chunk, huge_line, pure_random,
]


def mutate(rng: random.Random, fmt: str, pool: dict[str, list[bytes]]) -> bytes:
    """One fuzz input for a format."""
    everything = [seed for seeds_of in pool.values() for seed in seeds_of]
    choices = MUTATIONS + ([zip_entry] * 4 if fmt == "docx" else [])
    data = rng.choice(pool[fmt])
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = rng.choice(choices)
        if op is huge_line and len(data) > 4_000_000:
            continue
        data = op(rng, data, everything)
    return data


# -- the run --------------------------------------------------------------------


def on_alarm(signum, frame) -> None:
    raise Hang()


def run_one(data: bytes, name: str, timeout: float) -> tuple[str, float, str | None]:
    """Outcome ('accepted', 'refused', 'crash'), seconds taken and a traceback for crashes."""
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        got = extract(data, name)
        if not got.text.strip() or "\r" in got.text or "\x00" in got.text:
            raise AssertionError(f"extract returned a text that breaks its contract: {got.text[:80]!r}")
        outcome, detail = "accepted", None
    except IngestError:
        outcome, detail = "refused", None
    except Hang:
        outcome, detail = "crash", f"took longer than {timeout} s"
    except Exception:  # noqa: BLE001 - that is what we are looking for
        outcome, detail = "crash", traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcome, time.monotonic() - start, detail


def save_crash(directory: Path, count: int, fmt: str, data: bytes, detail: str) -> Path:
    path = directory / f"crash_{count:03d}.{fmt}"
    path.write_bytes(data)
    print(f"\nCRASH ({fmt}, {len(data)} bytes) saved to {path}\n{detail}", flush=True)
    return path


def print_table(tallies: dict[str, Tally], seconds: float) -> None:
    print(f"\nfuzzed for {seconds:.0f} s")
    print(f"{'format':<7} {'tried':>7} {'accepted':>9} {'refused':>8} {'crashes':>8} {'slowest s':>10}")
    for fmt, t in tallies.items():
        print(f"{fmt:<7} {t.tried:>7} {t.accepted:>9} {t.refused:>8} {t.crashes:>8} {t.slowest:>10.2f}")
    total = Tally(*(sum(getattr(t, f) for t in tallies.values()) for f in ("tried", "accepted", "refused", "crashes")))
    print(f"{'all':<7} {total.tried:>7} {total.accepted:>9} {total.refused:>8} {total.crashes:>8}")


def hostile_shapes(rng: random.Random) -> list[tuple[str, bytes]]:
    """The attacks that once cost minutes, gigabytes or gigabytes of log, and a mutation of each."""
    shapes = [
        ("deep.pdf", hostile_files.deeply_nested_pdf(50_000)),
        ("shared.pdf", hostile_files.shared_stream_pdf(1999, 256 * 1024)),
        ("forged.docx", hostile_files.forged_size_docx(1 << 30, 1000)),
        ("flood.txt", hostile_files.sentence_flood(1 << 20)),
        ("line.txt", hostile_files.endless_line(19 << 20)),
    ]
    mutated = [
        (f"mutated-{name}", rng.choice([insert_magic, duplicate_chunk, bit_flips])(rng, data[:2_000_000], [data]))
        for name, data in shapes if not name.endswith(".docx")
    ]
    return shapes + mutated


def run_hostile(rng: random.Random, timeout: float) -> int:
    """Each hostile shape through the bounded worker; returns the number that were not refused in time."""
    import resource

    limits = ExtractionLimits(wall_seconds=timeout, cpu_seconds=max(1, int(timeout)))
    failures = 0
    print(f"{'hostile shape':<24} {'bytes':>10} {'outcome':<9} {'seconds':>8} {'workers peak RSS MB':>19}  reason")
    for name, data in hostile_shapes(rng):
        started = time.monotonic()
        try:
            extract_isolated(data, name, limits)
            outcome, reason = "accepted", ""
        except IngestError as exc:
            outcome, reason = "refused", str(exc)[:90]
        took = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        bad = took > timeout + 2 or (outcome == "accepted" and not name.startswith("mutated"))
        failures += bad
        print(f"{name:<24} {len(data):>10} {outcome:<9} {took:>8.2f} {peak:>19.0f}  "
              f"{reason}{'  <- FAILURE' if bad else ''}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz in total")
    parser.add_argument("--seed", type=int, default=0, help="random seed, for a reproducible run")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds one input may take before it counts as a hang")
    parser.add_argument("--max-crashes", type=int, default=20, help="stop early after this many failures")
    parser.add_argument("--no-hostile", action="store_true",
                        help="skip the hostile shapes run through the bounded worker")
    args = parser.parse_args(argv)
    hostile_failures = 0 if args.no_hostile else run_hostile(random.Random(args.seed), args.timeout)
    logging.disable(logging.CRITICAL)  # pypdf and trafilatura log every broken input
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, on_alarm)
    rng = random.Random(args.seed)
    pool = seeds()
    tallies = {fmt: Tally() for fmt in FORMATS}
    crash_dir: Path | None = None
    crashes = 0
    started = time.monotonic()
    deadline = started + args.seconds
    while time.monotonic() < deadline and crashes < args.max_crashes:
        fmt = FORMATS[tallies_tried(tallies) % len(FORMATS)]
        data = mutate(rng, fmt, pool) if rng.random() < 0.9 else rng.randbytes(rng.randrange(1, 8192))
        outcome, took, detail = run_one(data, f"fuzz.{fmt}", args.timeout)
        tally = tallies[fmt]
        tally.tried += 1
        tally.slowest = max(tally.slowest, took)
        if outcome == "accepted":
            tally.accepted += 1
        elif outcome == "refused":
            tally.refused += 1
        else:
            tally.crashes += 1
            crashes += 1
            crash_dir = crash_dir or Path(tempfile.mkdtemp(prefix="fuzz_ingest_"))
            save_crash(crash_dir, crashes, fmt, data, detail or "")
    print_table(tallies, time.monotonic() - started)
    if crashes:
        print(f"\n{crashes} failure(s); inputs saved in {crash_dir}")
    if hostile_failures:
        print(f"\n{hostile_failures} hostile shape(s) not refused within the limit")
    return 1 if crashes or hostile_failures else 0


def tallies_tried(tallies: dict[str, Tally]) -> int:
    return sum(t.tried for t in tallies.values())


if __name__ == "__main__":
    sys.exit(main())
