"""A large card import never holds the database's write lock for long: every row is validated before the
first write, the writes are bulk statements in short transactions of bounded size, the knowledge stamp is
bumped once, and a file over the size limit is refused with nothing written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import ChangeStamp
from knowledge.models import FAQCard, SimilarQuestion
from knowledge.resources import import_cards_csv
from tests.factories import FAQCardFactory
from tests.test_knowledge_admin import _import_formats

pytestmark = pytest.mark.django_db
HEADER = "question,similar_questions,answer,category\n"
WRITES = ("INSERT", "UPDATE", "DELETE")


def cards_csv(count: int, start: int = 0) -> str:
    return HEADER + "".join(f"问题{n},问法{n}甲|问法{n}乙,答案{n},分类\n" for n in range(start, start + count))


def write_transactions(queries: list[dict]) -> list[list[str]]:
    """The write statements of each atomic block (a savepoint inside the test's transaction); a write
    outside any block fails the test."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for query in queries:
        sql = query["sql"]
        if sql.startswith("SAVEPOINT"):
            current = []
        elif sql.startswith("RELEASE SAVEPOINT"):
            blocks.append(current)
            current = None
        elif sql.startswith(WRITES):
            assert current is not None, f"a write outside a short transaction: {sql[:100]}"
            current.append(sql)
    return [block for block in blocks if block]


def rows_written(sql: str) -> int:
    if sql.startswith("UPDATE"):  # bulk_update: ... WHERE id IN (the batch's ids)
        return sql.rsplit(" IN (", 1)[1].count(",") + 1
    return sql.count("), (") + 1


def test_an_import_writes_in_short_transactions_of_at_most_the_batch_size(shop_a, settings):
    settings.KNOWLEDGE_IMPORT_BATCH_SIZE = 50
    for n in range(30):
        FAQCardFactory(shop=shop_a, question=f"问题{n}", answer="旧答案")
    with CaptureQueriesContext(connection) as captured:
        summary = import_cards_csv(shop_a, cards_csv(200))
    assert (summary.created, summary.updated) == (170, 30)
    blocks = write_transactions(captured.captured_queries)
    stamp = ChangeStamp._meta.db_table
    assert len(blocks) >= (170 + 30 + 400) // 50
    for block in blocks:
        assert len(block) == 1  # one bulk statement per transaction
        assert rows_written(block[0]) <= 50
    assert sum(stamp in block[0] for block in blocks) == 1  # the knowledge stamp, once, at the end
    assert stamp in blocks[-1][0]
    assert FAQCard.objects.filter(shop=shop_a).count() == 200 and SimilarQuestion.objects.count() == 400
    assert FAQCard.objects.get(shop=shop_a, question="问题7").answer == "答案7"


def test_a_bad_row_at_the_end_of_a_large_file_writes_nothing_at_all(shop_a, settings):
    settings.KNOWLEDGE_IMPORT_BATCH_SIZE = 50
    text = cards_csv(300) + "最后一行,,,分类\n"
    with CaptureQueriesContext(connection) as captured, pytest.raises(ValueError, match="line 302: answer"):
        import_cards_csv(shop_a, text)
    assert not [q["sql"] for q in captured.captured_queries if q["sql"].startswith(WRITES)]
    assert not FAQCard.objects.exists() and not SimilarQuestion.objects.exists()


def test_a_file_over_the_row_limit_is_refused_in_one_line_with_nothing_written(tmp_path, shop_a, settings):
    settings.KNOWLEDGE_IMPORT_MAX_ROWS = 100
    path = tmp_path / "cards.csv"
    path.write_text(cards_csv(101), encoding="utf-8")
    with pytest.raises(CommandError, match="more than the 100 an import takes; split the file") as error:
        call_command("import_cards", str(path), shop=shop_a.slug)
    assert "\n" not in str(error.value) and not FAQCard.objects.exists()
    path.write_text(cards_csv(100), encoding="utf-8")
    call_command("import_cards", str(path), shop=shop_a.slug)
    assert FAQCard.objects.count() == 100


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, shop_a, settings):
    settings.KNOWLEDGE_IMPORT_MAX_BYTES = 1000
    path = tmp_path / "cards.csv"
    path.write_text(cards_csv(40), encoding="utf-8")
    with pytest.raises(CommandError, match=r"bytes, more than the 1,000 an import takes; split the file"):
        call_command("import_cards", str(path), shop=shop_a.slug)
    assert not FAQCard.objects.exists()


def test_the_admin_import_page_shows_the_size_limits(client, trainer_a, shop_a, settings):
    settings.KNOWLEDGE_IMPORT_MAX_ROWS = 2
    client.force_login(trainer_a)
    upload = SimpleUploadedFile("cards.csv", cards_csv(3).encode(), content_type="text/csv")
    page = client.post(
        reverse("admin:knowledge_faqcard_import"),
        {"shop": shop_a.pk, "import_file": upload, "format": _import_formats(), "resource": "0"},
    )
    assert "3 rows, more than the 2 an import takes; split the file" in page.content.decode()
    settings.KNOWLEDGE_IMPORT_MAX_BYTES = 100
    upload = SimpleUploadedFile("cards.csv", cards_csv(3).encode(), content_type="text/csv")
    page = client.post(
        reverse("admin:knowledge_faqcard_import"),
        {"shop": shop_a.pk, "import_file": upload, "format": _import_formats(), "resource": "0"},
    )
    assert "more than the 100 an import takes; split the file" in page.content.decode()
    assert not FAQCard.objects.exists()
