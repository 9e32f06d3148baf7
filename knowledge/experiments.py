"""Answer experiments: a trainer tries a second answer on a card, then keeps the one that did better.

While an experiment runs, the card's answer index carries the answer on trial (``knowledge.index``) and each
shopper sees A or B by a stable hash of the experiment and the shopper (``services.with_trial_answers``); the
answer log records which. The comparison (durable resolution, hand-off, conversion, with their intervals) is
the analytics app's value report; keeping the winner ends the experiment here, in one transaction.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AnswerExperiment, FAQCard
from .services import save_faq_card


@transaction.atomic
def start_experiment(card: FAQCard, answer_b: str, *, user=None, share_b: int = 50) -> AnswerExperiment:
    """Put ``answer_b`` on trial against the card's answer; one experiment per card at a time."""
    answer_b = (answer_b or "").strip()
    if card.shop_id is None:
        raise ValidationError({"card": _("Template cards answer no shopper: try answers on a shop's card.")})
    if not answer_b or answer_b == card.answer.strip():
        raise ValidationError({"answer_b": _("Give a second answer that differs from the card's.")})
    if AnswerExperiment.objects.select_for_update().filter(card=card, ended_at__isnull=True).exists():
        raise ValidationError({"card": _("This card already has an answer on trial.")})
    experiment = AnswerExperiment(shop_id=card.shop_id, card=card, answer_b=answer_b, share_b=share_b, started_by=user)
    experiment.full_clean()
    experiment.save()
    return experiment


@transaction.atomic
def keep_answer(experiment: AnswerExperiment, variant: str, *, user=None) -> AnswerExperiment:
    """End the experiment keeping answer A (the card stays as it is) or B (it becomes the card's answer)."""
    if variant not in AnswerExperiment.Variant.values:
        raise ValidationError({"kept": _("Keep answer A or answer B.")})
    experiment = AnswerExperiment.objects.select_for_update().select_related("card").get(pk=experiment.pk)
    if experiment.ended_at is not None:
        raise ValidationError({"kept": _("This experiment has already ended.")})
    if variant == AnswerExperiment.Variant.B:
        card = experiment.card
        save_faq_card(card.shop, card, {"answer": experiment.answer_b}, user=user)
    experiment.ended_at = timezone.now()
    experiment.kept = variant
    experiment.ended_by = user
    experiment.save(update_fields=["ended_at", "kept", "ended_by"])
    return experiment
