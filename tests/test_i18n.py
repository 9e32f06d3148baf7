"""The admin speaks Simplified Chinese by default and English on request; the catalog is complete and compiled."""

import ast
import gettext
import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import FAQCardFactory, ShopFactory, UserFactory

CATALOG_DIR = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
ENTRY_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')


def read_po_entries(path) -> list[dict]:
    """Each entry of a .po file as {"flags": [...], "msgid": ..., "msgstr": ...} (header included)."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": []}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif match := ENTRY_LINE.match(line):
                field = match.group(1)
                entry[field] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and field:
                entry[field] += ast.literal_eval(line)
        entries.append(entry)
    return entries


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


@pytest.fixture
def card(db):
    return FAQCardFactory(shop=ShopFactory(name="店铺C", slug="shop-c"), question="什么时候发货")


def test_the_admin_index_is_in_simplified_chinese_by_default(superuser_client):
    page = superuser_client.get(reverse("admin:index")).content.decode()

    assert 'lang="zh-hans"' in page
    for chinese in ["问答卡片", "未解决问题", "店铺、知识库、在线聊天、营销与数据分析", "质检规则", "优惠券"]:
        assert chinese in page
    assert "FAQ cards" not in page
    assert "Unanswered questions" not in page


def test_the_faq_card_pages_are_in_simplified_chinese_by_default(superuser_client, card):
    changelist = superuser_client.get(reverse("admin:knowledge_faqcard_changelist")).content.decode()
    change = superuser_client.get(reverse("admin:knowledge_faqcard_change", args=[card.pk])).content.decode()

    assert "什么时候发货" in changelist
    assert "标准问题" in changelist and "命中次数" in changelist
    assert "Standard question" not in changelist
    assert "富媒体内容" in change and "有效期" in change and "相似问法" in change
    assert "Rich parts" not in change


def test_the_language_cookie_switches_the_admin_to_english(superuser_client, card):
    superuser_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    index = superuser_client.get(reverse("admin:index")).content.decode()
    changelist = superuser_client.get(reverse("admin:knowledge_faqcard_changelist")).content.decode()

    assert 'lang="en"' in index
    assert "FAQ cards" in index and "Shops, knowledge, chat, marketing and analytics" in index
    assert "问答卡片" not in index
    assert "Standard question" in changelist and "Hits" in changelist
    assert "标准问题" not in changelist


def test_the_set_language_view_switches_the_admin_to_english(superuser_client, card):
    response = superuser_client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert response.status_code == 302

    change = superuser_client.get(reverse("admin:knowledge_faqcard_change", args=[card.pk])).content.decode()

    assert "Rich parts" in change and "Validity" in change and "Similar questions" in change
    assert "富媒体内容" not in change


def test_every_message_in_the_chinese_catalog_is_translated_and_not_fuzzy():
    header, *entries = read_po_entries(CATALOG_DIR / "django.po")

    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not e.get("msgstr", e.get("msgstr[0]"))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    assert "fuzzy" not in header["flags"]


def test_the_committed_mo_file_matches_the_po_file():
    _, *entries = read_po_entries(CATALOG_DIR / "django.po")
    with open(CATALOG_DIR / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    stale = []
    for entry in entries:
        if "msgid_plural" in entry:
            found = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            expected = entry["msgstr[0]"]
        elif "msgctxt" in entry:
            found = compiled.pgettext(entry["msgctxt"], entry["msgid"])
            expected = entry["msgstr"]
        else:
            found = compiled.gettext(entry["msgid"])
            expected = entry["msgstr"]
        if found != expected:
            stale.append(entry["msgid"])
    assert stale == []
