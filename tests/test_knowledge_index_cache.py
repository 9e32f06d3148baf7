"""The per-process index is rebuilt when the shop's knowledge changes, here or in another process."""

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from core.caching import bump, read_stamp
from core.models import ChangeStamp
from knowledge.models import SimilarQuestion
from knowledge.services import answer_question, shop_index
from tests.factories import FAQCardFactory, SynonymGroupFactory
from tests.stamps import bumped_by_another_process

KNOWLEDGE = ChangeStamp.Kind.KNOWLEDGE

pytestmark = pytest.mark.django_db


def test_the_index_is_cached_until_the_shops_knowledge_changes(shop_a):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通")
    first = shop_index(shop_a)
    assert shop_index(shop_a) is first
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以")
    assert shop_index(shop_a) is not first


def test_editing_a_card_is_seen_by_the_next_answer(shop_a):
    card = FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通")
    assert answer_question(shop_a, "发什么快递", record=False).text == "默认发中通"
    card.answer = "默认发顺丰"
    card.save()
    assert answer_question(shop_a, "发什么快递", record=False).text == "默认发顺丰"


def test_a_new_similar_question_and_a_new_synonym_are_picked_up(shop_a):
    card = FAQCardFactory(shop=shop_a, question="支持七天无理由退货吗", answer="支持")
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通")
    SimilarQuestion.objects.create(card=card, text="不合适能退吗")
    assert answer_question(shop_a, "不合适能退吗", record=False).card_id == card.pk
    # 托运 is in no language pack group: only the shop's own group makes it mean 快递.
    before = answer_question(shop_a, "用的哪个托运", record=False).score
    SynonymGroupFactory(shop=shop_a, canonical="快递", words="托运")
    assert answer_question(shop_a, "用的哪个托运", record=False).score > before


def test_a_change_made_by_another_process_is_seen_within_a_second_of_its_version_bump(shop_a):
    card = FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert answer_question(shop_a, "发什么快递", record=False).text == "默认发中通"
        # Another worker process writes the card: this process's signals never see it, only the database does.
        type(card).objects.filter(pk=card.pk).update(answer="默认发顺丰")
        bumped_by_another_process(shop_a.pk, KNOWLEDGE)
        clock.shift(0.5)
        assert answer_question(shop_a, "发什么快递", record=False).text == "默认发中通"  # stamp not re-read yet
        clock.shift(settings.SHOP_CACHE_RECHECK_SECONDS)
        assert answer_question(shop_a, "发什么快递", record=False).text == "默认发顺丰"


def test_without_a_version_bump_the_index_is_kept_however_long(shop_a):
    card = FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        index = shop_index(shop_a)
        type(card).objects.filter(pk=card.pk).update(answer="默认发顺丰")  # no bump: nobody says it changed
        clock.shift(3600)
        assert shop_index(shop_a) is index


def test_a_shops_change_does_not_rebuild_another_shops_index(shop_a, shop_b):
    FAQCardFactory(shop=shop_a, question="发什么快递", answer="中通")
    FAQCardFactory(shop=shop_b, question="发什么快递", answer="顺丰")
    index_b = shop_index(shop_b)
    FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以")
    assert shop_index(shop_b) is index_b


def test_a_global_synonym_change_moves_every_shops_version(shop_a, shop_b):
    bump(shop_a.pk, KNOWLEDGE)
    bump(shop_b.pk, KNOWLEDGE)
    before = {shop.pk: read_stamp(shop.pk, KNOWLEDGE) for shop in (shop_a, shop_b)}
    SynonymGroupFactory(shop=None, canonical="发票", words="开票")
    after = {shop.pk: read_stamp(shop.pk, KNOWLEDGE) for shop in (shop_a, shop_b)}
    assert all(after[shop_id] != stamp for shop_id, stamp in before.items())
