"""kill -9 at ten points of an add and of a remove: each restart finds corpus, metadata and served index
in agreement (the change completed or rolled back from its journal), and adding or removing the same
document again behaves. The kills land on the change's durable steps: the n-th rename or unlink the
changing process makes (journal, document, metadata.json, staged version, CURRENT, pruning)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import HashEmbedder, glosses_prelude
from index import store
from index.build import build_index
from index.documents import load_corpus, load_metadata
from index.faiss_bm25 import load_index
from index.journal import JOURNAL_FILE
from index.updates import CorpusUpdater, DuplicateDocument, Upload
from servers import serve_process
from service.reloading import clean_leftovers
from service.settings import PROJECT_ROOT, Settings

TESTS = Path(__file__).resolve().parent
DOCUMENTS = {
    "a.txt": "第一份文件讨论了月球轨道上的算力共享协议。协议要求每季度公开一次能耗报告。",
    "b.txt": "第二份文件规定了火星基地的算法审计流程。审计员每年轮换一次。",
    "c.txt": "第三份文件介绍了木星卫星上的数据主权原则。每个殖民地自行保管其数据。",
    "d.txt": "第四份文件说明了金星浮空城的模型备案制度。备案信息每月更新。",
    "e.txt": "第五份文件总结了水星观测站的网络安全演练。演练每半年举行一次。",
}
NEW = [("new1.txt", "新增文件一规定，小行星带的自动驾驶采矿船必须保留人工接管通道。"),
       ("new2.txt", "新增文件二要求，土星环观测模型的训练数据来源必须向公众披露。"),
       ("new3.txt", "新增文件三提出，海王星通信中继的加密算法每两年评估一次。")]
CHANGE = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from helpers import HashEmbedder
from index.updates import CorpusUpdater, Upload

corpus, root, op, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
steps = [0]

def counted(call):
    def step(*args, **kwargs):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return call(*args, **kwargs)
    return step

os.replace, os.rename, os.unlink = counted(os.replace), counted(os.rename), counted(os.unlink)
updater = CorpusUpdater(corpus, root, HashEmbedder(), keep=2)
if op == "add":
    updater.add([Upload(data.encode(), name) for name, data in {new!r}])
else:
    updater.remove(sys.argv[5].split(","))
print(steps[0])
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small corpus and its index (built with the hash embedder: the kills are about files, not vectors)."""
    root = tmp_path_factory.mktemp("journal-template")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    records = [{"doc_id": Path(name).stem, "title": text[:8], "date": "2031-01-01"} for name, text in DOCUMENTS.items()]
    (corpus / "metadata.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    build_index(load_corpus(corpus), HashEmbedder(), root / "index")
    return root


PRELUDE = ""  # each changing process takes the session's CC-CEDICT gloss table (helpers.glosses_prelude)


@pytest.fixture(scope="module", autouse=True)
def changes_read_the_session_glosses(glosses: Path) -> None:
    global PRELUDE
    PRELUDE = glosses_prelude(glosses)


def fresh(template: Path, where: Path) -> tuple[Path, Path]:
    shutil.copytree(template, where)
    return where / "corpus", where / "index"


def change(
    corpus: Path, root: Path, op: str, kill_at: int, doc_ids: list[str] | None = None,
) -> subprocess.CompletedProcess:
    script = PRELUDE + CHANGE.format(tests=str(TESTS), new=NEW)
    command = [sys.executable, "-c", script, str(corpus), str(root), op, str(kill_at), ",".join(doc_ids or [])]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)


def restart(corpus: Path, root: Path) -> set[str]:
    """What a server does on start (clean leftovers, recover the journal, load and verify CURRENT), then
    check that corpus files, metadata.json and the served index agree; returns the served doc_ids."""
    clean_leftovers(Settings(corpus=corpus, index_dir=root))
    assert not (corpus / JOURNAL_FILE).exists()
    assert not [p.name for p in corpus.iterdir() if p.name.startswith(".")], "no temporary files left"
    backend = load_index(root, model_name=HashEmbedder.name, verify=True)
    on_disk = {d.doc_id: d.sha256 for d in load_corpus(corpus)}
    served = {doc_id: sha for doc_id, sha in store.read_manifest(store.current_dir(root))["corpus"].items()}
    assert on_disk == served, f"on disk {sorted(on_disk)}, served {sorted(served)}"
    assert set(backend.documents) == set(served)
    records = set(load_metadata(corpus))
    assert records <= set(on_disk), f"metadata records without a document: {records - set(on_disk)}"
    return set(served)


def steps_of(template: Path, where: Path, op: str, doc_ids: list[str] | None = None) -> int:
    corpus, root = fresh(template, where)
    done = change(corpus, root, op, 0, doc_ids)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def ten_points(steps: int) -> list[int]:
    """Ten kill points spread over a change's `steps` durable steps (1: before the first)."""
    return sorted({1 + round(i * (steps - 1) / 9) for i in range(10)})


def new_ids(template: Path) -> list[str]:
    from index.ingest import extract, new_doc_id

    return [new_doc_id(extract(data.encode(), name).text) for name, data in NEW]


def test_an_add_killed_at_ten_points_completes_or_rolls_back(template: Path, tmp_path: Path) -> None:
    before = {d.doc_id for d in load_corpus(template / "corpus")}
    added = set(new_ids(template))
    steps = steps_of(template, tmp_path / "count", "add")
    points = ten_points(steps)
    assert len(points) == 10, (steps, points)
    outcomes = []
    for point in points:
        corpus, root = fresh(template, tmp_path / f"add-{point}")
        killed = change(corpus, root, "add", point)
        assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
        served = restart(corpus, root)
        assert served in (before, before | added), (point, served)
        outcomes.append("completed" if served == before | added else "rolled back")
        updater = CorpusUpdater(corpus, root, HashEmbedder())
        uploads = [Upload(data.encode(), name) for name, data in NEW]
        if served == before:  # rolled back: the same files go in again, and exactly they are added
            result = updater.add(uploads)
            assert {m.doc_id for m in result.added} == added
        else:
            with pytest.raises(DuplicateDocument):
                updater.add(uploads)
        assert updater.remove(sorted(added)).removed == sorted(added)
        assert restart(corpus, root) == before
    print(f"add: {steps} steps, kills at {points}: {outcomes}")
    assert "completed" in outcomes and "rolled back" in outcomes


def test_a_remove_killed_at_ten_points_completes_or_rolls_back(template: Path, tmp_path: Path) -> None:
    documents = load_corpus(template / "corpus")
    before = {d.doc_id for d in documents}
    gone = [d.doc_id for d in documents[:3]]
    steps = steps_of(template, tmp_path / "count", "remove", gone)
    points = ten_points(steps)
    assert len(points) == 10, (steps, points)
    outcomes = []
    for point in points:
        corpus, root = fresh(template, tmp_path / f"remove-{point}")
        killed = change(corpus, root, "remove", point, gone)
        assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
        served = restart(corpus, root)
        assert served in (before, before - set(gone)), (point, served)
        outcomes.append("completed" if served == before - set(gone) else "rolled back")
        updater = CorpusUpdater(corpus, root, HashEmbedder())
        if served == before:  # rolled back: every file and record is back, byte for byte, and removing works
            for d in documents:
                assert (corpus / f"{d.doc_id}.txt").read_text(encoding="utf-8") == d.text
            assert (corpus / "metadata.json").read_bytes() == (template / "corpus" / "metadata.json").read_bytes()
            assert updater.remove(gone).removed == gone
        assert restart(corpus, root) == before - set(gone)
    print(f"remove: {steps} steps, kills at {points}: {outcomes}")
    assert "completed" in outcomes and "rolled back" in outcomes


KILL_BEFORE_PUBLISH = """
import os, signal, sys
from pathlib import Path
from index.updates import CorpusUpdater, Upload
from service.runtime import make_embedder
from service.settings import Settings

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # the staged version is complete: its rename would publish it

os.rename = killed
settings = Settings(corpus=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
CorpusUpdater(settings.corpus, settings.index_dir, make_embedder(settings)).add(\
[Upload(sys.argv[3].encode(), "stuck.txt")])
"""


@pytest.fixture()
def killed_mid_add(
    tmp_path: Path, settings: Settings, built_index: Path, glosses: Path,
) -> Iterator[tuple[Settings, str]]:
    shutil.copytree(settings.corpus, tmp_path / "corpus")
    shutil.copytree(built_index, tmp_path / "index")
    living = settings.model_copy(
        update={"corpus": tmp_path / "corpus", "index_dir": tmp_path / "index", "admin_key": "k", "reload_seconds": 0}
    )
    text = "谷神星议会讨论了小行星带的算力配额制度，并决定每年公布一次配额使用情况。"
    done = subprocess.run([sys.executable, "-c", glosses_prelude(glosses) + KILL_BEFORE_PUBLISH, str(living.corpus),
                           str(living.index_dir), text],
                          cwd=PROJECT_ROOT, capture_output=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr
    assert (living.corpus / JOURNAL_FILE).exists() and len(list(living.corpus.glob("doc_*.txt"))) == 1
    yield living, text


def test_a_server_started_after_a_killed_add_serves_what_is_on_disk_and_the_upload_works_again(
    killed_mid_add, tmp_path: Path,
) -> None:
    living, text = killed_mid_add
    for url, _ in serve_process(living, tmp_path / "server.log"):
        listed = {d["doc_id"] for d in httpx.get(f"{url}/v1/documents").json()["documents"]}
        on_disk = {d.doc_id for d in load_corpus(living.corpus)}
        assert listed == on_disk and len(listed) == 5
        auth = {"authorization": "Bearer k"}
        first = httpx.post(
            f"{url}/v1/documents", files={"file": ("stuck.txt", text.encode())}, headers=auth, timeout=300
        )
        assert first.status_code == 201, first.text
        assert len(first.json()["added"]) == 1
        again = httpx.post(
            f"{url}/v1/documents", files={"file": ("stuck.txt", text.encode())}, headers=auth, timeout=300
        )
        assert again.status_code == 409
        doc_id = first.json()["added"][0]["doc_id"]
        assert httpx.delete(f"{url}/v1/documents/{doc_id}", headers=auth, timeout=300).status_code == 200
        assert httpx.delete(f"{url}/v1/documents/{doc_id}", headers=auth, timeout=300).status_code == 404
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert any(
        "rolled back" in json.loads(line).get("message", "") for line in log.splitlines() if line.startswith("{")
    )
