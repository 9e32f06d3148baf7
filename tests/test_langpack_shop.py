"""The language pack per shop: trainers switch entries off in the admin, the shop's engine follows, others don't."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from knowledge.langpack import language_pack
from knowledge.models import SwitchedOffPackEntry
from knowledge.services import shop_index
from knowledge.shop_pack import EntryKind, EntryStatus, shop_pack_entries, switch_pack_entry
from shops.models import Membership
from tests.conftest import staff_of
from tests.factories import SynonymGroupFactory

pytestmark = pytest.mark.django_db
PACK_PAGE = reverse("admin:knowledge_language_pack")


def _status(shop, kind, entry_id):
    return next(row for row in shop_pack_entries(shop, kind) if row.id == entry_id)


def test_a_switched_off_synonym_group_stops_mapping_in_that_shop_only(shop_a, shop_b):
    assert shop_index(shop_a).analyzer.tokens("揽收") == ["发货"]
    assert switch_pack_entry(shop_a, "syn:发货", on=False) is True
    assert shop_index(shop_a).analyzer.tokens("揽收") == ["揽收"]
    assert shop_index(shop_b).analyzer.tokens("揽收") == ["发货"]
    assert _status(shop_a, EntryKind.SYNONYMS, "syn:发货").status == EntryStatus.OFF
    assert _status(shop_b, EntryKind.SYNONYMS, "syn:发货").status == EntryStatus.ON


def test_switching_an_entry_back_on_restores_it_and_switching_twice_changes_nothing(shop_a):
    switch_pack_entry(shop_a, "syn:发货", on=False)
    assert switch_pack_entry(shop_a, "syn:发货", on=False) is False
    assert switch_pack_entry(shop_a, "syn:发货", on=True) is True
    assert switch_pack_entry(shop_a, "syn:发货", on=True) is False
    assert shop_index(shop_a).analyzer.tokens("揽收") == ["发货"]
    assert not SwitchedOffPackEntry.objects.exists()


def test_a_switched_off_region_and_the_places_under_it_lose_their_class(shop_a):
    assert "偏远地区" in shop_index(shop_a).analyzer.tokens("乌鲁木齐包邮吗")
    switch_pack_entry(shop_a, "region:新疆", on=False)
    tokens = shop_index(shop_a).analyzer.tokens("乌鲁木齐包邮吗")
    assert "偏远地区" not in tokens and "包邮" in tokens
    assert "偏远地区" in shop_index(shop_a).analyzer.tokens("拉萨包邮吗")  # 西藏 is still remote


def test_a_switched_off_abbreviation_is_no_longer_expanded(shop_a):
    assert "公斤" in shop_index(shop_a).analyzer.tokens("kg")
    switch_pack_entry(shop_a, "abbr:unit:kg", on=False)
    assert shop_index(shop_a).analyzer.tokens("kg") == ["kg"]


def test_the_shops_own_synonym_group_replaces_the_pack_group_and_the_page_says_so(shop_a, shop_b):
    SynonymGroupFactory(shop=shop_a, canonical="揽收", words="上门取件")
    assert shop_index(shop_a).analyzer.tokens("上门取件") == ["揽收"]
    row = _status(shop_a, EntryKind.SYNONYMS, "syn:发货")
    assert row.status == EntryStatus.OVERRIDDEN and row.replaced_by == "揽收"
    assert _status(shop_b, EntryKind.SYNONYMS, "syn:发货").status == EntryStatus.ON


def test_a_global_synonym_group_replaces_the_pack_group_for_every_shop(shop_a):
    SynonymGroupFactory(shop=None, canonical="揽收", words="上门取件")
    row = _status(shop_a, EntryKind.SYNONYMS, "syn:发货")
    assert row.status == EntryStatus.OVERRIDDEN and "揽收" in row.replaced_by


def test_question_types_knowledge_points_and_unknown_ids_cannot_be_switched_off(shop_a):
    with pytest.raises(ValidationError, match="问句类型和知识点不能关闭"):
        switch_pack_entry(shop_a, "qt:when", on=False)
    point = language_pack().points[0].id
    with pytest.raises(ValidationError, match="问句类型和知识点不能关闭"):
        switch_pack_entry(shop_a, point, on=False)
    assert _status(shop_a, EntryKind.POINTS, point).switchable is False
    with pytest.raises(ValidationError, match="没有条目"):
        switch_pack_entry(shop_a, "syn:没有这个词", on=False)
    assert _status(shop_a, EntryKind.QUESTION_TYPES, "qt:when").switchable is False
    assert not SwitchedOffPackEntry.objects.exists()


def test_the_pack_page_filters_by_word_and_lists_each_kind(shop_a):
    rows = shop_pack_entries(shop_a, EntryKind.SYNONYMS, "揽收")
    assert [row.id for row in rows] == ["syn:发货"]
    assert len(shop_pack_entries(shop_a, EntryKind.REGIONS)) > 300
    assert any(row.title == "kg" for row in shop_pack_entries(shop_a, EntryKind.ABBREVIATIONS))


def test_a_trainer_switches_an_entry_off_on_the_pack_page(client, trainer_a, shop_a):
    client.force_login(trainer_a)
    page = client.get(PACK_PAGE, {"shop": shop_a.pk, "kind": "syn", "q": "揽收"}).content.decode()
    assert "syn:发货" in page and "关闭" in page
    switch = {"shop": shop_a.pk, "entry_id": "syn:发货", "on": "0"}
    response = client.post(f"{PACK_PAGE}?shop={shop_a.pk}&q=揽收", switch)
    assert response.status_code == 302
    entry = SwitchedOffPackEntry.objects.get()
    assert (entry.shop, entry.entry_id, entry.switched_off_by) == (shop_a, "syn:发货", trainer_a)
    page = client.get(PACK_PAGE, {"shop": shop_a.pk, "q": "揽收"}).content.decode()
    assert "本店已关闭" in page
    assert "syn:发货" in client.get(reverse("admin:knowledge_switchedoffpackentry_changelist")).content.decode()


def test_another_shops_pack_is_neither_shown_nor_switched(client, trainer_a, shop_a, shop_b):
    client.force_login(trainer_a)
    SwitchedOffPackEntry.objects.create(shop=shop_b, entry_id="syn:退款")
    page = client.get(PACK_PAGE, {"shop": shop_b.pk}).content.decode()
    assert "syn:发货" not in page  # the form refuses the shop: no entries
    response = client.post(PACK_PAGE, {"shop": shop_b.pk, "entry_id": "syn:发货", "on": "0"})
    assert response.status_code == 400
    response = client.post(PACK_PAGE, {"shop": shop_b.pk, "entry_id": "syn:退款", "on": "1"})
    assert response.status_code == 400
    assert list(SwitchedOffPackEntry.objects.values_list("shop", "entry_id")) == [(shop_b.pk, "syn:退款")]
    changelist = client.get(reverse("admin:knowledge_switchedoffpackentry_changelist")).content.decode()
    assert "syn:退款" not in changelist
    entry = SwitchedOffPackEntry.objects.get()
    assert client.get(reverse("admin:knowledge_switchedoffpackentry_change", args=[entry.pk])).status_code == 404


def test_an_agent_reads_the_pack_page_but_cannot_switch(client, shop_a):
    agent = staff_of(shop_a, Membership.Role.AGENT, "agent-pack")
    client.force_login(agent)
    page = client.get(PACK_PAGE, {"shop": shop_a.pk, "q": "揽收"}).content.decode()
    assert "syn:发货" in page and 'name="on"' not in page
    response = client.post(PACK_PAGE, {"shop": shop_a.pk, "entry_id": "syn:发货", "on": "0"})
    assert response.status_code == 400
    assert not SwitchedOffPackEntry.objects.exists()


def test_a_bad_entry_id_is_a_400_with_a_readable_message(client, trainer_a, shop_a):
    client.force_login(trainer_a)
    response = client.post(PACK_PAGE, {"shop": shop_a.pk, "entry_id": "qt:when", "on": "0"})
    assert response.status_code == 400
    assert "问句类型和知识点不能关闭" in response.content.decode()


def test_a_switched_off_broader_word_entry_no_longer_adds_its_broader_word(shop_a):
    entry = next(row for row in shop_pack_entries(shop_a, EntryKind.BROADER) if row.title == "坚果")
    assert "坚果" in shop_index(shop_a).analyzer.tokens("夏威夷果")
    switch_pack_entry(shop_a, entry.id, on=False)
    assert "坚果" not in shop_index(shop_a).analyzer.tokens("夏威夷果")
