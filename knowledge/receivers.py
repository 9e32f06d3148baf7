"""Any change the answer engine can see bumps the shop's knowledge stamp, inside the same transaction.

Bulk writes (``update()``, ``bulk_create``) send no signal: their callers bump themselves.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from core.caching import bump
from core.models import ChangeStamp

from .models import AnswerExperiment, DictionaryWord, FAQCard, SimilarQuestion, SwitchedOffPackEntry, SynonymGroup

KNOWLEDGE = ChangeStamp.Kind.KNOWLEDGE


@receiver([post_save, post_delete], sender=FAQCard)
def card_changed(sender, instance: FAQCard, **kwargs) -> None:
    if instance.shop_id is not None:
        bump(instance.shop_id, KNOWLEDGE)


@receiver(m2m_changed, sender=FAQCard.products.through)
def card_products_changed(sender, instance, action: str, **kwargs) -> None:
    if action.startswith("post_") and isinstance(instance, FAQCard) and instance.shop_id is not None:
        bump(instance.shop_id, KNOWLEDGE)


@receiver([post_save, post_delete], sender=SimilarQuestion)
def similar_question_changed(sender, instance: SimilarQuestion, **kwargs) -> None:
    shop_id = FAQCard.objects.filter(pk=instance.card_id).values_list("shop_id", flat=True).first()
    if shop_id is not None:
        bump(shop_id, KNOWLEDGE)


@receiver([post_save, post_delete], sender=SynonymGroup)
def synonyms_changed(sender, instance: SynonymGroup, **kwargs) -> None:
    bump(instance.shop_id, KNOWLEDGE)  # a global group (no shop): every shop's


@receiver([post_save, post_delete], sender=DictionaryWord)
def dictionary_changed(sender, instance: DictionaryWord, **kwargs) -> None:
    bump(instance.shop_id, KNOWLEDGE)


@receiver([post_save, post_delete], sender=SwitchedOffPackEntry)
def pack_entry_switched(sender, instance: SwitchedOffPackEntry, **kwargs) -> None:
    bump(instance.shop_id, KNOWLEDGE)


@receiver([post_save, post_delete], sender=AnswerExperiment)
def experiment_changed(sender, instance: AnswerExperiment, **kwargs) -> None:
    bump(instance.shop_id, KNOWLEDGE)  # the index carries each card's answer on trial
