"""The language pack's word vectors, the command that derives them, and the ranker features that read them."""

import gzip
import io
import pickle

import numpy as np
import pytest
from django.core.management import call_command

from knowledge.features import FEATURES, QueryFacts, TextFacts, soft_features
from knowledge.ranker import CONFIDENCE_INPUTS, Ranker
from knowledge.wordvectors import (
    VECTORS_FILE,
    WordVectorsError,
    decode,
    encode,
    load_vectors,
    shipped_vectors,
    word_vector,
)

SOFT_Q, SOFT_D, MISSING = (FEATURES.index(name) - FEATURES.index("soft_q") for name in ("soft_q", "soft_d", "missing"))


def _cosine(a: str, b: str) -> float:
    return float(word_vector(a) @ word_vector(b))


def test_a_vector_file_reads_back_the_words_and_unit_rows_it_was_written_with():
    matrix = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]])
    vectors = decode(encode(["快递", "快件", "榴莲"], matrix, {"source": "test"}))
    assert vectors.rows == {"快递": 0, "快件": 1, "榴莲": 2}
    assert vectors.header["source"] == "test" and vectors.dims == 2
    np.testing.assert_allclose(vectors.matrix, [[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]], atol=0.01)
    np.testing.assert_allclose(np.linalg.norm(vectors.matrix, axis=1), 1.0, atol=1e-6)


def test_the_same_vectors_write_the_same_bytes():
    matrix = np.random.default_rng(1).normal(size=(5, 8))
    words = ["一", "二", "三", "四", "五"]
    assert encode(words, matrix, {}) == encode(words, matrix.copy(), {})


def test_a_file_that_is_not_a_vector_file_is_refused(tmp_path):
    path = tmp_path / "word_vectors.bin"
    path.write_bytes(gzip.compress(b'{"format": 99}\n'))
    with pytest.raises(WordVectorsError, match="format 99"):
        load_vectors(path)
    path.write_bytes(b"plain text")
    with pytest.raises(WordVectorsError, match="not a word vector file"):
        load_vectors(path)
    with pytest.raises(WordVectorsError, match="no such file"):
        load_vectors(tmp_path / "missing.bin")


def test_the_shipped_vectors_put_near_synonyms_closer_than_unrelated_words():
    assert len(shipped_vectors().rows) > 50_000 and VECTORS_FILE.stat().st_size < 4_000_000
    assert _cosine("快递", "快件") > 0.7 > _cosine("快递", "榴莲")
    assert _cosine("折扣", "优惠") > _cosine("折扣", "耳机")


def test_a_word_the_file_lacks_is_the_mean_of_the_known_words_inside_it():
    assert "运费险" not in shipped_vectors().rows
    assert _cosine("运费险", "运费") > 0.5
    assert not word_vector("qwzx").any()  # nothing inside it is known: no vector, no soft match


def _query(*words: str) -> QueryFacts:
    return QueryFacts.of("".join(words), list(words), {}, lambda text: frozenset())


def _text(words: tuple[str, ...], answer: tuple[str, ...] = ()) -> TextFacts:
    return TextFacts.of("".join(words), frozenset(words), frozenset(answer), lambda text: frozenset())


def test_a_near_synonym_counts_as_partly_found_and_an_unrelated_word_not_at_all():
    query = _query("快件", "丢")
    same, near, other = _text(("快件", "丢")), _text(("快递", "丢")), _text(("榴莲", "丢"))
    soft = soft_features(query, [same, near, other])
    assert soft[0, SOFT_Q] == pytest.approx(1.0, abs=1e-6)
    assert soft[0, SOFT_Q] > soft[1, SOFT_Q] > soft[2, SOFT_Q]
    assert soft[1, SOFT_D] > soft[2, SOFT_D]


def test_the_weightiest_query_word_neither_in_the_text_nor_in_the_answer_is_missing():
    query = _query("充电宝", "防水")
    soft = soft_features(query, [_text(("耳机", "防水")), _text(("耳机", "防水"), answer=("充电宝",))])
    assert soft[0, MISSING] == pytest.approx(1.0)  # 充电宝, the rarest word, is not there
    assert soft[1, MISSING] < 1.0  # the card's answer speaks of it


def test_texts_without_words_and_queries_without_words_get_zero_soft_match():
    soft = soft_features(_query("快递"), [_text(()), _text(("快递",))])
    assert soft[0, SOFT_Q] == 0.0 and soft[1, SOFT_Q] == pytest.approx(1.0, abs=1e-6)
    assert not soft_features(_query(), [_text(("快递",))]).any()


def test_the_confidence_reads_the_features_of_the_cards_best_text():
    size = len(FEATURES)
    weights = np.zeros(len(CONFIDENCE_INPUTS))
    weights[CONFIDENCE_INPUTS.index("missing")] = -5.0
    model = Ranker(np.zeros(size), np.ones(size), np.zeros(size), 0.0, weights, 0.0)
    features = np.zeros((2, size))
    features[1, FEATURES.index("missing")] = 1.0
    first, second = model.confidences(np.array([0.8, 0.8]), features)
    assert first == pytest.approx(0.5) and second < 0.01


def test_building_the_vectors_keeps_chinese_words_reduced_and_is_deterministic(tmp_path):
    rng = np.random.default_rng(7)
    words = ("快递", "快件", "abc", "榴莲", "一")
    lines = [" ".join([word, *(f"{v:.5f}" for v in rng.normal(size=6))]) for word in words]
    source = tmp_path / "test.model"
    buffer = io.BytesIO()
    pickle.dump((lines, {}, {}), buffer)
    source.write_bytes(gzip.compress(buffer.getvalue()))
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    call_command("build_word_vectors", str(source), "--dims", "3", "--output", str(first), stdout=io.StringIO())
    call_command("build_word_vectors", str(source), "--dims", "3", "--output", str(second), stdout=io.StringIO())
    assert first.read_bytes() == second.read_bytes()
    vectors = load_vectors(first)
    assert list(vectors.rows) == ["快递", "快件", "榴莲", "一"] and vectors.dims == 3
    assert vectors.header["source_sha256"]
