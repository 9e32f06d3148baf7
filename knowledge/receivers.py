"""Any change the answer engine can see bumps the shop's knowledge version, inside the same transaction."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .index import bump_version
from .models import DictionaryWord, FAQCard, SimilarQuestion, SynonymGroup


@receiver([post_save, post_delete], sender=FAQCard)
def card_changed(sender, instance: FAQCard, **kwargs) -> None:
    if instance.shop_id is not None:
        bump_version(instance.shop_id)


@receiver(m2m_changed, sender=FAQCard.products.through)
def card_products_changed(sender, instance, action: str, **kwargs) -> None:
    if action.startswith("post_") and isinstance(instance, FAQCard) and instance.shop_id is not None:
        bump_version(instance.shop_id)


@receiver([post_save, post_delete], sender=SimilarQuestion)
def similar_question_changed(sender, instance: SimilarQuestion, **kwargs) -> None:
    shop_id = FAQCard.objects.filter(pk=instance.card_id).values_list("shop_id", flat=True).first()
    if shop_id is not None:
        bump_version(shop_id)


@receiver([post_save, post_delete], sender=SynonymGroup)
def synonyms_changed(sender, instance: SynonymGroup, **kwargs) -> None:
    bump_version(instance.shop_id)


@receiver([post_save, post_delete], sender=DictionaryWord)
def dictionary_changed(sender, instance: DictionaryWord, **kwargs) -> None:
    bump_version(instance.shop_id)
